"""When the phone desk answers, and deadlines a patient can act on (SPEC §2, §5).

Every deadline a patient is given (the hold on offered dates, documents asked for, an invitation
link) ends at a moment they could still call the desk about it: on an open day, inside the phone
desk's hours. The rule moves a deadline *earlier*, to the last such moment, because each one has a
limit it must not pass (a hold never outlives the day before its dates); only when that would fall
before a given moment (it would already be over) does it move forward to the desk's next closing.
Pure: no database, settings or clock; JST has no daylight saving time.
"""

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from opiniondesk.catalog.closed_days import DEFAULT_YEAR_END, YearEndClosure, is_open

JST = ZoneInfo("Asia/Tokyo")  # as in scheduling.slots: a pure module imports no Django

_HOURS = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*[-–—~〜]\s*(\d{1,2}):(\d{2})\s*$")


@dataclass(frozen=True)
class DeskHours:
    """The phone desk's hours on an open day, both ends included."""

    opens: time
    closes: time

    def __post_init__(self) -> None:
        if not self.opens < self.closes:
            raise ValueError("the desk must open before it closes")

    @classmethod
    def parse(cls, text: str) -> "DeskHours":
        """'10:00–17:00' (as the settings word it for people) → DeskHours; ValueError otherwise."""
        match = _HOURS.match(unicodedata.normalize("NFKC", text))
        if match is None:
            raise ValueError(f"not desk hours: {text!r}")
        h1, m1, h2, m2 = (int(part) for part in match.groups())
        return cls(time(h1, m1), time(h2, m2))


DEFAULT_DESK_HOURS = DeskHours(time(10, 0), time(17, 0))


def _require_aware(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("the moment must be an aware datetime")
    return moment.astimezone(JST)


def desk_is_open(
    moment: datetime,
    *,
    hours: DeskHours = DEFAULT_DESK_HOURS,
    year_end: YearEndClosure = DEFAULT_YEAR_END,
) -> bool:
    """Whether a patient could call the desk at `moment`."""
    local = _require_aware(moment)
    opens = datetime.combine(local.date(), hours.opens, tzinfo=JST)
    closes = datetime.combine(local.date(), hours.closes, tzinfo=JST)
    return is_open(local.date(), year_end=year_end) and opens <= local <= closes


def last_desk_moment(
    naive: datetime,
    *,
    hours: DeskHours = DEFAULT_DESK_HOURS,
    year_end: YearEndClosure = DEFAULT_YEAR_END,
) -> datetime:
    """The latest moment at or before `naive` when the desk is open, in JST."""
    local = _require_aware(naive)
    if desk_is_open(local, hours=hours, year_end=year_end):
        return local
    day = local.date()
    if not (is_open(day, year_end=year_end) and local.time() > hours.closes):
        day = _open_day_before(day, year_end)
    return datetime.combine(day, hours.closes, tzinfo=JST)


def next_desk_closing(
    naive: datetime,
    *,
    hours: DeskHours = DEFAULT_DESK_HOURS,
    year_end: YearEndClosure = DEFAULT_YEAR_END,
) -> datetime:
    """`naive` itself when the desk is open then, otherwise the end of the desk's next open day."""
    local = _require_aware(naive)
    if desk_is_open(local, hours=hours, year_end=year_end):
        return local
    day = local.date()
    if not (is_open(day, year_end=year_end) and local.time() < hours.opens):
        day = _open_day_after(day, year_end)
    return datetime.combine(day, hours.closes, tzinfo=JST)


def desk_deadline(
    naive: datetime,
    *,
    not_before: datetime,
    hours: DeskHours = DEFAULT_DESK_HOURS,
    year_end: YearEndClosure = DEFAULT_YEAR_END,
) -> datetime:
    """The deadline to give a patient instead of `naive`: the last moment at or before it when the
    desk is open, unless that is not after `not_before` (usually now); then the desk's next
    closing from `naive`, which the caller checks against its own limits."""
    earlier = last_desk_moment(naive, hours=hours, year_end=year_end)
    if earlier > not_before:
        return earlier
    return next_desk_closing(naive, hours=hours, year_end=year_end)


def desk_due_date(
    day: date,
    *,
    today: date,
    hours: DeskHours = DEFAULT_DESK_HOURS,
    year_end: YearEndClosure = DEFAULT_YEAR_END,
) -> date:
    """A "please send by" date the patient can still call on: `day` when it is open, else the
    open day before it, or the open day after it if that one would not be after `today`."""
    moment = desk_deadline(
        datetime.combine(day, time.max, tzinfo=JST),
        not_before=datetime.combine(today, time.max, tzinfo=JST),
        hours=hours,
        year_end=year_end,
    )
    return moment.date()


def _open_day_before(day: date, year_end: YearEndClosure) -> date:
    day -= timedelta(days=1)
    while not is_open(day, year_end=year_end):
        day -= timedelta(days=1)
    return day


def _open_day_after(day: date, year_end: YearEndClosure) -> date:
    day += timedelta(days=1)
    while not is_open(day, year_end=year_end):
        day += timedelta(days=1)
    return day
