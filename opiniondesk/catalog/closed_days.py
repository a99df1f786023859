"""Is the hospital open on a date, and if not, why (SPEC §2, §11.18).

Closed: Saturdays, Sundays, every Japanese national holiday including substitute holidays
(振替休日) and citizens' holidays (国民の休日) — taken from the maintained `holidays` library —
and the year-end closure (年末年始), whose range is passed in (a setting). Pure: no database,
settings or clock.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from functools import lru_cache

import holidays


class ClosedReason(StrEnum):
    NATIONAL_HOLIDAY = "national_holiday"  # 祝日
    SUBSTITUTE_HOLIDAY = "substitute_holiday"  # 振替休日
    CITIZENS_HOLIDAY = "citizens_holiday"  # 国民の休日
    YEAR_END = "year_end"  # 年末年始
    SATURDAY = "saturday"
    SUNDAY = "sunday"


@dataclass(frozen=True)
class MonthDay:
    month: int
    day: int

    @classmethod
    def parse(cls, text: str) -> "MonthDay":
        """'12-29' → MonthDay(12, 29); raises ValueError on anything else."""
        month_text, _, day_text = text.partition("-")
        month_day = cls(int(month_text), int(day_text))
        date(2024, month_day.month, month_day.day)  # validates (2024 is a leap year)
        return month_day

    def key(self) -> tuple[int, int]:
        return (self.month, self.day)


@dataclass(frozen=True)
class YearEndClosure:
    """An inclusive range of month-days, which may wrap over 1 January."""

    start: MonthDay
    end: MonthDay

    def contains(self, day: date) -> bool:
        key = (day.month, day.day)
        if self.start.key() <= self.end.key():
            return self.start.key() <= key <= self.end.key()
        return key >= self.start.key() or key <= self.end.key()


DEFAULT_YEAR_END = YearEndClosure(MonthDay(12, 29), MonthDay(1, 3))


@dataclass(frozen=True)
class Closure:
    """Why the hospital is closed on a date; `name` is the holiday's Japanese name, if any."""

    day: date
    reason: ClosedReason
    name: str = ""


@lru_cache(maxsize=256)
def _holidays(year: int, language: str = "ja") -> dict[date, str]:
    return dict(holidays.country_holidays("JP", years=year, language=language).items())


def holiday_name(day: date, language: str) -> str:
    """The holiday's name in the page's language (Japanese for "ja…", else English), or ""."""
    return _holidays(day.year, "ja" if language.startswith("ja") else "en_US").get(day, "")


def _holiday_reason(name: str) -> ClosedReason:
    if name == "振替休日":
        return ClosedReason.SUBSTITUTE_HOLIDAY
    if name == "国民の休日":
        return ClosedReason.CITIZENS_HOLIDAY
    return ClosedReason.NATIONAL_HOLIDAY


def closure(day: date, *, year_end: YearEndClosure = DEFAULT_YEAR_END) -> Closure | None:
    """None when the hospital is open on `day`; otherwise the main reason it is closed.

    When several reasons apply, the most specific one is given: a holiday before the
    year-end closure, and both before the weekend.
    """
    name = _holidays(day.year).get(day)
    if name is not None:
        return Closure(day, _holiday_reason(name), name)
    if year_end.contains(day):
        return Closure(day, ClosedReason.YEAR_END)
    if day.weekday() == 5:
        return Closure(day, ClosedReason.SATURDAY)
    if day.weekday() == 6:
        return Closure(day, ClosedReason.SUNDAY)
    return None


def is_open(day: date, *, year_end: YearEndClosure = DEFAULT_YEAR_END) -> bool:
    return closure(day, year_end=year_end) is None


def closed_days(year: int, *, year_end: YearEndClosure = DEFAULT_YEAR_END) -> list[Closure]:
    """Every closed date of `year`, in date order."""
    return [c for day in _days_of(year) if (c := closure(day, year_end=year_end))]


def next_open_day(day: date, *, year_end: YearEndClosure = DEFAULT_YEAR_END) -> date:
    """The first open day on or after `day`."""
    while not is_open(day, year_end=year_end):
        day += timedelta(days=1)
    return day


def _days_of(year: int) -> Iterator[date]:
    # By ordinal, not by adding a day: 9999-12-31 has no next day to stop at.
    first, last = date(year, 1, 1).toordinal(), date(year, 12, 31).toordinal()
    for ordinal in range(first, last + 1):
        yield date.fromordinal(ordinal)
