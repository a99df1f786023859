"""The hospital's side of the lifecycle (SPEC §4): screening, document requests, phone calls,
rejection, referral, and the department's answer. One function per transition; each locks the
case, checks the table and the actor, records the transition and the audit event, and sends its
notifications after commit — all in one transaction.
"""

from collections.abc import Iterable
from datetime import date

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from opiniondesk.accounts.models import Role, User
from opiniondesk.audit.models import AuditAction
from opiniondesk.audit.services import audit_record
from opiniondesk.cases import notifications, tasks
from opiniondesk.cases.eligibility import Reason
from opiniondesk.cases.lifecycle import case_lock, case_transition
from opiniondesk.cases.models import Case, DocumentRequest, PhoneLog, PhoneOutcome
from opiniondesk.cases.workflow import Status
from opiniondesk.catalog.models import Department, Disease
from opiniondesk.catalog.vocabulary import DocumentCode

PLANNED_LENGTHS = (30, 60)  # minutes: one or two consecutive 30-minute slots (SPEC §5)


class NotAllowed(Exception):
    """The actor may not act on this case (e.g. a specialist of another department)."""


def _require_role(actor: User, *roles: Role) -> None:
    if actor.role not in roles:
        raise NotAllowed(f"{actor.role} may not do this")


def _require_department(actor: User, case: Case) -> None:
    if not actor.departments.filter(pk=case.department_id).exists():
        raise NotAllowed("the case is not referred to the specialist's department")


@transaction.atomic
def case_start_screening(*, case_id: int, actor: User, request: HttpRequest | None = None) -> Case:
    """submitted → screening: a coordinator takes the application in hand.

    From awaiting_documents it resumes screening without waiting: the open request is closed,
    so that its reminders stop and a later request starts afresh.
    """
    _require_role(actor, Role.COORDINATOR)
    case = case_lock(case_id)
    resumed = case.status == Status.AWAITING_DOCUMENTS
    case_transition(case=case, to=Status.SCREENING, actor=actor, request=request)
    if resumed:
        case.document_requests.filter(fulfilled_at__isnull=True).update(fulfilled_at=timezone.now())
    return case


@transaction.atomic
def case_request_documents(
    *,
    case_id: int,
    actor: User,
    items: Iterable[DocumentCode],
    message: str,
    due_date: date | None,
    request: HttpRequest | None = None,
) -> DocumentRequest:
    """submitted/screening → awaiting_documents, with what is asked for and by when."""
    _require_role(actor, Role.COORDINATOR)
    case = case_lock(case_id)
    codes = [DocumentCode(code).value for code in items]
    if not codes:
        raise ValueError("a request names at least one document")
    case_transition(
        case=case,
        to=Status.AWAITING_DOCUMENTS,
        actor=actor,
        request=request,
        reason=message,
        detail={"requested_documents": codes},
    )
    document_request = DocumentRequest.objects.create(
        case=case,
        requested_by=actor,
        items=codes,
        message=message,
        due_date=due_date,
    )
    audit_record(
        action=AuditAction.CREATE,
        user=actor,
        request=request,
        case_id=case.pk,
        obj=document_request,
        detail={"items": codes},
    )
    notifications.documents_requested(document_request.pk)
    tasks.schedule_document_reminders(document_request)
    return document_request


@transaction.atomic
def phone_log_create(
    *,
    case_id: int,
    actor: User,
    called_at: timezone.datetime,
    number: str,
    outcome: PhoneOutcome,
    notes: str = "",
    request: HttpRequest | None = None,
) -> PhoneLog:
    _require_role(actor, Role.COORDINATOR)
    # Choices are not checked on save: an unknown outcome raises ValueError here.
    outcome = PhoneOutcome(outcome)
    case = case_lock(case_id)
    log = PhoneLog.objects.create(
        case=case, called_by=actor, called_at=called_at, number=number, outcome=outcome, notes=notes
    )
    audit_record(
        action=AuditAction.CREATE,
        user=actor,
        request=request,
        case_id=case.pk,
        obj=log,
        detail={"outcome": outcome},
    )
    return log


@transaction.atomic
def case_reject(
    *,
    case_id: int,
    actor: User,
    reasons: Iterable[Reason],
    note: str = "",
    request: HttpRequest | None = None,
) -> Case:
    """screening → rejected, with the reason codes of SPEC §3 and words for the applicant."""
    _require_role(actor, Role.COORDINATOR)
    codes = [Reason(reason).value for reason in reasons]
    if not codes:
        raise ValueError("a rejection names at least one reason")
    case = case_lock(case_id)
    case_transition(
        case=case,
        to=Status.REJECTED,
        actor=actor,
        request=request,
        reason=note,
        detail={"reasons": codes},
    )
    case.rejection_reasons, case.rejection_note = codes, note
    case.save(update_fields=["rejection_reasons", "rejection_note", "updated_at"])
    notifications.case_decided(case.pk)
    return case


@transaction.atomic
def case_refer(
    *,
    case_id: int,
    actor: User,
    department: Department,
    disease: Disease | None = None,
    request: HttpRequest | None = None,
) -> Case:
    """screening → referred: the department's specialists are asked to accept or decline.

    The case's disease must be one of the department's (SPEC §2): referring it elsewhere names
    one; without `disease` the case keeps its own, which must then belong to the department.
    """
    _require_role(actor, Role.COORDINATOR)
    case = case_lock(case_id)
    if case.mode and case.mode not in department.modes:
        raise NotAllowed(f"{department.code} does not offer {case.mode} consults")
    disease = disease or case.disease
    if disease is None or disease.department_id != department.pk:
        raise NotAllowed(f"the referral names a disease of {department.code}")
    case_transition(
        case=case,
        to=Status.REFERRED,
        actor=actor,
        request=request,
        detail={"department": department.code, "disease": disease.code},
    )
    if (case.department_id, case.disease_id) != (department.pk, disease.pk):
        case.department, case.disease = department, disease
        case.save(update_fields=["department", "disease", "updated_at"])
    notifications.case_referred(case.pk)
    return case


@transaction.atomic
def case_accept(
    *,
    case_id: int,
    actor: User,
    planned_minutes: int = 30,
    request: HttpRequest | None = None,
) -> Case:
    """referred → accepted, by a specialist of the case's department, with the consult's
    planned length (30 or 60 minutes, SPEC §5)."""
    _require_role(actor, Role.SPECIALIST)
    if planned_minutes not in PLANNED_LENGTHS:
        raise ValueError("a consult is planned for 30 or 60 minutes")
    case = case_lock(case_id)
    _require_department(actor, case)
    case_transition(
        case=case,
        to=Status.ACCEPTED,
        actor=actor,
        request=request,
        detail={"planned_minutes": planned_minutes},
    )
    case.planned_minutes = planned_minutes
    case.save(update_fields=["planned_minutes", "updated_at"])
    notifications.case_accepted(case.pk)
    return case


@transaction.atomic
def case_decline(
    *,
    case_id: int,
    actor: User,
    reason: str,
    request: HttpRequest | None = None,
) -> Case:
    """referred → declined, with the reason (e.g. no specialist for this disease)."""
    _require_role(actor, Role.SPECIALIST)
    if not reason.strip():
        raise ValueError("a decline needs a reason")
    case = case_lock(case_id)
    _require_department(actor, case)
    case_transition(case=case, to=Status.DECLINED, actor=actor, request=request, reason=reason)
    case.decline_reason = reason
    case.save(update_fields=["decline_reason", "updated_at"])
    notifications.case_decided(case.pk)
    return case
