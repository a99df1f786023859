"""Actions that span several domains, each in one transaction."""

from django.db import transaction
from django.http import HttpRequest

from opiniondesk.accounts.models import User
from opiniondesk.cases.lifecycle import case_lock, case_transition
from opiniondesk.cases.models import Case
from opiniondesk.cases.workflow import Status
from opiniondesk.scheduling.services import release_for_closed_case


@transaction.atomic
def case_withdraw(
    *, case_id: int, actor: User, reason: str = "", request: HttpRequest | None = None
) -> Case:
    """Any open state → withdrawn, by the applicant or a coordinator: the dates held for the
    case and its booking, if any, are given back in the same transaction."""
    case = case_lock(case_id)
    case_transition(case=case, to=Status.WITHDRAWN, actor=actor, request=request, reason=reason)
    release_for_closed_case(case=case, actor=actor)
    return case
