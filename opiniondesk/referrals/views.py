"""The coordinator's pages: upload an eReferral file, see what was read, confirm.

Uploading reads and checks the file and keeps it for an hour for the one who uploaded it;
nothing is written to a case until they confirm. Every page that shows what the file says is
recorded in the audit log and never cached.
"""

import uuid

from django.contrib import messages
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from opiniondesk.accounts.models import Role
from opiniondesk.accounts.permissions import role_required
from opiniondesk.audit.models import AuditAction
from opiniondesk.audit.services import audit_read, audit_record
from opiniondesk.cases.access import case_for_request
from opiniondesk.cases.models import Case
from opiniondesk.cases.workflow import OPEN_STATES
from opiniondesk.referrals import services
from opiniondesk.referrals.ereferral import MAX_BYTES, Code, InvalidReferral, Problem, read_referral
from opiniondesk.referrals.errors import ReferralError
from opiniondesk.referrals.forms import ReferralUploadForm
from opiniondesk.referrals.wording import error_message, problem_message


def _read_upload(uploaded: UploadedFile) -> bytes:
    """The file's bytes; refused before reading when it is over the limit."""
    if uploaded.size is not None and uploaded.size > MAX_BYTES:
        raise InvalidReferral([Problem(Code.TOO_LARGE, value=str(MAX_BYTES))])
    uploaded.seek(0)
    return uploaded.read(MAX_BYTES + 1)


def _upload(request: HttpRequest, case: Case | None) -> HttpResponse:
    form = ReferralUploadForm(request.POST or None, request.FILES or None)
    reasons: list[str] = []
    status = 200
    if request.method == "POST" and form.is_valid():
        uploaded = form.cleaned_data["file"]
        try:
            pending, _referral = services.pending_create(
                raw=_read_upload(uploaded), name=uploaded.name or "", actor=request.user, case=case
            )
        except InvalidReferral as refused:
            reasons = [problem_message(p) for p in refused.reasons]
            audit_record(
                action=AuditAction.DENIED,
                request=request,
                case_id=case.pk if case else None,
                detail={"ereferral": "refused", "reasons": [p.code for p in refused.reasons]},
            )
            status = 400
        else:
            return redirect("referral-preview", pending_id=pending.pk)
    elif request.method == "POST":
        status = 400
    return render(
        request,
        "referrals/upload.html",
        {"form": form, "reasons": reasons, "case": case, "max_mb": MAX_BYTES // (1024 * 1024)},
        status=status,
    )


@role_required(Role.COORDINATOR)
@never_cache
def upload(request: HttpRequest) -> HttpResponse:
    """Start a paper-style case from an eReferral file."""
    return _upload(request, None)


@role_required(Role.COORDINATOR)
@never_cache
def upload_for_case(request: HttpRequest, case_id: int) -> HttpResponse:
    """Import an eReferral file into an open case (its blank fields only)."""
    case = case_for_request(request, case_id)
    if case.status not in OPEN_STATES:
        messages.error(request, error_message("CASE_CLOSED"))
        return redirect("staff-case", case_id=case.pk)
    return _upload(request, case)


@role_required(Role.COORDINATOR)
@never_cache
def preview(request: HttpRequest, pending_id: uuid.UUID) -> HttpResponse:
    """What the file says and, for a case, what it would change; confirming writes it."""
    try:
        pending = services.pending_get(pending_id=pending_id, actor=request.user)
    except ReferralError as error:
        messages.error(request, error_message(error.code))
        return redirect("referral-upload")
    case = case_for_request(request, pending.case_id) if pending.case_id else None
    error = ""
    if request.method == "POST":
        try:
            if case is None:
                case = services.case_start_from_referral(
                    pending_id=pending.pk, actor=request.user, request=request
                )
                messages.success(request, _("The case was opened from the referral letter."))
            else:
                _case, filled = services.case_fill_from_referral(
                    pending_id=pending.pk, actor=request.user, request=request
                )
                messages.success(
                    request,
                    _("The referral letter was added to the case; %(n)d fields were filled in.")
                    % {"n": len(filled)},
                )
            return redirect(reverse("staff-case", args=[case.pk]) + "#documents")
        except ReferralError as refused:
            error = error_message(refused.code)
            if refused.case_id is not None:
                existing = Case.objects.get(pk=refused.case_id)
                error = f"{error} ({existing.reference})"
        except InvalidReferral as refused:
            error = " ".join(problem_message(p) for p in refused.reasons)
    referral = read_referral(bytes(pending.content))
    if case is not None:
        audit_read(request, case, page="ereferral preview", ereferral=referral.bundle_identifier)
    else:
        audit_record(
            action=AuditAction.READ,
            request=request,
            obj=pending,
            detail={"page": "ereferral preview", "ereferral": referral.bundle_identifier[:200]},
        )
    existing_case = None if case else services.started_from(referral.bundle_identifier)
    return render(
        request,
        "referrals/preview.html",
        {
            "pending": pending,
            "referral": referral,
            "case": case,
            "changes": services.changes_for(case, referral) if case else [],
            "existing_case": existing_case,
            "error": error,
        },
        status=400 if error else 200,
    )
