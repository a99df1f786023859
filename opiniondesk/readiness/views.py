"""The patient's steps before the consult: the ID, the signed consent, linking the patient's
own account (the checklist that leads here is in `panels`).

Every change goes through `readiness.services`; these views translate forms and messages.
"""

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from opiniondesk.audit.services import audit_denied, audit_read
from opiniondesk.cases.access import patient_case_for_request
from opiniondesk.cases.kinship import Relation
from opiniondesk.cases.models import Case
from opiniondesk.cases.selectors import privacy_policy_in_force
from opiniondesk.cases.workflow import PREPARATION_STATES
from opiniondesk.catalog.vocabulary import Mode
from opiniondesk.documents.content import ContentRejected
from opiniondesk.documents.models import Document
from opiniondesk.documents.services import UploadRefused
from opiniondesk.documents.wording import refusal_message
from opiniondesk.readiness import selectors, services
from opiniondesk.readiness.forms import (
    ConsentSignForm,
    IdUploadForm,
    InvitationForm,
)
from opiniondesk.readiness.models import PatientInvitation
from opiniondesk.readiness.wording import id_type_label

NOT_YET_OPEN = gettext_lazy("This step opens once the department has accepted the case.")


def _english() -> bool:
    return (get_language() or "ja").startswith("en")


# The identity check.


@dataclass(frozen=True)
class IdRow:
    document: Document
    label: str
    state: str  # waiting, verified or rejected
    reason: str


def _id_rows(case: Case) -> list[IdRow]:
    rows = []
    for document in selectors.id_documents(case):
        review = getattr(document, "identity_review", None)
        state = "waiting" if review is None else ("verified" if review.verified else "rejected")
        label = str(id_type_label(document.id_type))
        rows.append(IdRow(document, label, state, review.reason if review else ""))
    return rows


@login_required
@never_cache
def case_identity(request: HttpRequest, case_id: int) -> HttpResponse:
    """Send a photo of the patient's ID; see what our staff said of each one sent."""
    case = patient_case_for_request(request, case_id)
    preparing = case.status in PREPARATION_STATES
    form = IdUploadForm()
    if request.method == "POST":
        form = IdUploadForm(request.POST, request.FILES)
        if not preparing:
            form.add_error(None, NOT_YET_OPEN)
        elif form.is_valid():
            try:
                services.id_document_add(
                    case_id=case.pk,
                    actor=request.user,
                    uploaded=form.cleaned_data["file"],
                    id_type=form.cleaned_data["id_type"],
                    request=request,
                )
            except (ContentRejected, UploadRefused) as exc:
                form.add_error("file", refusal_message(str(exc.code)))
            except services.ReadinessError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(
                    request, _("Thank you. We received the ID; our staff will check it.")
                )
                return redirect("case-identity", case.pk)
    audit_read(request, case, page="identity")
    return render(
        request,
        "readiness/identity.html",
        {
            "case": case,
            "form": form,
            "preparing": preparing,
            "ids": _id_rows(case),
            "state": selectors.identity_state(case).value,
        },
    )


# The request and consent for an online consult.


@login_required
@never_cache
def case_consent(request: HttpRequest, case_id: int) -> HttpResponse:
    """The current consent text; the patient's own account signs it with the patient's name."""
    case = patient_case_for_request(request, case_id)
    consent = selectors.current_consent_form()
    signature = selectors.consent_signature(case)
    is_patient = request.user.pk == case.patient_account_id_effective
    can_sign = (
        is_patient
        and consent is not None
        and signature is None
        and case.mode == Mode.ONLINE
        and case.status in PREPARATION_STATES
    )
    form = ConsentSignForm(initial={"form_version": consent.version if consent else ""})
    if request.method == "POST":
        if not is_patient:
            raise PermissionDenied
        form = ConsentSignForm(request.POST)
        if form.is_valid():
            try:
                services.consent_sign(
                    case_id=case.pk,
                    actor=request.user,
                    signer_name=form.cleaned_data["signer_name"],
                    form_version=form.cleaned_data["form_version"],
                    language="en" if _english() else "ja",
                    request=request,
                )
            except services.ReadinessError as exc:
                form.add_error(None, exc.message)
                # Signing again signs the text now on the page.
                form.data = form.data.copy()
                form.data["form_version"] = consent.version if consent else ""
            else:
                messages.success(request, _("Thank you. Your signature is recorded."))
                return redirect("case-consent", case.pk)
    audit_read(request, case, page="consent")
    text = ""
    if consent is not None:
        text = consent.text_en if _english() and consent.text_en else consent.text_ja
    return render(
        request,
        "readiness/consent.html",
        {
            "case": case,
            "consent": consent,
            "text": text,
            "signature": signature,
            "is_patient": is_patient,
            "is_applicant": request.user.pk == case.applicant_id,
            "can_sign": can_sign,
            "form": form,
        },
    )


# The patient's own acceptance of the privacy policy (when a family member applied).


@login_required
@never_cache
def case_patient_privacy(request: HttpRequest, case_id: int) -> HttpResponse:
    """The privacy policy in force; the patient's own account accepts it."""
    case = patient_case_for_request(request, case_id)
    policy = privacy_policy_in_force()
    is_patient = request.user.pk == case.patient_account_id_effective
    if request.method == "POST":
        if not is_patient:
            raise PermissionDenied
        try:
            services.patient_privacy_accept(
                case_id=case.pk,
                actor=request.user,
                version=request.POST.get("version", ""),
                request=request,
            )
        except services.ReadinessError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Thank you. Your agreement is recorded."))
        return redirect("case-patient-privacy", case.pk)
    audit_read(request, case, page="patient privacy")
    english = _english()
    return render(
        request,
        "readiness/patient_privacy.html",
        {
            "case": case,
            "policy": policy,
            "policy_text": policy
            and (policy.text_en if english and policy.text_en else policy.text_ja),
            "purposes": policy
            and (policy.purposes_en if english and policy.purposes_en else policy.purposes_ja),
            "acceptance": selectors.patient_privacy_acceptance(case),
            "is_patient": is_patient,
            "is_applicant": request.user.pk == case.applicant_id,
        },
    )


# Linking the patient's own account.


@dataclass(frozen=True)
class InvitationView:
    invitation: PatientInvitation
    state: str  # open, accepted, expired or replaced
    expires_at: datetime


def _invitations(case: Case) -> list[InvitationView]:
    now = timezone.now()
    views = []
    for invitation in PatientInvitation.objects.filter(case=case).order_by("-created_at", "-pk"):
        if invitation.accepted_at is not None:
            state = "accepted"
        elif invitation.revoked_at is not None:
            state = "replaced"
        elif invitation.expires_at <= now:
            state = "expired"
        else:
            state = "open"
        views.append(InvitationView(invitation, state, invitation.expires_at))
    return views


@login_required
@never_cache
def case_invite_patient(request: HttpRequest, case_id: int) -> HttpResponse:
    """A family member who applied asks the patient to link their own account."""
    case = patient_case_for_request(request, case_id)
    is_applicant = request.user.pk == case.applicant_id
    linked = case.patient_account_id_effective is not None
    may_invite = (
        is_applicant
        and not linked
        and case.applicant_relation != Relation.SELF
        and case.status in PREPARATION_STATES
    )
    form = InvitationForm(initial={"email": case.patient_email})
    if request.method == "POST":
        if not is_applicant:
            raise PermissionDenied
        form = InvitationForm(request.POST)
        if form.is_valid():
            email = form.cleaned_data["email"]
            try:
                services.invitation_create(
                    case_id=case.pk, actor=request.user, email=email, request=request
                )
            except services.ReadinessError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(
                    request, _("We sent the invitation to %(email)s.") % {"email": email}
                )
                return redirect("case-invite-patient", case.pk)
    audit_read(request, case, page="invite patient")
    return render(
        request,
        "readiness/invite_patient.html",
        {
            "case": case,
            "form": form,
            "linked": linked,
            "is_applicant": is_applicant,
            "may_invite": may_invite,
            "preparing": case.status in PREPARATION_STATES,
            "invitations": _invitations(case),
            "days": settings.PATIENT_INVITATION_DAYS,
        },
    )


def _applicant_name(case: Case) -> str:
    on_form = f"{case.applicant_family_name} {case.applicant_given_name}".strip()
    return on_form or case.applicant.get_full_name() or case.applicant.username


@never_cache
def patient_invitation(request: HttpRequest, token: str) -> HttpResponse:
    """The link in the invitation e-mail. Before acceptance only the case's reference and the
    applicant's name are shown, and only to a signed-in person."""
    try:
        invitation = selectors.invitation_for_token(token)
    except services.InvitationProblem as exc:
        audit_denied(request, invitation="unusable")
        return render(
            request, "readiness/invitation_problem.html", {"message": exc.message}, status=410
        )
    if not request.user.is_authenticated:
        back = urlencode({"next": request.path})
        return render(
            request,
            "readiness/invitation_sign_in.html",
            {
                "login_url": f"{reverse('account_login')}?{back}",
                "signup_url": f"{reverse('account_signup')}?{back}",
                "expires_at": invitation.expires_at,
                "hands_over": invitation.hands_over,
            },
        )
    case = invitation.case
    if request.method == "POST":
        try:
            services.invitation_accept(token=token, actor=request.user, request=request)
        except services.InvitationProblem as exc:
            messages.error(request, exc.message)
            return redirect(request.path)
        else:
            if invitation.hands_over:
                messages.success(request, _("Thank you. The application is now in your account."))
            else:
                messages.success(
                    request, _("Thank you. Your account is now linked to the application.")
                )
            return redirect("case-detail", case.pk)
    audit_read(request, case, obj=invitation, page="patient invitation")
    return render(
        request,
        "readiness/invitation.html",
        {
            "reference": case.reference,
            "applicant_name": _applicant_name(case),
            "is_applicant": request.user.pk == case.applicant_id and not invitation.hands_over,
            "hands_over": invitation.hands_over,
            "token": token,
        },
    )
