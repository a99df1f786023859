"""Consult slots, where a consult of a given length fits, and the patient's change deadline
(SPEC §2, §5).

Slots are 30 minutes long, on the department's weekly consult sessions plus any extra sessions,
minus the periods a specialist is away, and never on a day the hospital is closed
(`closed_days.closure`). A consult of 60 minutes takes two consecutive slots of one specialist
(`consult_starts`). The patient may change or cancel a booking until 23:59:59 JST of the day
before the consult, whatever time zone the server or the caller uses.

Pure: no database, settings or clock. Session and away times are wall-clock times in Japan
(naive `time`s); every datetime handed back is aware, in Asia/Tokyo.
"""

from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from opiniondesk.catalog.closed_days import DEFAULT_YEAR_END, YearEndClosure, is_open

JST = ZoneInfo("Asia/Tokyo")
SLOT_MINUTES = 30
_SLOT = timedelta(minutes=SLOT_MINUTES)


def _check_wall_clock(*times: time) -> None:
    for moment in times:
        if moment.tzinfo is not None:
            raise ValueError("session and away times are naive wall-clock times in Japan")


@dataclass(frozen=True)
class WeeklyHours:
    """A department's weekly consult session; `weekday` as `date.weekday()` (0 = Monday)."""

    weekday: int
    starts_at: time
    ends_at: time

    def __post_init__(self) -> None:
        if not 0 <= self.weekday <= 6:
            raise ValueError(f"weekday must be 0 (Monday) to 6 (Sunday), not {self.weekday}")
        _check_wall_clock(self.starts_at, self.ends_at)
        if self.starts_at >= self.ends_at:
            raise ValueError("a session must end after it starts")


@dataclass(frozen=True)
class Away:
    """A specialist away on `day`: all day when both times are None, else for that part."""

    day: date
    starts_at: time | None = None
    ends_at: time | None = None

    def __post_init__(self) -> None:
        if (self.starts_at is None) != (self.ends_at is None):
            raise ValueError("give both times for a partial absence, or neither for a whole day")
        if self.starts_at is not None and self.ends_at is not None:
            _check_wall_clock(self.starts_at, self.ends_at)
            if self.starts_at >= self.ends_at:
                raise ValueError("an absence must end after it starts")

    @property
    def all_day(self) -> bool:
        return self.starts_at is None


@dataclass(frozen=True)
class ExtraSession:
    """A one-off consult session on `day`, in addition to the weekly ones."""

    day: date
    starts_at: time
    ends_at: time

    def __post_init__(self) -> None:
        _check_wall_clock(self.starts_at, self.ends_at)
        if self.starts_at >= self.ends_at:
            raise ValueError("a session must end after it starts")


type Availability = Away | ExtraSession
"""An exception to the weekly hours."""


@dataclass(frozen=True, order=True)
class Slot:
    """A consult slot; both ends aware, in Asia/Tokyo."""

    starts_at: datetime
    ends_at: datetime


def _minutes(moment: time) -> int:
    """Minutes since midnight, rounded up to the next whole minute."""
    whole = moment.hour * 60 + moment.minute
    return whole + 1 if (moment.second or moment.microsecond) else whole


def _session_starts(starts_at: time, ends_at: time) -> range:
    """Start minutes of the whole slots, on the :00/:30 grid, inside a session."""
    first = -(-_minutes(starts_at) // SLOT_MINUTES) * SLOT_MINUTES  # rounded up to the grid
    last = ends_at.hour * 60 + ends_at.minute - SLOT_MINUTES  # ends_at rounded down
    return range(first, last + 1, SLOT_MINUTES)


def _overlaps_away(start_minute: int, absences: Sequence[Away]) -> bool:
    slot_start = time(start_minute // 60, start_minute % 60)
    end_minute = start_minute + SLOT_MINUTES  # a slot ends inside its session: before 24:00
    slot_end = time(end_minute // 60, end_minute % 60)
    for away in absences:
        if away.starts_at is None or away.ends_at is None:
            return True
        if away.starts_at < slot_end and slot_start < away.ends_at:
            return True
    return False


def _at(day: date, minute: int) -> datetime:
    return datetime.combine(day, time(minute // 60, minute % 60), tzinfo=JST)


def generate_slots(
    *,
    weekly: Sequence[WeeklyHours],
    start: date,
    end: date,
    away: Sequence[Away] = (),
    extra: Sequence[ExtraSession] = (),
    year_end: YearEndClosure = DEFAULT_YEAR_END,
) -> list[Slot]:
    """Every 30-minute slot from `start` to `end` inclusive, sorted and without duplicates.

    Slots start on the :00/:30 grid and lie wholly inside a weekly or extra session (a session of
    14:00–15:45 gives 14:00, 14:30 and 15:00). A slot that overlaps an away period is dropped;
    nothing is given on a closed day, extra sessions included.
    """
    by_weekday: defaultdict[int, list[tuple[time, time]]] = defaultdict(list)
    for hours in weekly:
        by_weekday[hours.weekday].append((hours.starts_at, hours.ends_at))
    extra_by_day: defaultdict[date, list[tuple[time, time]]] = defaultdict(list)
    for session in extra:
        extra_by_day[session.day].append((session.starts_at, session.ends_at))
    away_by_day: defaultdict[date, list[Away]] = defaultdict(list)
    for absence in away:
        away_by_day[absence.day].append(absence)

    slots: list[Slot] = []
    for ordinal in range(start.toordinal(), end.toordinal() + 1):
        day = date.fromordinal(ordinal)
        sessions = by_weekday.get(day.weekday(), []) + extra_by_day.get(day, [])
        if not sessions or not is_open(day, year_end=year_end):
            continue
        absences = away_by_day.get(day, [])
        starts = {minute for session in sessions for minute in _session_starts(*session)}
        for minute in sorted(starts):
            if absences and _overlaps_away(minute, absences):
                continue
            slot_start = _at(day, minute)
            slots.append(Slot(slot_start, slot_start + _SLOT))
    return slots


def slots_needed(minutes: int) -> int:
    """How many slots a consult of `minutes` takes; ValueError unless a positive multiple of 30."""
    if minutes <= 0 or minutes % SLOT_MINUTES:
        raise ValueError(f"a consult lasts a positive multiple of {SLOT_MINUTES} minutes")
    return minutes // SLOT_MINUTES


def slot_starts(starts_at: datetime, minutes: int) -> list[datetime]:
    """The starts of the slots that a consult of `minutes` from `starts_at` occupies."""
    return [starts_at + index * _SLOT for index in range(slots_needed(minutes))]


def consult_starts(
    slots: Sequence[Slot], *, minutes: int, taken: Collection[datetime] = frozenset()
) -> list[Slot]:
    """Where a consult of `minutes` fits among one specialist's `slots`, as `generate_slots` gives
    them; each fit is the whole consult, from its first slot's start to its last slot's end.

    Its slots follow one another on one day in Japan, each starting where the one before ends, so
    it never spans a gap between sessions, an absence, a closed day, or a slot in `taken` (held
    or booked for another case). Sessions that touch make one stretch: nothing lies between them.
    """
    needed = slots_needed(minutes)
    by_start = {slot.starts_at: slot for slot in slots if slot.starts_at not in taken}
    fits = []
    for first in sorted(by_start.values()):
        chain = [first]
        while len(chain) < needed and chain[-1].ends_at in by_start:
            chain.append(by_start[chain[-1].ends_at])
        day = first.starts_at.astimezone(JST).date()
        if len(chain) == needed and chain[-1].starts_at.astimezone(JST).date() == day:
            fits.append(Slot(first.starts_at, chain[-1].ends_at))
    return fits


def _require_aware(moment: datetime, name: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime")


def change_deadline(consult_start: datetime) -> datetime:
    """The last moment the patient may change or cancel: 23:59:59.999999 JST of the day before
    the consult's date in Japan. Aware in JST, whatever time zone `consult_start` carries."""
    _require_aware(consult_start, "consult_start")
    consult_day = consult_start.astimezone(JST).date()
    return datetime.combine(consult_day - timedelta(days=1), time.max, tzinfo=JST)


def may_patient_change(consult_start: datetime, now: datetime) -> bool:
    """Whether the patient (not staff) may still change or cancel the booking at `now`."""
    _require_aware(now, "now")
    return now <= change_deadline(consult_start)
