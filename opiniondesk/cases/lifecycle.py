"""The one public writer of a case's status (SPEC §4).

Every app that moves a case — screening here, scheduling, readiness, later the consult and
billing — locks it with `case_lock` and moves it with `case_transition`, which checks the table
of `workflow`, records the transition row and writes the audit event in the caller's transaction.
"""

from collections.abc import Mapping
from typing import Any

from django.http import HttpRequest
from django.utils import timezone

from opiniondesk.accounts.models import Role, User
from opiniondesk.audit.models import AuditAction
from opiniondesk.audit.services import audit_record
from opiniondesk.cases.models import Case, CaseTransition
from opiniondesk.cases.workflow import Actor, InvalidTransition, Status, check

__all__ = ["InvalidTransition", "actor_of", "case_lock", "case_transition"]


def actor_of(user: User | None, case: Case) -> Actor:
    """The workflow role a user plays for this case."""
    if user is None:
        return Actor.SYSTEM
    if user.pk in (case.applicant_id, case.patient_account_id):
        return Actor.APPLICANT
    return {
        Role.COORDINATOR: Actor.COORDINATOR,
        Role.SPECIALIST: Actor.SPECIALIST,
        Role.BILLING_CLERK: Actor.BILLING_CLERK,
    }.get(Role(user.role), Actor.OUTSIDER)


def case_lock(case_id: int) -> Case:
    """The case, its row locked until the surrounding transaction ends (department loaded).

    Services lock the case first, then any other row they change, so two never wait on each other.
    """
    return Case.objects.select_for_update(of=("self",)).select_related("department").get(pk=case_id)


def case_transition(
    *,
    case: Case,
    to: Status,
    actor: User | None,
    request: HttpRequest | None = None,
    reason: str = "",
    detail: Mapping[str, Any] | None = None,
) -> None:
    """Move a case locked by `case_lock` to `to`: check the table and the actor, save, record
    the transition row and the audit event. Raises `InvalidTransition` and changes nothing."""
    role = actor_of(actor, case)
    current = Status(case.status)
    check(current, to, role)
    now = timezone.now()
    case.status, case.status_changed_at = to, now
    fields = ["status", "status_changed_at", "updated_at"]
    if to is Status.SUBMITTED:
        case.submitted_at = now
        fields.append("submitted_at")
    if to is Status.REFERRED and case.referred_at is None:
        case.referred_at = now
        fields.append("referred_at")
    case.save(update_fields=fields)
    CaseTransition.objects.create(
        case=case,
        from_status=current,
        to_status=to,
        actor=actor,
        actor_role=role,
        reason=reason,
        detail=dict(detail or {}),
    )
    audit_record(
        action=AuditAction.TRANSITION,
        user=actor,
        request=request,
        case_id=case.pk,
        obj=case,
        detail={"from": current.value, "to": to.value, "reason": reason},
    )
