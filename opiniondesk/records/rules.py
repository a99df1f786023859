"""How long a case's records are kept (SPEC §11.16). Pure: no database, settings or clock.

A case is kept at least `years` years from its end: its closing (`closed`, the opinion delivered
and the fee settled) or the final state it ended in otherwise (withdrawn, rejected, declined,
cancelled, no show), counted from the time it reached that state, as a date in Japan (JST).

The anniversary is the same calendar date `years` later; when that date does not exist (a case
that ended on 29 February, and a later year that is not a leap year) it is the last day of that
month, 28 February: the period never runs past the month it ends in. The case is kept through
that whole day and may be purged from the next day on.
"""

import calendar
from datetime import date, datetime
from zoneinfo import ZoneInfo

JST = ZoneInfo("Asia/Tokyo")

# The states a case ends in: nothing leaves them (cases/workflow.py has no transition out).
FINAL_STATES = frozenset({"closed", "withdrawn", "rejected", "declined", "cancelled", "no_show"})


def add_years(day: date, years: int) -> date:
    """The same calendar date `years` later, or the last day of that month."""
    year = day.year + years
    last = calendar.monthrange(year, day.month)[1]
    return date(year, day.month, min(day.day, last))


def kept_until(status: str, ended_at: datetime | None, years: int) -> date | None:
    """The last day (JST) the case's records must be kept; None while the case has not ended
    (it is kept whatever its age). `ended_at` is when the case reached its final state."""
    if years < 1:
        raise ValueError("the retention period is at least one year")
    if status not in FINAL_STATES or ended_at is None:
        return None
    if ended_at.tzinfo is None:
        raise ValueError("the end of a case is an aware datetime")
    return add_years(ended_at.astimezone(JST).date(), years)


def may_purge(status: str, ended_at: datetime | None, years: int, today: date) -> bool:
    """Past its retention period on `today` (a JST date). Legal holds are the caller's."""
    until = kept_until(status, ended_at, years)
    return until is not None and today > until
