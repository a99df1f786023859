"""The opinion's pages: the specialist writes, previews, signs and corrects it; staff download it
for the post, send the physician's link and record the posting; the physician opens the link
once; the patient downloads a copy when the hospital allows it.

Every page with personal data is permission-checked, audited and never cached.
"""

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from opiniondesk.accounts.models import Role
from opiniondesk.accounts.permissions import role_required
from opiniondesk.audit.services import audit_denied, audit_read
from opiniondesk.cases.access import case_for_request, patient_case_for_request
from opiniondesk.cases.models import Case
from opiniondesk.core.converters import MAX_ID
from opiniondesk.opinions import selectors, services
from opiniondesk.opinions.errors import LinkRefused, OpinionError
from opiniondesk.opinions.forms import (
    CorrectionForm,
    DeliveryDetailsForm,
    OpinionForm,
    PostForm,
    SignForm,
)
from opiniondesk.opinions.models import OpinionDelivery, OpinionVersion
from opiniondesk.opinions.pdf import opinion_filename, opinion_pdf

STAFF = (Role.COORDINATOR, Role.SPECIALIST)
# After the physician opened the link, their browser may download the PDF for this long.
PDF_GRANT_SECONDS = 60 * 60
GRANT_KEY = "opinion_link_grant"


def _no_store(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "private, no-store"
    return response


def _writer(request: HttpRequest, case: Case) -> bool:
    return (
        request.user.role == Role.SPECIALIST
        and request.user.departments.filter(pk=case.department_id).exists()
    )


def _page(
    request: HttpRequest,
    case: Case,
    *,
    form: OpinionForm | None = None,
    details: DeliveryDetailsForm | None = None,
    status: int = 200,
) -> HttpResponse:
    """The opinion page of the case: the draft form, the versions, the deliveries."""
    audit_read(request, case, page="opinion")
    draft = selectors.draft(case)
    signed = selectors.latest_signed(case)
    writer = _writer(request, case)
    writable = writer and (
        draft is not None or (signed is None and case.status in services.WRITING_STATES)
    )
    if form is None and writable:
        questions = (
            [item["question"] for item in draft.answers] if draft else services.questions_of(case)
        )
        form = OpinionForm(initial=OpinionForm.initial_from(draft), questions=questions)
    context = {
        "case": case,
        "draft": draft,
        "signed": signed,
        "versions": selectors.versions(case).order_by("-number"),
        "deliveries": selectors.deliveries(case).order_by("-created_at"),
        "form": form if writable else None,
        "writer": writer,
        "correction_form": CorrectionForm() if writer and signed and draft is None else None,
        "post_form": PostForm(initial={"posted_on": timezone.localdate()}) if signed else None,
        "details_form": details
        or DeliveryDetailsForm(
            initial={
                "postal_code": case.physician_postal_code,
                "address": case.physician_address,
                "fax": case.physician_fax,
                "email": case.physician_email,
            }
        ),
        "wanted": {
            "current": case.wants_opinion_on_current,
            "future": case.wants_opinion_on_future,
        },
    }
    return _no_store(render(request, "opinions/staff/opinion.html", context, status=status))


@role_required(*STAFF)
@never_cache
@require_safe
def opinion_page(request: HttpRequest, case_id: int) -> HttpResponse:
    return _page(request, case_for_request(request, case_id))


@role_required(Role.SPECIALIST)
@require_POST
def draft_save(request: HttpRequest, case_id: int) -> HttpResponse:
    case = case_for_request(request, case_id)
    draft = selectors.draft(case)
    questions = (
        [item["question"] for item in draft.answers] if draft else services.questions_of(case)
    )
    form = OpinionForm(request.POST, questions=questions)
    if not form.is_valid():
        return _page(request, case, form=form, status=400)
    try:
        services.draft_save(
            case_id=case.pk,
            actor=request.user,
            on_current=form.cleaned_data["on_current"],
            on_future=form.cleaned_data["on_future"],
            answers=form.answers(),
            remarks=form.cleaned_data["remarks"],
            request=request,
        )
    except OpinionError as exc:
        form.add_error(None, exc.message)
        return _page(request, case, form=form, status=400)
    if "preview" in request.POST:
        return redirect("staff-opinion-preview", case.pk)
    messages.success(request, _("The draft was saved."))
    return redirect("staff-opinion", case.pk)


@role_required(*STAFF)
@never_cache
@require_safe
def preview(request: HttpRequest, case_id: int) -> HttpResponse:
    """The draft as it will read, and the specialist's signature under it."""
    case = case_for_request(request, case_id)
    draft = selectors.draft(case)
    if draft is None:
        raise Http404
    audit_read(request, case, obj=draft, page="opinion preview")
    return _no_store(
        render(
            request,
            "opinions/staff/preview.html",
            {
                "case": case,
                "version": draft,
                "writer": _writer(request, case),
                "missing": services.missing_for_signing(case, draft),
                "sign_form": SignForm(initial={"previewed_hash": draft.computed_hash(case.pk)}),
            },
        )
    )


@role_required(Role.SPECIALIST)
@require_POST
def sign(request: HttpRequest, case_id: int) -> HttpResponse:
    case = case_for_request(request, case_id)
    draft = selectors.draft(case)
    if draft is None:
        messages.error(request, _("There is no draft to sign."))
        return redirect("staff-opinion", case.pk)
    form = SignForm(request.POST)
    if form.is_valid():
        try:
            version = services.sign(
                version_id=draft.pk,
                actor=request.user,
                previewed_hash=form.cleaned_data["previewed_hash"],
                request=request,
            )
        except OpinionError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(
                request,
                _("Version %(n)s of the opinion is signed.") % {"n": version.number},
            )
            return redirect("staff-opinion", case.pk)
    audit_read(request, case, obj=draft, page="opinion preview")
    return _no_store(
        render(
            request,
            "opinions/staff/preview.html",
            {
                "case": case,
                "version": draft,
                "writer": True,
                "missing": services.missing_for_signing(case, draft),
                "sign_form": form,
            },
            status=400,
        )
    )


def _version(case: Case, version_id: int) -> OpinionVersion:
    version = (
        OpinionVersion.objects.filter(pk=version_id, opinion__case=case).first()
        if 0 < version_id <= MAX_ID
        else None
    )
    if version is None:
        raise Http404
    return version


@role_required(Role.SPECIALIST)
@require_POST
def correction_start(request: HttpRequest, case_id: int, version_id: int) -> HttpResponse:
    case = case_for_request(request, case_id)
    version = _version(case, version_id)
    form = CorrectionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Please give the reason for the correction."))
        return redirect("staff-opinion", case.pk)
    try:
        services.correction_start(
            version_id=version.pk,
            actor=request.user,
            reason=form.cleaned_data["reason"],
            request=request,
        )
    except OpinionError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("A correction was started. Edit it, preview it and sign it."))
    return redirect("staff-opinion", case.pk)


def _pdf_response(version: OpinionVersion, *, inline: bool = False) -> HttpResponse:
    response = HttpResponse(opinion_pdf(version), content_type="application/pdf")
    how = "inline" if inline else "attachment"
    response["Content-Disposition"] = f'{how}; filename="{opinion_filename(version)}"'
    return _no_store(response)


@role_required(*STAFF)
@never_cache
@require_safe
def staff_pdf(request: HttpRequest, case_id: int, version_id: int) -> HttpResponse:
    """A version as PDF: to print for the post, or to check a draft."""
    case = case_for_request(request, case_id)
    version = _version(case, version_id)
    audit_read(request, case, obj=version, download=True, page="opinion pdf")
    return _pdf_response(version)


def _deliver(request: HttpRequest, case_id: int, action: Any, done: str) -> HttpResponse:
    case = case_for_request(request, case_id)
    try:
        action(case)
    except OpinionError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done)
    return redirect(reverse("staff-opinion", args=[case.pk]) + "#delivery")


@role_required(*STAFF)
@require_POST
def link_send(request: HttpRequest, case_id: int) -> HttpResponse:
    return _deliver(
        request,
        case_id,
        lambda case: services.link_send(case_id=case.pk, actor=request.user, request=request),
        _("The link was sent to the attending physician by e-mail."),
    )


@role_required(*STAFF)
@require_POST
def post_record(request: HttpRequest, case_id: int) -> HttpResponse:
    form = PostForm(request.POST)

    def action(case: Case) -> None:
        if not form.is_valid():
            raise OpinionError(_("Please enter the date it was posted."), "date")
        services.post_record(
            case_id=case.pk,
            actor=request.user,
            posted_on=form.cleaned_data["posted_on"],
            request=request,
        )

    return _deliver(request, case_id, action, _("The posting was recorded."))


@role_required(*STAFF)
@require_POST
def details_save(request: HttpRequest, case_id: int) -> HttpResponse:
    case = case_for_request(request, case_id)
    form = DeliveryDetailsForm(request.POST)
    if form.is_valid():
        try:
            services.delivery_details_save(
                case_id=case.pk, actor=request.user, request=request, **form.cleaned_data
            )
        except OpinionError as exc:
            form.add_error("email" if exc.code == "email" else None, exc.message)
        else:
            messages.success(request, _("The delivery details were saved."))
            return redirect(reverse("staff-opinion", args=[case.pk]) + "#delivery")
    return _page(request, case_for_request(request, case_id), details=form, status=400)


# The attending physician's link: no account; the first confirmed open is the delivery.


def _refused(
    request: HttpRequest, why: str, delivery: OpinionDelivery | None = None
) -> HttpResponse:
    """The link cannot be used: said in words, with the hospital's phone; the attempt audited
    (the token itself is never written down)."""
    audit_denied(
        request,
        case_id=delivery.case_id if delivery else None,
        obj=delivery,
        opinion_link=why,
    )
    response = render(
        request,
        "opinions/link_refused.html",
        {"why": why},
        status=404 if why == "unknown" else 410,
    )
    return _no_store(response)


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def physician_link(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a button only (a mail scanner that fetches the link opens nothing); the POST
    of that button opens the opinion, once."""
    if request.method != "POST":
        try:
            delivery = selectors.link_delivery(token)
        except LinkRefused as exc:
            return _refused(request, exc.why, exc.delivery)
        audit_read(request, delivery.case, obj=delivery, page="opinion link (not yet opened)")
        return _no_store(render(request, "opinions/link_confirm.html", {"delivery": delivery}))
    try:
        delivery = services.link_open(token=token, request=request)
    except LinkRefused as exc:
        return _refused(request, exc.why, exc.delivery)
    request.session[GRANT_KEY] = {
        "delivery": delivery.pk,
        "until": timezone.now().timestamp() + PDF_GRANT_SECONDS,
    }
    audit_read(request, delivery.case, obj=delivery.version, page="opinion link opened")
    return _no_store(
        render(
            request,
            "opinions/link_opinion.html",
            {"delivery": delivery, "version": delivery.version, "case": delivery.case},
        )
    )


@never_cache
@require_safe
def physician_pdf(request: HttpRequest, delivery_id: int) -> HttpResponse:
    """The PDF, for the browser that just opened the link (for an hour)."""
    grant = request.session.get(GRANT_KEY) or {}
    if grant.get("delivery") != delivery_id or grant.get("until", 0) < timezone.now().timestamp():
        return _refused(request, "used")
    delivery = OpinionDelivery.objects.select_related("case", "version").get(pk=delivery_id)
    audit_read(request, delivery.case, obj=delivery.version, download=True, page="opinion link")
    return _pdf_response(delivery.version)


# The patient's copy.


@login_required
@never_cache
@require_safe
def patient_copy(request: HttpRequest, case_id: int) -> HttpResponse:
    case = patient_case_for_request(request, case_id)
    version = selectors.delivered_version(case) if settings.OPINION_PATIENT_COPY else None
    if version is None:
        audit_denied(request, case_id=case.pk, path=request.path[:200], opinion_copy=True)
        raise Http404
    audit_read(request, case, obj=version, download=True, page="opinion copy")
    return _pdf_response(version)
