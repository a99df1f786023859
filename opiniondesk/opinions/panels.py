"""What the staff case page and the patient's case page show of the opinion; `desk` composes."""

from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from opiniondesk.accounts.models import Role, User
from opiniondesk.cases.models import Case
from opiniondesk.cases.workflow import Status
from opiniondesk.opinions import selectors

SHOWN_STATES = frozenset({Status.COMPLETED, Status.CHARGED, Status.CLOSED})


def _state(case: Case) -> str:
    if selectors.delivered(case):
        return _("Delivered to the attending physician.")
    signed, draft = selectors.latest_signed(case), selectors.draft(case)
    if draft is not None and signed is not None:
        return _("A correction is being written.")
    if signed is not None:
        return _("Signed; not delivered yet.")
    if draft is not None:
        return _("A draft is being written.")
    return _("Not written yet.")


def staff_opinion_panel(case: Case, user: User) -> dict[str, Any]:
    """Shown once the consult has ended."""
    if case.status not in SHOWN_STATES:
        return {"opinion_shown": False}
    may_write = (
        user.role == Role.SPECIALIST
        and user.departments.filter(pk=case.department_id).exists()
        and selectors.latest_signed(case) is None
    )
    return {"opinion_shown": True, "opinion_state": _state(case), "opinion_may_write": may_write}


def patient_opinion_panel(case: Case) -> dict[str, Any]:
    """The patient's copy, when the hospital allows it and the opinion was delivered."""
    allowed = settings.OPINION_PATIENT_COPY and selectors.delivered(case)
    return {"opinion_copy": bool(allowed)}
