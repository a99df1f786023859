"""What the case pages show of the consult: the specialist's review time, the consult's state and
record, the waiting room's door for the patient. Built from selectors; `desk` composes them."""

from datetime import datetime, timedelta
from typing import Any

from django import forms
from django.conf import settings
from django.urls import reverse

from opiniondesk.accounts.models import Role, User
from opiniondesk.cases.models import Case
from opiniondesk.cases.workflow import BOOKED_STATES, PREPARATION_STATES, Status
from opiniondesk.catalog.vocabulary import Mode
from opiniondesk.consults import clock, selectors
from opiniondesk.consults.forms import ReviewCorrectForm
from opiniondesk.consults.models import Consult, ConsultState
from opiniondesk.scheduling.models import Booking

# After acceptance the review time is shown with the case, also once the consult is over.
REVIEW_SHOWN = PREPARATION_STATES | {Status.IN_CONSULT, Status.COMPLETED, Status.CHARGED}


def _is_department_specialist(user: User, case: Case) -> bool:
    return user.role == Role.SPECIALIST and user.departments.filter(pk=case.department_id).exists()


def review_panel(case: Case, user: User, bound: dict[str, forms.Form]) -> dict[str, Any]:
    """The specialist's review sessions: start, stop, and a correction with a reason."""
    sessions = list(selectors.review_sessions(case))
    may_review = _is_department_specialist(user, case) and case.status in PREPARATION_STATES
    rows = []
    for session in sessions:
        key = f"review-{session.pk}"
        form = bound.get(key) or ReviewCorrectForm(
            session_id=session.pk,
            initial={"session": session.pk, "minutes": session.seconds // 60},
        )
        rows.append({"session": session, "form": form, "key": key})
    total = sum(session.seconds for session in sessions if session.ended_at)
    running = next((session for session in sessions if session.ended_at is None), None)
    return {
        "review_shown": bool(sessions) or case.status in REVIEW_SHOWN,
        "review_rows": rows,
        "review_running": running,
        "review_total_minutes": total // 60,
        "review_total_seconds": total,
        "may_review": may_review,
    }


def staff_consult_panel(
    case: Case, user: User, now: datetime, booking: Booking | None
) -> dict[str, Any]:
    """The consult's state and record on the staff case page, and the actions of this user.
    `booking`: the case's live booking, which the page has read already."""
    consult = selectors.consult_of(case)
    specialist = _is_department_specialist(user, case)
    online = case.mode == Mode.ONLINE
    in_call = consult is not None and consult.state == ConsultState.IN_CALL
    passed = booking is not None and now >= booking.ends_at
    return {
        "consult": consult,
        "consult_shown": consult is not None or case.status in BOOKED_STATES,
        "consult_record": _record(consult) if consult is not None else None,
        "may_open_room": online
        and case.status in (Status.READY, Status.IN_CONSULT)
        and booking is not None
        and user.pk == booking.specialist_id,
        "room_url": reverse("staff-consult-room", args=[case.pk]),
        "may_start_visit": specialist and not online and case.status == Status.READY,
        "may_end_visit": specialist and not online and in_call,
        "may_mark_no_show": user.role == Role.COORDINATOR
        and case.status in BOOKED_STATES
        and passed
        and not in_call,
    }


def _record(consult: Consult) -> dict[str, Any]:
    return {
        "events": list(consult.events.select_related("user")),
        "messages": list(consult.messages.select_related("user")),
        "billable_minutes": clock.billable_minutes(consult.review_seconds, consult.call_seconds)
        if consult.ended_at
        else None,
        "call_minutes": consult.call_seconds // 60,
        "review_minutes": consult.review_seconds // 60,
    }


def room_door(case: Case, booking: Booking | None, now: datetime) -> dict[str, Any]:
    """The waiting room's door for the patient: its address and whether it is open at `now`;
    `booking` is the case's live booking (no query here: the dashboard reads them at once)."""
    if case.mode != Mode.ONLINE:
        return {}
    if case.status == Status.IN_CONSULT:
        return {"room_url": reverse("consult-room", args=[case.pk]), "room_open": True}
    if booking is None or case.status not in BOOKED_STATES:
        return {}
    opens = booking.starts_at - timedelta(minutes=settings.CONSULT_ROOM_OPENS_MINUTES)
    return {
        "room_url": reverse("consult-room", args=[case.pk]),
        "room_opens_at": opens,
        "room_open": case.status == Status.READY and now >= opens,
        "room_opens_minutes": settings.CONSULT_ROOM_OPENS_MINUTES,
    }


def patient_consult_panel(case: Case, now: datetime, booking: Booking | None) -> dict[str, Any]:
    """The waiting room's door on the patient's case page, and the consult once it is over.
    `booking` is the case's live booking, as the page's booking panel read it."""
    consult = selectors.consult_of(case)
    context: dict[str, Any] = {"consult": consult, **room_door(case, booking, now)}
    if consult is not None and consult.ended_at is not None:
        context["billable_minutes"] = clock.billable_minutes(
            consult.review_seconds, consult.call_seconds
        )
    return context
