"""Reads of consults and review time."""

from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import QuerySet

from opiniondesk.accounts.models import User
from opiniondesk.cases.models import Case
from opiniondesk.consults import clock
from opiniondesk.consults.models import Consult, ConsultState, EventKind, ReviewSession
from opiniondesk.core.time import JST

# A patient-side connection not heard from for this long is gone (its worker died, say):
# another device may then join without taking over.
STALE_AFTER = timedelta(seconds=45)
JOIN_EVENTS = (EventKind.ENTERED, EventKind.RECONNECTED, EventKind.TAKEN_OVER)


def review_sessions(case: Case) -> QuerySet[ReviewSession]:
    return ReviewSession.objects.filter(case=case).select_related("specialist", "corrected_by")


def open_review(case: Case) -> ReviewSession | None:
    return ReviewSession.objects.filter(case=case, ended_at__isnull=True).first()


def review_seconds(case: Case) -> int:
    """The specialist's review time so far, as billed: stopped sessions, corrections applied."""
    return sum(session.seconds for session in review_sessions(case) if session.ended_at)


def consult_of(case: Case) -> Consult | None:
    """The case's consult for its live booking, or its last one (ended, or after a no-show)."""
    return (
        Consult.objects.filter(case=case)
        .select_related("specialist", "booking", "booking__department")
        .order_by("-booking__booked_at", "-pk")
        .first()
    )


def limits() -> dict[str, int]:
    """The settings of the clock, in seconds."""
    return {
        "limit_seconds": round(settings.CONSULT_LIMIT_MINUTES * 60),
        "before_boundary_seconds": round(settings.CONSULT_WARN_BEFORE_BOUNDARY_MINUTES * 60),
        "before_end_seconds": round(settings.CONSULT_WARN_BEFORE_END_MINUTES * 60),
    }


def snapshot(consult: Consult, *, now: datetime) -> dict[str, Any]:
    """The consult's state as both sides' pages show it (JSON): times are the server's."""
    case_review = consult.review_seconds if consult.started_at else review_seconds(consult.case)
    call = 0
    if consult.started_at is not None:
        call = clock.seconds_between(consult.started_at, consult.ended_at or now)
    alerts = []
    if consult.started_at is not None and consult.state == ConsultState.IN_CALL:
        config = limits()
        alerts = [
            {"kind": alert.kind.value, "at": alert.at.isoformat()}
            for alert in clock.alerts(
                started_at=consult.started_at,
                review_seconds=consult.review_seconds,
                limit_seconds=config["limit_seconds"],
                before_boundary_seconds=config["before_boundary_seconds"],
                before_end_seconds=config["before_end_seconds"],
            )
        ]
    joined = (
        consult.events.filter(kind__in=JOIN_EVENTS).order_by("-pk").values_list("pk", flat=True)
    ).first()
    return {
        "type": "state",
        "state": consult.state,
        # Which patient-side connection this is: a new one (a reload, another device) needs a
        # new offer from the hospital's side.
        "patient_joined": joined,
        "server_now": now.isoformat(),
        "patient_waiting": consult.patient_connected(now, STALE_AFTER),
        "present_patient_side": consult.present_patient_side,
        "present_hospital_side": consult.present_hospital_side,
        "patient_confirmed": consult.patient_confirmed_at is not None,
        "hospital_confirmed": consult.hospital_confirmed_at is not None,
        "started_at": consult.started_at.isoformat() if consult.started_at else None,
        "ended_at": consult.ended_at.isoformat() if consult.ended_at else None,
        "end_reason": consult.end_reason,
        "limit_at": consult.limit_at.isoformat() if consult.limit_at else None,
        "review_seconds": case_review,
        "billable_seconds": case_review + call,
        "alerts": alerts,
    }


def specialists_day(user: User, day: date) -> QuerySet[Consult]:
    """The specialist's consults booked on a day (JST), with their cases, in time order."""
    start = datetime.combine(day, datetime.min.time(), tzinfo=JST)
    return (
        Consult.objects.filter(
            specialist=user,
            booking__starts_at__gte=start,
            booking__starts_at__lt=start + timedelta(days=1),
        )
        .select_related("case", "booking")
        .order_by("booking__starts_at", "pk")
    )
