"""The consult's clock (SPEC §7, §8). Pure: no database, settings or clock of its own.

Billable time is the specialist's review of the materials plus the call, in whole minutes
(seconds dropped). A consult lasts at most the limit (60 minutes) including the review, so the
call may run for the limit less the review time; both sides are warned before the 30-minute fee
boundary and before the end.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

FEE_BOUNDARY_MINUTES = 30  # the first tier of the fee table ends here (SPEC §8)


def billable_minutes(review_seconds: int, call_seconds: int) -> int:
    """Whole minutes of review and call together, seconds dropped."""
    if review_seconds < 0 or call_seconds < 0:
        raise ValueError("times are never negative")
    return (review_seconds + call_seconds) // 60


def call_limit(*, started_at: datetime, review_seconds: int, limit_seconds: int) -> datetime:
    """When the call must end: the limit counts the review time too (never before the start)."""
    return started_at + timedelta(seconds=max(0, limit_seconds - review_seconds))


class Warning(StrEnum):
    BOUNDARY = "boundary"  # the fee's 30-minute boundary is near
    END = "end"  # the end of the consult is near


@dataclass(frozen=True)
class Alert:
    kind: Warning
    at: datetime


def alerts(
    *,
    started_at: datetime,
    review_seconds: int,
    limit_seconds: int,
    before_boundary_seconds: int,
    before_end_seconds: int,
) -> list[Alert]:
    """When each side is warned, in time order (seconds into the call from `started_at`). A
    warning whose moment is already past at the start (a long review) is not given; the fee
    boundary is not warned when the limit does not go past it."""
    result = []
    boundary = FEE_BOUNDARY_MINUTES * 60 - review_seconds  # seconds of call until the boundary
    if limit_seconds > FEE_BOUNDARY_MINUTES * 60 and boundary > 0:
        at = boundary - before_boundary_seconds
        if at > 0:
            result.append(Alert(Warning.BOUNDARY, started_at + timedelta(seconds=at)))
    end = limit_seconds - review_seconds - before_end_seconds
    if end > 0:
        result.append(Alert(Warning.END, started_at + timedelta(seconds=end)))
    return sorted(result, key=lambda alert: alert.at)


class Room(StrEnum):
    NOT_YET = "not_yet"  # before the waiting room opens
    OPEN = "open"


def room_state(*, now: datetime, starts_at: datetime, open_before_minutes: int) -> Room:
    """The waiting room opens a few minutes before the booked time and stays open: the
    specialist may be late, and only staff decide that the patient did not come."""
    if now < starts_at - timedelta(minutes=open_before_minutes):
        return Room.NOT_YET
    return Room.OPEN


def seconds_between(start: datetime, end: datetime) -> int:
    """Whole seconds from start to end (never negative)."""
    return max(0, int((end - start).total_seconds()))
