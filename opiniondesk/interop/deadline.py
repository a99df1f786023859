"""The time limit of a disclosure request (SPEC §11.15). Pure: no database, settings or clock.

The Act on the Protection of Personal Information (個人情報保護法 §33) asks for disclosure
"without delay" (遅滞なく) and names no number of days; the hospital sets its own limit
(`DISCLOSURE_DUE_DAYS`). Days are calendar days in Japan time, counted from the day after the
request: closed days are not skipped, since the patient's wait does not stop on a holiday and a
limit in calendar days is the stricter reading of "without delay".
"""

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum


class Standing(StrEnum):
    ON_TIME = "on_time"  # open, more than `soon_days` left
    DUE_SOON = "due_soon"  # open, due within `soon_days` (or today)
    OVERDUE = "overdue"  # open, past the due day
    FULFILLED = "fulfilled"  # fulfilled by the due day
    FULFILLED_LATE = "fulfilled_late"  # fulfilled after the due day


@dataclass(frozen=True)
class Deadline:
    due_on: date
    standing: Standing
    days_taken: int  # days from the request to the fulfilment, or to today while open
    days_left: int  # to the due day; negative when overdue (0 once fulfilled)

    @property
    def days_overdue(self) -> int:
        return max(0, -self.days_left)

    @property
    def highlighted(self) -> bool:
        """Open and overdue or due soon: staff see it marked."""
        return self.standing in (Standing.OVERDUE, Standing.DUE_SOON)


def deadline(
    *,
    requested_on: date,
    today: date,
    due_days: int,
    soon_days: int = 3,
    fulfilled_on: date | None = None,
) -> Deadline:
    """Where a request stands: `requested_on`, `today` and `fulfilled_on` are JST dates."""
    if due_days < 1 or soon_days < 0:
        raise ValueError("due_days must be 1 or more, soon_days 0 or more")
    due_on = requested_on + timedelta(days=due_days)
    if fulfilled_on is not None:
        late = fulfilled_on > due_on
        return Deadline(
            due_on,
            Standing.FULFILLED_LATE if late else Standing.FULFILLED,
            (fulfilled_on - requested_on).days,
            0,
        )
    left = (due_on - today).days
    if left < 0:
        standing = Standing.OVERDUE
    elif left <= soon_days:
        standing = Standing.DUE_SOON
    else:
        standing = Standing.ON_TIME
    return Deadline(due_on, standing, (today - requested_on).days, left)
