"""When a signed-in session ends (SPEC §11.10): after a time without requests, and for patients
also a fixed time after signing in, however busy. Pure: no database, settings or clock."""

from dataclasses import dataclass
from enum import StrEnum


class Ended(StrEnum):
    IDLE = "idle"
    MAX_AGE = "max_age"


@dataclass(frozen=True)
class Limits:
    idle_seconds: float
    # None: no limit however long the session has lasted (staff: 15 idle minutes are enough).
    max_seconds: float | None = None


def limits_for(
    *, staff: bool, staff_idle_minutes: int, patient_idle_minutes: int, patient_max_hours: int
) -> Limits:
    """Staff: the short idle time only. Patients and their proxies: a longer idle time, as they
    read and fill long forms at home, and an absolute maximum (0: none)."""
    if staff:
        return Limits(idle_seconds=staff_idle_minutes * 60)
    return Limits(
        idle_seconds=patient_idle_minutes * 60,
        max_seconds=patient_max_hours * 3600 if patient_max_hours > 0 else None,
    )


def session_end(
    *, now: float, last_activity: float | None, signed_in_at: float | None, limits: Limits
) -> Ended | None:
    """Why the session has ended at `now`, or None while it goes on. Times are seconds since the
    epoch; None: not recorded yet (the first request after signing in records them)."""
    if (
        limits.max_seconds is not None
        and signed_in_at is not None
        and now - signed_in_at > limits.max_seconds
    ):
        return Ended.MAX_AGE
    if last_activity is not None and now - last_activity > limits.idle_seconds:
        return Ended.IDLE
    return None
