"""Every write to a case: one function each, atomic, audited, mail sent after commit."""

from collections.abc import Iterable, Mapping
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from opiniondesk.accounts.models import User
from opiniondesk.audit.models import AuditAction
from opiniondesk.audit.services import audit_record
from opiniondesk.cases import notifications
from opiniondesk.cases.applications import document_codes, missing_answers
from opiniondesk.cases.eligibility import Reason
from opiniondesk.cases.kinship import Relation
from opiniondesk.cases.lifecycle import case_lock, case_transition
from opiniondesk.cases.models import Case, Channel, DocumentRequest, PrivacyPolicy, Proxy
from opiniondesk.cases.selectors import case_verdict, privacy_policy_in_force
from opiniondesk.cases.wizard_rules import WHO_APPLIES, needs_privacy_first
from opiniondesk.cases.workflow import OPEN_STATES, InvalidTransition, Status
from opiniondesk.catalog.vocabulary import DocumentCode
from opiniondesk.documents.models import KIND_TO_CODE, DocumentKind

__all__ = ["InvalidTransition"]


class StaleDraft(Exception):
    """Another window saved this draft since this form was loaded."""


class NotEditable(Exception):
    """The application is no longer a draft."""


class PrivacyFirst(Exception):
    """Sensitive answers of an applicant before the privacy policy is accepted (SPEC §6)."""


class PolicyNotInForce(Exception):
    """Only the version of the privacy policy in force can be accepted."""


class Incomplete(Exception):
    def __init__(self, steps: list[str]) -> None:
        self.steps = steps
        super().__init__(f"incomplete steps: {', '.join(steps)}")


class Refused(Exception):
    def __init__(self, reasons: tuple[Reason, ...]) -> None:
        self.reasons = reasons
        super().__init__(f"refused: {', '.join(reasons)}")


@transaction.atomic
def case_create_draft(
    *,
    applicant: User,
    request: HttpRequest | None = None,
    actor: User | None = None,
    detail: Mapping[str, Any] | None = None,
    channel: Channel = Channel.ONLINE,
) -> Case:
    """A new draft of `applicant`; `actor` is who opened it when not the applicant (a
    coordinator opening a case for someone who applied on paper or by phone, `channel`)."""
    case = Case.objects.create(applicant=applicant, status=Status.DRAFT, channel=channel)
    audit_record(
        action=AuditAction.CREATE,
        user=actor or applicant,
        request=request,
        case_id=case.pk,
        obj=case,
        detail={**(detail or {}), **({} if channel == Channel.ONLINE else {"channel": channel})},
    )
    return case


BLANK_FILLABLE = frozenset(
    {
        "applicant_relation",
        "patient_family_name",
        "patient_given_name",
        "patient_family_name_kana",
        "patient_given_name_kana",
        "patient_birth_date",
        "patient_sex",
        "patient_postal_code",
        "patient_address",
        "patient_phone",
        "current_diagnosis",
        "treatment_so_far",
        "questions",
        "physician_name",
        "physician_institution",
        "physician_department",
        "physician_phone",
    }
)


@transaction.atomic
def case_fill_blank_fields(
    *,
    case_id: int,
    values: Mapping[str, Any],
    actor: User,
    request: HttpRequest | None = None,
    source: str = "",
) -> list[str]:
    """Set the fields of `values` that are still blank on an open case; never overwrite an
    answer. Returns the fields set. A draft's revision is bumped, so an open wizard window
    is told its copy is old."""
    if not set(values) <= BLANK_FILLABLE:
        raise ValueError(f"not fillable: {sorted(set(values) - BLANK_FILLABLE)}")
    case = case_lock(case_id)
    if case.status not in OPEN_STATES:
        raise NotEditable
    filled = [
        name
        for name, value in values.items()
        if value not in ("", None) and getattr(case, name) in ("", None)
    ]
    if not filled:
        return []
    for name in filled:
        setattr(case, name, values[name])
    fields = [*filled, "updated_at"]
    if case.status == Status.DRAFT:
        case.revision += 1
        fields.append("revision")
    case.save(update_fields=fields)
    audit_record(
        action=AuditAction.UPDATE,
        user=actor,
        request=request,
        case_id=case.pk,
        obj=case,
        detail={"step": source, "fields": sorted(filled)},
    )
    return filled


def _locked_draft(case_id: int, revision: int) -> Case:
    case = case_lock(case_id)
    if case.status != Status.DRAFT:
        raise NotEditable
    if case.revision != revision:
        raise StaleDraft
    return case


def _require_privacy_first(case: Case, actor: User, fields: Iterable[str]) -> None:
    """An applicant stores nothing beyond who applies before accepting the privacy policy.
    Staff typing in a paper form are not asked: its consent is signed on the paper and
    recorded with it (`referrals.paper`)."""
    if actor.is_hospital_staff or case.privacy_policy_id is not None:
        return
    if needs_privacy_first(fields):
        raise PrivacyFirst


def _sync_applicant_proxy(case: Case) -> None:
    """The attending applicant's row, made from the applicant's details (typed once)."""
    row = case.proxies.filter(is_applicant=True).first()
    if not case.applicant_attends or case.applicant_relation == Relation.SELF:
        if row is not None and not row.documents.exists():
            row.delete()
        return
    values = {
        "family_name": case.applicant_family_name,
        "given_name": case.applicant_given_name,
        "family_name_kana": case.applicant_family_name_kana,
        "given_name_kana": case.applicant_given_name_kana,
        "relation": case.applicant_relation,
        "phone": case.applicant_phone,
    }
    if row is None:
        Proxy.objects.create(case=case, position=0, is_applicant=True, **values)
    else:
        Proxy.objects.filter(pk=row.pk).update(**values)


@transaction.atomic
def case_save_step(
    *,
    case_id: int,
    revision: int,
    values: Mapping[str, Any],
    actor: User,
    request: HttpRequest | None = None,
    step: str = "",
) -> Case:
    """Save one wizard step of a draft. Refused if another window saved in between, or
    (`PrivacyFirst`) when an applicant's answers go beyond who applies before the privacy
    policy is accepted."""
    case = _locked_draft(case_id, revision)
    _require_privacy_first(case, actor, set(values) - {"privacy_policy", "privacy_accepted_at"})
    for field, value in values.items():
        setattr(case, field, value)
    case.revision += 1
    case.save(update_fields=[*values, "revision", "updated_at"])
    if set(values) & WHO_APPLIES:
        _sync_applicant_proxy(case)
    audit_record(
        action=AuditAction.UPDATE,
        user=actor,
        request=request,
        case_id=case.pk,
        obj=case,
        detail={"step": step, "fields": sorted(values)},
    )
    return case


@transaction.atomic
def case_set_proxies(
    *,
    case_id: int,
    revision: int,
    proxies: Iterable[Mapping[str, Any]],
    actor: User,
    request: HttpRequest | None = None,
    applicant_attends: bool | None = None,
) -> Case:
    """Replace the draft's list of attending family members other than the applicant; with
    `applicant_attends`, the applicant's own row is made (or dropped) from their details."""
    case = _locked_draft(case_id, revision)
    proxies = list(proxies)
    _require_privacy_first(case, actor, ["proxies"] if proxies or applicant_attends else [])
    kept = list(case.proxies.filter(is_applicant=True).values_list("pk", flat=True))
    for position, data in enumerate(proxies, start=1):
        proxy_id = data.get("id")
        values = {k: v for k, v in data.items() if k != "id"}
        existing = (
            case.proxies.filter(pk=proxy_id, is_applicant=False).first() if proxy_id else None
        )
        if existing is not None:
            for field, value in values.items():
                setattr(existing, field, value)
            existing.position = position
            existing.save()
            kept.append(existing.pk)
        else:
            kept.append(Proxy.objects.create(case=case, position=position, **values).pk)
    # A family member with an uploaded ID stays: documents are never dropped.
    case.proxies.exclude(pk__in=kept).filter(documents__isnull=True).delete()
    fields = ["revision", "updated_at"]
    if applicant_attends is not None:
        case.applicant_attends = applicant_attends
        fields.append("applicant_attends")
        _sync_applicant_proxy(case)
    case.revision += 1
    case.save(update_fields=fields)
    audit_record(
        action=AuditAction.UPDATE,
        user=actor,
        request=request,
        case_id=case.pk,
        obj=case,
        detail={"step": "proxies", "count": len(kept)},
    )
    return case


@transaction.atomic
def case_accept_privacy_policy(
    *,
    case_id: int,
    revision: int,
    policy: PrivacyPolicy,
    actor: User,
    request: HttpRequest | None = None,
) -> Case:
    """Record the applicant's acceptance of `policy`, which must be the version in force."""
    if policy != privacy_policy_in_force():
        raise PolicyNotInForce
    return case_save_step(
        case_id=case_id,
        revision=revision,
        actor=actor,
        request=request,
        step="privacy",
        values={"privacy_policy": policy, "privacy_accepted_at": timezone.now()},
    )


@transaction.atomic
def case_submit(
    *,
    case_id: int,
    actor: User,
    request: HttpRequest | None = None,
    reason: str = "",
    detail: Mapping[str, Any] | None = None,
) -> Case:
    """draft → submitted, and on to awaiting_documents when something is still missing.

    Refused (the case stays a draft) when a step is unanswered or a refusal reason applies.
    `reason` and `detail` go on the transition row (a paper application says so there).
    """
    case = case_lock(case_id)
    if case.status != Status.DRAFT:
        raise NotEditable
    incomplete = missing_answers(case)
    if incomplete:
        raise Incomplete(incomplete)
    verdict = case_verdict(case)
    if verdict.refused:
        audit_record(
            action=AuditAction.READ,
            user=actor,
            request=request,
            case_id=case.pk,
            obj=case,
            detail={"refused": [r.value for r in verdict.reasons]},
        )
        raise Refused(verdict.reasons)
    case_transition(
        case=case, to=Status.SUBMITTED, actor=actor, request=request, reason=reason, detail=detail
    )
    if verdict.missing_documents:
        missing = [code.value for code in verdict.missing_documents]
        case_transition(
            case=case,
            to=Status.AWAITING_DOCUMENTS,
            actor=None,
            request=request,
            reason="documents missing",
            detail={"missing_documents": missing},
        )
    notifications.case_submitted(case.pk)
    return case


def _request_fulfilled(case: Case, document_request: DocumentRequest) -> bool:
    """Every item asked for has arrived; items a coordinator asked for again must be new."""
    have = document_codes(case)
    if not all(DocumentCode(item) in have for item in document_request.items):
        return False
    if document_request.requested_by_id is None:
        return True  # asked by the rules at submission: any copy will do
    sent_since = {
        KIND_TO_CODE[DocumentKind(kind)].value
        for kind in case.documents.filter(
            uploaded_at__gte=document_request.requested_at
        ).values_list("kind", flat=True)
        if DocumentKind(kind) in KIND_TO_CODE
    }
    return set(document_request.items) <= sent_since


@transaction.atomic
def case_documents_arrived(*, case_id: int, request: HttpRequest | None = None) -> Case:
    """awaiting_documents → screening once what was asked for has arrived (system)."""
    case = case_lock(case_id)
    if case.status != Status.AWAITING_DOCUMENTS:
        return case
    open_request = case.document_requests.filter(fulfilled_at__isnull=True).last()
    if open_request is not None and not _request_fulfilled(case, open_request):
        return case
    if open_request is None and case_verdict(case).missing_documents:
        return case
    if open_request is not None:
        open_request.fulfilled_at = timezone.now()
        open_request.save(update_fields=["fulfilled_at"])
    case_transition(
        case=case,
        to=Status.SCREENING,
        actor=None,
        request=request,
        reason="requested documents received",
    )
    notifications.documents_complete(case.pk)
    return case
