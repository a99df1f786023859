"""Writing, signing, correcting and delivering the opinion (SPEC §9, §11.14).

Every write locks the case first (`case_lock`), checks who may do it, changes the rows and
writes the audit event in one transaction. A delivery that reaches the physician is recorded as
a disclosure to a third party, and closes the case when its fee is already settled.
"""

import unicodedata
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from opiniondesk.accounts.models import Role, User
from opiniondesk.audit.models import AuditAction
from opiniondesk.audit.services import audit_record
from opiniondesk.cases.lifecycle import case_lock, case_transition
from opiniondesk.cases.models import Case
from opiniondesk.cases.workflow import Status
from opiniondesk.core import typed
from opiniondesk.core.tokens import new_token, token_hash
from opiniondesk.opinions import notifications
from opiniondesk.opinions.errors import LinkRefused, OpinionError
from opiniondesk.opinions.models import (
    DeliveryMethod,
    Disclosure,
    DisclosureBasis,
    Opinion,
    OpinionDelivery,
    OpinionVersion,
    VersionState,
)
from opiniondesk.opinions.questions import split_questions
from opiniondesk.opinions.selectors import link_check

# The consult is over: the opinion is written from here on (SPEC §9).
WRITING_STATES = frozenset({Status.COMPLETED, Status.CHARGED})
# A signed opinion is corrected, and delivered, also after the case is closed.
AFTER_CONSULT_STATES = WRITING_STATES | {Status.CLOSED}
MAX_TEXT = 20_000


def _require_department_specialist(actor: User, case: Case) -> None:
    if (
        actor.role != Role.SPECIALIST
        or not actor.departments.filter(pk=case.department_id).exists()
    ):
        raise OpinionError(
            _("Only a specialist of the case's department can write or sign the opinion."),
            "not_specialist",
        )


def _require_staff(actor: User, case: Case) -> None:
    """The coordinators, or a specialist of the case's department, send the opinion."""
    if actor.role == Role.COORDINATOR:
        return
    _require_department_specialist(actor, case)


def _require_after_consult(case: Case, states: frozenset[Status] = WRITING_STATES) -> None:
    if case.status not in states:
        raise OpinionError(
            _("The opinion is written once the consult has ended."), "consult_not_ended"
        )


def _states_for(version: OpinionVersion) -> frozenset[Status]:
    """A correction is written and signed also after the case is closed."""
    return AFTER_CONSULT_STATES if version.corrects_id else WRITING_STATES


def _text(value: str) -> str:
    value = unicodedata.normalize("NFC", value or "").strip()
    if len(value) > MAX_TEXT:
        raise OpinionError(
            _("A section may hold at most %(n)s characters.") % {"n": f"{MAX_TEXT:,}"}, "too_long"
        )
    return value


def questions_of(case: Case) -> list[str]:
    """The patient's questions from the application, one item each."""
    return split_questions(case.questions)


@transaction.atomic
def draft_save(
    *,
    case_id: int,
    actor: User,
    on_current: str,
    on_future: str,
    answers: list[str],
    remarks: str,
    request: HttpRequest | None = None,
) -> OpinionVersion:
    """Save the draft (the first version, or the open correction): the sections and one answer
    for each of the patient's questions, in their order."""
    case = case_lock(case_id)
    _require_department_specialist(actor, case)
    opinion = Opinion.objects.get_or_create(case=case)[0]
    version = OpinionVersion.objects.filter(opinion=opinion, state=VersionState.DRAFT).first()
    if version is None:
        _require_after_consult(case)
        if OpinionVersion.objects.filter(opinion=opinion).exists():
            raise OpinionError(
                _("The opinion is signed. To change it, start a correction."), "signed"
            )
        questions = questions_of(case)
        version = OpinionVersion(
            opinion=opinion,
            number=1,
            answers=[{"question": q, "answer": ""} for q in questions],
        )
    else:
        _require_after_consult(
            case, AFTER_CONSULT_STATES if version.corrects_id else WRITING_STATES
        )
    if len(answers) != len(version.answers):
        raise OpinionError(_("Please answer each of the patient's questions."), "answers")
    version.on_current, version.on_future, version.remarks = (
        _text(on_current),
        _text(on_future),
        _text(remarks),
    )
    version.answers = [
        {"question": item["question"], "answer": _text(answer)}
        for item, answer in zip(version.answers, answers, strict=True)
    ]
    version.written_by, version.saved_at = actor, timezone.now()
    created = version.pk is None
    version.save()
    audit_record(
        action=AuditAction.CREATE if created else AuditAction.UPDATE,
        user=actor,
        request=request,
        case_id=case.pk,
        obj=version,
        detail={"opinion_draft": version.number},
    )
    return version


def missing_for_signing(case: Case, version: OpinionVersion) -> list[str]:
    """What must be written before the version can be signed, in words."""
    missing = []
    if case.wants_opinion_on_current and not version.on_current:
        missing.append(_("the opinion on the current diagnosis and treatment"))
    if case.wants_opinion_on_future and not version.on_future:
        missing.append(_("the opinion on future treatment and outlook"))
    if not (version.on_current or version.on_future):
        missing.append(_("at least one of the two opinion sections"))
    if any(not item["answer"] for item in version.answers):
        missing.append(_("an answer to each of the patient's questions"))
    return missing


@transaction.atomic
def sign(
    *,
    version_id: int,
    actor: User,
    previewed_hash: str,
    request: HttpRequest | None = None,
) -> OpinionVersion:
    """Sign the draft as previewed: `previewed_hash` is the hash the preview showed, so what is
    signed is what the specialist read. The signed version never changes."""
    case_id = (
        OpinionVersion.objects.filter(pk=version_id)
        .values_list("opinion__case_id", flat=True)
        .first()
    )
    if case_id is None:
        raise OpinionError(_("No such version of the opinion."), "unknown")
    case = case_lock(case_id)
    _require_department_specialist(actor, case)
    version = OpinionVersion.objects.select_for_update().get(pk=version_id)
    if version.state != VersionState.DRAFT:
        raise OpinionError(_("This version is already signed."), "signed")
    _require_after_consult(case, _states_for(version))
    missing = missing_for_signing(case, version)
    if missing:
        raise OpinionError(
            _("Before signing, please write %(what)s.") % {"what": _(", ").join(missing)},
            "incomplete",
        )
    digest = version.computed_hash(case.pk)
    if digest != previewed_hash:
        raise OpinionError(
            _("The draft changed after the preview. Please check the preview again and sign."),
            "changed",
        )
    version.state, version.signed_by, version.signed_at, version.content_hash = (
        VersionState.SIGNED,
        actor,
        timezone.now(),
        digest,
    )
    version.save()
    audit_record(
        action=AuditAction.UPDATE,
        user=actor,
        request=request,
        case_id=case.pk,
        obj=version,
        detail={
            "opinion_signed": version.number,
            "content_hash": digest,
            "corrects": version.corrects.number if version.corrects else None,
        },
    )
    return version


@transaction.atomic
def correction_start(
    *, version_id: int, actor: User, reason: str, request: HttpRequest | None = None
) -> OpinionVersion:
    """A new draft that corrects a signed version: its content copied, the reason kept."""
    version = OpinionVersion.objects.filter(pk=version_id).select_related("opinion").first()
    if version is None:
        raise OpinionError(_("No such version of the opinion."), "unknown")
    case = case_lock(version.opinion.case_id)
    _require_department_specialist(actor, case)
    _require_after_consult(case, AFTER_CONSULT_STATES)
    reason = _text(reason)
    if not reason:
        raise OpinionError(_("Please give the reason for the correction."), "reason")
    if version.state != VersionState.SIGNED:
        raise OpinionError(_("Only a signed version is corrected."), "not_signed")
    versions = OpinionVersion.objects.filter(opinion=version.opinion)
    if versions.filter(state=VersionState.DRAFT).exists():
        raise OpinionError(_("A correction is already being written."), "draft_open")
    newest = versions.order_by("-number").first()
    assert newest is not None
    if newest.pk != version.pk:
        raise OpinionError(_("Only the newest signed version is corrected."), "not_newest")
    correction = OpinionVersion.objects.create(
        opinion=version.opinion,
        number=version.number + 1,
        on_current=version.on_current,
        on_future=version.on_future,
        answers=version.answers,
        remarks=version.remarks,
        written_by=actor,
        saved_at=timezone.now(),
        corrects=version,
        correction_reason=reason,
    )
    audit_record(
        action=AuditAction.CREATE,
        user=actor,
        request=request,
        case_id=case.pk,
        obj=correction,
        detail={"opinion_correction": correction.number, "corrects": version.number},
    )
    return correction


# Delivery details and delivery (SPEC §9, §11.14).


def _signed_for_delivery(case: Case) -> OpinionVersion:
    version = (
        OpinionVersion.objects.filter(opinion__case=case, state=VersionState.SIGNED)
        .order_by("-number")
        .first()
    )
    if version is None:
        raise OpinionError(_("The opinion is not signed yet."), "not_signed")
    return version


def _require_recipient(case: Case) -> None:
    if not (case.physician_name and case.physician_institution):
        raise OpinionError(
            _("The attending physician's name and institution are needed."), "recipient"
        )
    if case.privacy_accepted_at is None:
        raise OpinionError(
            _("The application has no recorded consent to send the opinion."), "no_consent"
        )


@transaction.atomic
def delivery_details_save(
    *,
    case_id: int,
    actor: User,
    postal_code: str,
    address: str,
    fax: str,
    email: str,
    request: HttpRequest | None = None,
) -> Case:
    """Staff fill in where the opinion goes, when the application did not say."""
    case = case_lock(case_id)
    _require_staff(actor, case)
    # The form normalised these already; a caller without a form (the demo) gets the same.
    email = typed.email(email or "")
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise OpinionError(_("Please enter a valid e-mail address."), "email") from None
    values = {
        "physician_postal_code": typed.postal(postal_code or ""),
        "physician_address": typed.address(address or ""),
        "physician_fax": typed.phone(fax or ""),
        "physician_email": email,
    }
    changed = {k: v for k, v in values.items() if getattr(case, k) != v}
    for name, value in changed.items():
        setattr(case, name, value)
    if changed:
        case.save(update_fields=[*changed, "updated_at"])
        audit_record(
            action=AuditAction.UPDATE,
            user=actor,
            request=request,
            case_id=case.pk,
            obj=case,
            detail={"changed": sorted(changed)},
        )
    return case


def _recipient(case: Case) -> dict[str, str]:
    return {
        "recipient_name": case.physician_name,
        "recipient_institution": case.physician_institution,
        "recipient_department": case.physician_department,
    }


@transaction.atomic
def link_send(*, case_id: int, actor: User, request: HttpRequest | None = None) -> OpinionDelivery:
    """E-mail the physician a one-time link to the newest signed version. Earlier unopened links
    of the case stop working."""
    case = case_lock(case_id)
    _require_staff(actor, case)
    _require_after_consult(case, AFTER_CONSULT_STATES)
    version = _signed_for_delivery(case)
    _require_recipient(case)
    if not case.physician_email:
        raise OpinionError(_("The attending physician's e-mail address is needed."), "email")
    now = timezone.now()
    OpinionDelivery.objects.filter(
        case=case, method=DeliveryMethod.LINK, opened_at__isnull=True, revoked_at__isnull=True
    ).update(revoked_at=now)
    token = new_token()
    delivery = OpinionDelivery.objects.create(
        case=case,
        version=version,
        method=DeliveryMethod.LINK,
        recipient_email=case.physician_email,
        created_by=actor,
        token_hash=token_hash(token),
        expires_at=now + timedelta(days=settings.OPINION_LINK_DAYS),
        **_recipient(case),
    )
    audit_record(
        action=AuditAction.CREATE,
        user=actor,
        request=request,
        case_id=case.pk,
        obj=delivery,
        detail={"opinion_link": version.number, "to": case.physician_email},
    )
    notifications.physician_link(delivery, token)
    return delivery


@transaction.atomic
def link_open(*, token: str, request: HttpRequest | None = None) -> OpinionDelivery:
    """The physician confirms opening the link: the first time it is delivered (and disclosed);
    every later attempt is refused (`LinkRefused`)."""
    delivery = OpinionDelivery.objects.filter(
        method=DeliveryMethod.LINK, token_hash=token_hash(token)
    ).first()
    if delivery is None:
        raise LinkRefused("unknown")
    case = case_lock(delivery.case_id)
    delivery = OpinionDelivery.objects.select_for_update().get(pk=delivery.pk)
    link_check(delivery)
    now = timezone.now()
    delivery.opened_at = now
    delivery.save(update_fields=["opened_at"])
    _delivered(case, delivery, at=now, request=request)
    return delivery


@transaction.atomic
def post_record(
    *, case_id: int, actor: User, posted_on: date, request: HttpRequest | None = None
) -> OpinionDelivery:
    """Staff printed the newest signed version and posted it to the physician on `posted_on`."""
    case = case_lock(case_id)
    _require_staff(actor, case)
    _require_after_consult(case, AFTER_CONSULT_STATES)
    version = _signed_for_delivery(case)
    _require_recipient(case)
    today = timezone.localdate()
    if posted_on > today:
        raise OpinionError(_("The date of posting cannot be in the future."), "date")
    if version.signed_at and posted_on < timezone.localtime(version.signed_at).date():
        raise OpinionError(_("The opinion cannot be posted before it was signed."), "date")
    address = " ".join(p for p in (case.physician_postal_code, case.physician_address) if p)
    delivery = OpinionDelivery.objects.create(
        case=case,
        version=version,
        method=DeliveryMethod.POST,
        recipient_address=address,
        created_by=actor,
        posted_on=posted_on,
        **_recipient(case),
    )
    audit_record(
        action=AuditAction.CREATE,
        user=actor,
        request=request,
        case_id=case.pk,
        obj=delivery,
        detail={"opinion_posted": version.number, "posted_on": posted_on.isoformat()},
    )
    _delivered(case, delivery, at=timezone.now(), request=request)
    return delivery


def _delivered(
    case: Case, delivery: OpinionDelivery, *, at: datetime, request: HttpRequest | None
) -> None:
    """The opinion reached the physician: the delivery and its disclosure recorded, the case
    closed when its fee is settled."""
    delivery.delivered_at = at
    delivery.save(update_fields=["delivered_at"])
    version = delivery.version
    policy = case.privacy_policy.version if case.privacy_policy_id else ""
    accepted = timezone.localtime(case.privacy_accepted_at) if case.privacy_accepted_at else None
    disclosure = Disclosure.objects.create(
        case=case,
        delivery=delivery,
        recipient_name=delivery.recipient_name,
        recipient_institution=delivery.recipient_institution,
        recipient_department=delivery.recipient_department,
        what=f"セカンドオピニオン回答書 第{version.number}版 ({version.content_hash[:12]})",
        version=version,
        disclosed_at=at,
        disclosed_by=delivery.created_by,
        method=delivery.method,
        basis=DisclosureBasis.APPLICATION_CONSENT,
        basis_detail=(
            f"privacy policy {policy}, accepted {accepted:%Y-%m-%d %H:%M}" if accepted else ""
        ),
    )
    audit_record(
        action=AuditAction.CREATE,
        user=None,
        request=request,
        case_id=case.pk,
        obj=disclosure,
        detail={
            "disclosure": delivery.method,
            "version": version.number,
            "to": f"{delivery.recipient_institution} {delivery.recipient_name}",
        },
    )
    if case.status == Status.CHARGED:
        case_transition(
            case=case,
            to=Status.CLOSED,
            actor=None,
            request=request,
            detail={"opinion_delivery": delivery.pk},
        )
