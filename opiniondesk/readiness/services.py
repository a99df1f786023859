"""The patient's steps before the consult and the coordinator's identity check (SPEC §6, §11).

Each step is recorded and audited; after each, `case_check_ready` moves a booked case to `ready`
once every required item is done.
"""

import hashlib
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from opiniondesk.accounts.models import Role, User
from opiniondesk.audit.models import AuditAction
from opiniondesk.audit.services import audit_record, source_address
from opiniondesk.cases.lifecycle import actor_of, case_lock, case_transition
from opiniondesk.cases.models import Case
from opiniondesk.cases.selectors import privacy_policy_in_force
from opiniondesk.cases.workflow import PREPARATION_STATES, Actor, Status
from opiniondesk.catalog.selectors import patient_deadline
from opiniondesk.catalog.vocabulary import Mode
from opiniondesk.core.tokens import new_token, token_hash
from opiniondesk.core.typed import name_key
from opiniondesk.documents.models import Document, DocumentKind, UploadSource
from opiniondesk.documents.services import document_add
from opiniondesk.readiness import notifications, rules
from opiniondesk.readiness.errors import InvitationProblem, ReadinessError
from opiniondesk.readiness.models import (
    ConsentSignature,
    DeviceCheck,
    IdentityReview,
    PatientInvitation,
    PatientPrivacyAcceptance,
)
from opiniondesk.readiness.selectors import (
    current_consent_form,
    invitation_for_token,
    readiness_facts,
)
from opiniondesk.referrals.selectors import paper_held


def _require_patient_side(actor: User, case: Case) -> None:
    if actor_of(actor, case) is not Actor.APPLICANT:
        raise ReadinessError(_("Only the patient or the family member who applied can do this."))


def _require_preparing(case: Case) -> None:
    if case.status not in PREPARATION_STATES:
        raise ReadinessError(_("This step opens once the department has accepted the case."))


def case_check_ready(*, case: Case, request: HttpRequest | None = None) -> bool:
    """booked → ready when every required item is done. The caller holds the case's row lock."""
    if case.status == Status.BOOKED and rules.is_ready(readiness_facts(case)):
        case_transition(
            case=case, to=Status.READY, actor=None, request=request, reason="all items done"
        )
        return True
    return False


def id_document_add(
    *,
    case_id: int,
    actor: User,
    uploaded: UploadedFile,
    id_type: str,
    request: HttpRequest | None = None,
) -> Document:
    """The patient's ID image (本人確認書類), waiting for a coordinator's check."""
    case = Case.objects.get(pk=case_id)
    _require_patient_side(actor, case)
    _require_preparing(case)
    return document_add(
        case=case,
        kind=DocumentKind.PATIENT_ID,
        uploaded=uploaded,
        actor=actor,
        source=UploadSource.APPLICANT,
        request=request,
        id_type=id_type,
    )


@transaction.atomic
def identity_review(
    *,
    document_id: int,
    actor: User,
    verified: bool,
    reason: str = "",
    request: HttpRequest | None = None,
) -> IdentityReview:
    if actor.role != Role.COORDINATOR:
        raise ReadinessError(_("Only the second-opinion coordinators check IDs."))
    document = Document.objects.filter(pk=document_id, kind=DocumentKind.PATIENT_ID).first()
    if document is None:
        raise ReadinessError(_("That is not an ID of this case."))
    case = case_lock(document.case_id)
    if not verified and not reason.strip():
        raise ReadinessError(_("Tell the patient why the ID cannot be accepted."))
    try:
        with transaction.atomic():
            review = IdentityReview.objects.create(
                document=document,
                verified=verified,
                reason="" if verified else reason.strip(),
                reviewed_by=actor,
            )
    except IntegrityError as exc:
        raise ReadinessError(_("This ID has already been checked.")) from exc
    Document.objects.filter(pk=document.pk).update(identity_check_pending=False)
    audit_record(
        action=AuditAction.UPDATE,
        user=actor,
        request=request,
        case_id=case.pk,
        obj=document,
        detail={"identity": "verified" if verified else "rejected", "id_type": document.id_type},
    )
    case_check_ready(case=case, request=request)
    if not verified:
        notifications.identity_rejected(review.pk)
    return review


@transaction.atomic
def consent_sign(
    *,
    case_id: int,
    actor: User,
    signer_name: str,
    form_version: str,
    language: str,
    request: HttpRequest | None = None,
) -> ConsentSignature:
    """The patient's request and consent for an online consult (SPEC §11.1), signed by name."""
    case = case_lock(case_id)
    if actor.pk != case.patient_account_id_effective:
        raise ReadinessError(_("The patient signs this from their own account."))
    _require_preparing(case)
    if case.mode != Mode.ONLINE:
        raise ReadinessError(_("This consent is for online consults only."))
    form = current_consent_form()
    if form is None or form.version != form_version:
        raise ReadinessError(_("The consent text has changed. Please read it again and sign."))
    if not name_key(signer_name) or name_key(signer_name) != name_key(case.patient_name):
        raise ReadinessError(
            _("Please type the patient's name exactly as in the application: %(name)s")
            % {"name": case.patient_name}
        )
    use_en = language == "en" and bool(form.text_en)
    text = form.text_en if use_en else form.text_ja
    try:
        with transaction.atomic():
            signature = ConsentSignature.objects.create(
                case=case,
                form=form,
                text_sha256=hashlib.sha256(text.encode()).hexdigest(),
                language="en" if use_en else "ja",
                signed_by=actor,
                signer_name=signer_name.strip(),
                source_address=source_address(request),
            )
    except IntegrityError as exc:
        raise ReadinessError(_("You have already signed this consent.")) from exc
    audit_record(
        action=AuditAction.CREATE,
        user=actor,
        request=request,
        case_id=case.pk,
        obj=signature,
        detail={"form": form.version, "text_sha256": signature.text_sha256},
    )
    case_check_ready(case=case, request=request)
    return signature


@transaction.atomic
def patient_privacy_accept(
    *, case_id: int, actor: User, version: str, request: HttpRequest | None = None
) -> PatientPrivacyAcceptance:
    """The patient, with their own account, accepts the privacy policy in force (SPEC §6:
    when a family member applied, the applicant's acceptance is not the patient's)."""
    case = case_lock(case_id)
    if actor.pk != case.patient_account_id_effective:
        raise ReadinessError(_("The patient accepts this from their own account."))
    policy = privacy_policy_in_force()
    if policy is None or policy.version != version:
        raise ReadinessError(_("The privacy policy has been updated. Please read it again."))
    acceptance, created = PatientPrivacyAcceptance.objects.get_or_create(
        case=case, policy=policy, accepted_by=actor
    )
    if created:
        audit_record(
            action=AuditAction.CREATE,
            user=actor,
            request=request,
            case_id=case.pk,
            obj=acceptance,
            detail={"privacy_policy": policy.version, "by": "patient"},
        )
        case_check_ready(case=case, request=request)
    return acceptance


@transaction.atomic
def device_check_record(
    *,
    case_id: int,
    actor: User,
    camera_ok: bool,
    microphone_ok: bool,
    connection_ok: bool,
    round_trip_ms: int | None,
    user_agent: str = "",
    detail: dict[str, Any] | None = None,
    request: HttpRequest | None = None,
) -> DeviceCheck:
    case = case_lock(case_id)
    _require_patient_side(actor, case)
    _require_preparing(case)
    check = DeviceCheck.objects.create(
        case=case,
        user=actor,
        camera_ok=camera_ok,
        microphone_ok=microphone_ok,
        connection_ok=connection_ok,
        round_trip_ms=round_trip_ms,
        user_agent=user_agent[:300],
        detail=dict(detail or {}),
    )
    audit_record(
        action=AuditAction.CREATE,
        user=actor,
        request=request,
        case_id=case.pk,
        obj=check,
        detail={"passed": check.passed},
    )
    if check.passed:
        case_check_ready(case=case, request=request)
    return check


@transaction.atomic
def invitation_create(
    *, case_id: int, actor: User, email: str, request: HttpRequest | None = None
) -> str:
    """The family member who applied invites the patient to link their own account.
    Earlier open invitations of the case are revoked. The token is returned once."""
    case = case_lock(case_id)
    if actor.pk != case.applicant_id:
        raise ReadinessError(_("Only the family member who applied can invite the patient."))
    if case.patient_account_id_effective is not None:
        raise ReadinessError(_("The patient's own account is already linked."))
    _require_preparing(case)
    invitation, token = _new_invitation(case=case, actor=actor, email=email, hands_over=False)
    audit_record(
        action=AuditAction.CREATE,
        user=actor,
        request=request,
        case_id=case.pk,
        obj=invitation,
        detail={"email": email},
    )
    notifications.patient_invited(invitation.pk, token)
    return token


def _new_invitation(
    *, case: Case, actor: User, email: str, hands_over: bool
) -> tuple[PatientInvitation, str]:
    """Revoke the case's open invitations of the same kind and write a new one."""
    now = timezone.now()
    PatientInvitation.objects.filter(
        case=case, accepted_at__isnull=True, revoked_at__isnull=True, hands_over=hands_over
    ).update(revoked_at=now)
    token = new_token()
    invitation = PatientInvitation.objects.create(
        case=case,
        email=email,
        token_hash=token_hash(token),
        created_by=actor,
        expires_at=patient_deadline(
            now + timedelta(days=settings.PATIENT_INVITATION_DAYS), now=now
        ),
        hands_over=hands_over,
    )
    return invitation, token


@transaction.atomic
def handover_invite(
    *, case_id: int, actor: User, email: str, request: HttpRequest | None = None
) -> str:
    """The coordinator hands a sent paper application to the person who applied on paper (the
    patient, or the family member the form names): an invitation to their e-mail; accepting
    it with their own account makes that account the case's applicant. Earlier open handover
    invitations of the case are revoked. The token is returned once."""
    if actor.role != Role.COORDINATOR:
        raise ReadinessError(_("Only a coordinator hands a paper application over."))
    case = case_lock(case_id)
    if paper_held(case) is None:
        raise ReadinessError(
            _("This case is not a paper application held by the hospital: it has its own account.")
        )
    if case.status == Status.DRAFT:
        raise ReadinessError(_("Please send the paper application before handing it over."))
    invitation, token = _new_invitation(case=case, actor=actor, email=email, hands_over=True)
    audit_record(
        action=AuditAction.CREATE,
        user=actor,
        request=request,
        case_id=case.pk,
        obj=invitation,
        detail={"email": email, "hands_over": True},
    )
    notifications.case_handed_over(invitation.pk, token)
    return token


def _hand_over(
    *, case: Case, invitation: PatientInvitation, actor: User, request: HttpRequest | None
) -> Case:
    """The accepting account becomes the case's applicant. The account opened with the case
    from the referral letter (no password, no e-mail, nobody ever signed in with it) held this
    one case only: it is deactivated, and the referral import keeps which account it was."""
    opened = paper_held(case)
    if opened is None:
        raise InvitationProblem(_("This invitation has already been used."))
    if actor.pk == case.patient_account_id:
        raise InvitationProblem(_("The patient's own account is already linked."))
    placeholder = case.applicant
    now = timezone.now()
    invitation.accepted_at, invitation.accepted_by = now, actor
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    case.applicant = actor
    case.save(update_fields=["applicant", "updated_at"])
    audit_record(
        action=AuditAction.UPDATE,
        user=actor,
        request=request,
        case_id=case.pk,
        obj=case,
        detail={"handed_over": True, "applicant_from": placeholder.pk, "applicant_to": actor.pk},
    )
    if not placeholder.has_usable_password() and not placeholder.email:
        placeholder.is_active = False
        placeholder.save(update_fields=["is_active"])
        audit_record(
            action=AuditAction.UPDATE,
            user=actor,
            request=request,
            case_id=case.pk,
            obj=placeholder,
            detail={"deactivated": "paper application handed over", "replaced_by": actor.pk},
        )
    case_check_ready(case=case, request=request)
    return case


@transaction.atomic
def invitation_accept(*, token: str, actor: User, request: HttpRequest | None = None) -> Case:
    """The patient, signed in to their own account, links it to the case; or, for a paper
    application handed over, the person who applied on paper takes it into their account."""
    invitation = invitation_for_token(token)
    case = case_lock(invitation.case_id)
    invitation = PatientInvitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.accepted_at is not None or invitation.revoked_at is not None:
        raise InvitationProblem(_("This invitation has already been used."))
    if actor.role != Role.PATIENT:
        raise InvitationProblem(_("Please sign in with the patient's own account."))
    if invitation.hands_over:
        return _hand_over(case=case, invitation=invitation, actor=actor, request=request)
    if actor.pk == case.applicant_id:
        raise InvitationProblem(
            _("This is the account of the family member who applied. The patient needs their own.")
        )
    if case.patient_account_id_effective is not None:
        raise InvitationProblem(_("The patient's own account is already linked."))
    now = timezone.now()
    invitation.accepted_at, invitation.accepted_by = now, actor
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    case.patient_account = actor
    case.save(update_fields=["patient_account", "updated_at"])
    audit_record(
        action=AuditAction.UPDATE,
        user=actor,
        request=request,
        case_id=case.pk,
        obj=case,
        detail={"patient_account_linked": actor.pk},
    )
    case_check_ready(case=case, request=request)
    return case
