"""Deadlines a patient can act on (SPEC §2, §5): on an open day, inside the phone desk's hours.

Dates are written out from the official calendar: 2026-12-04 is a Friday, 2026-09-22 a citizens'
holiday between 敬老の日 and 秋分の日, 2026-05-06 the substitute holiday for 憲法記念日.
"""

from datetime import UTC, date, datetime, time, timedelta

import pytest

from opiniondesk.catalog.closed_days import MonthDay, YearEndClosure
from opiniondesk.catalog.desk_hours import (
    DEFAULT_DESK_HOURS,
    DeskHours,
    desk_deadline,
    desk_due_date,
    desk_is_open,
    last_desk_moment,
    next_desk_closing,
)
from opiniondesk.core.time import JST


def jst(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=JST)  # type: ignore[misc]


LAST_MOMENT = [
    # naive deadline → the last moment at or before it when the desk answers
    (jst(2026, 12, 4, 12, 0), jst(2026, 12, 4, 12, 0)),  # Friday noon: as is
    (jst(2026, 12, 4, 10, 0), jst(2026, 12, 4, 10, 0)),  # opening minute
    (jst(2026, 12, 4, 9, 59), jst(2026, 12, 3, 17, 0)),  # just before opening: Thursday's close
    (jst(2026, 12, 4, 17, 0), jst(2026, 12, 4, 17, 0)),  # closing minute
    (jst(2026, 12, 4, 17, 0, 1), jst(2026, 12, 4, 17, 0)),  # a second after closing
    (jst(2026, 12, 4, 23, 59, 59), jst(2026, 12, 4, 17, 0)),
    (jst(2026, 12, 5, 17, 0), jst(2026, 12, 4, 17, 0)),  # the Saturday 17:00
    (jst(2026, 12, 6, 12, 0), jst(2026, 12, 4, 17, 0)),  # Sunday
    (jst(2026, 12, 7, 9, 0), jst(2026, 12, 4, 17, 0)),  # Monday before opening
    (jst(2026, 11, 23, 12, 0), jst(2026, 11, 20, 17, 0)),  # 勤労感謝の日 (Mon) → Friday
    (jst(2026, 11, 24, 9, 0), jst(2026, 11, 20, 17, 0)),  # the morning after it
    (jst(2026, 9, 23, 12, 0), jst(2026, 9, 18, 17, 0)),  # 敬老の日, 国民の休日, 秋分の日
    (jst(2026, 5, 6, 12, 0), jst(2026, 5, 1, 17, 0)),  # Golden Week's 振替休日
    (jst(2026, 12, 29, 10, 0), jst(2026, 12, 28, 17, 0)),  # first day of the year end
    (jst(2027, 1, 3, 17, 0), jst(2026, 12, 28, 17, 0)),  # last day of the year end
    (jst(2027, 1, 4, 9, 59), jst(2026, 12, 28, 17, 0)),  # reopening morning, too early
    (jst(2027, 1, 4, 10, 0), jst(2027, 1, 4, 10, 0)),  # reopening
    (datetime(2026, 12, 5, 8, 0, tzinfo=UTC), jst(2026, 12, 4, 17, 0)),  # Sat 17:00 JST in UTC
    (datetime(2026, 12, 4, 7, 30, tzinfo=UTC), jst(2026, 12, 4, 16, 30)),  # Fri 16:30 JST
]


@pytest.mark.parametrize(("naive", "expected"), LAST_MOMENT)
def test_last_desk_moment(naive: datetime, expected: datetime) -> None:
    moment = last_desk_moment(naive)
    assert moment == expected
    assert moment.utcoffset() == timedelta(hours=9)


NEXT_CLOSING = [
    (jst(2026, 12, 4, 12, 0), jst(2026, 12, 4, 12, 0)),  # the desk answers: as is
    (jst(2026, 12, 4, 9, 0), jst(2026, 12, 4, 17, 0)),  # before opening: that day's close
    (jst(2026, 12, 4, 17, 0, 1), jst(2026, 12, 7, 17, 0)),  # after Friday's close: Monday
    (jst(2026, 12, 5, 17, 0), jst(2026, 12, 7, 17, 0)),  # Saturday
    (jst(2026, 11, 21, 12, 0), jst(2026, 11, 24, 17, 0)),  # Saturday before 勤労感謝の日
    (jst(2026, 9, 19, 12, 0), jst(2026, 9, 24, 17, 0)),  # a five-day weekend
    (jst(2026, 12, 28, 17, 30), jst(2027, 1, 4, 17, 0)),  # into the year end
    (jst(2027, 12, 28, 18, 0), jst(2028, 1, 4, 17, 0)),  # 2028-01-04 is a Tuesday
]


@pytest.mark.parametrize(("naive", "expected"), NEXT_CLOSING)
def test_next_desk_closing(naive: datetime, expected: datetime) -> None:
    assert next_desk_closing(naive) == expected


DEADLINES = [
    # naive, not_before (now), deadline
    (jst(2026, 12, 5, 17, 0), jst(2026, 12, 2, 9, 0), jst(2026, 12, 4, 17, 0)),  # earlier
    (jst(2026, 12, 5, 17, 0), jst(2026, 12, 4, 16, 59), jst(2026, 12, 4, 17, 0)),
    (jst(2026, 12, 5, 17, 0), jst(2026, 12, 4, 17, 0), jst(2026, 12, 7, 17, 0)),  # would be over
    (jst(2026, 12, 5, 17, 0), jst(2026, 12, 4, 18, 0), jst(2026, 12, 7, 17, 0)),
    (jst(2026, 12, 31, 17, 0), jst(2026, 12, 28, 17, 30), jst(2027, 1, 4, 17, 0)),  # year end
    (jst(2026, 12, 31, 17, 0), jst(2026, 12, 25, 12, 0), jst(2026, 12, 28, 17, 0)),
    (jst(2026, 12, 9, 15, 0), jst(2026, 12, 2, 9, 0), jst(2026, 12, 9, 15, 0)),  # already fine
]


@pytest.mark.parametrize(("naive", "not_before", "expected"), DEADLINES)
def test_desk_deadline(naive: datetime, not_before: datetime, expected: datetime) -> None:
    assert desk_deadline(naive, not_before=not_before) == expected


DUE_DATES = [
    # asked-for day, today → the day the patient is given
    (date(2026, 12, 16), date(2026, 12, 2), date(2026, 12, 16)),  # a Wednesday: as is
    (date(2026, 12, 19), date(2026, 12, 2), date(2026, 12, 18)),  # Saturday → Friday
    (date(2026, 12, 30), date(2026, 12, 2), date(2026, 12, 28)),  # year end → before it
    (date(2027, 1, 2), date(2026, 12, 28), date(2027, 1, 4)),  # only today is before it
    (date(2026, 12, 5), date(2026, 12, 4), date(2026, 12, 7)),  # tomorrow is Saturday
]


@pytest.mark.parametrize(("day", "today", "expected"), DUE_DATES)
def test_desk_due_date(day: date, today: date, expected: date) -> None:
    assert desk_due_date(day, today=today) == expected


def test_every_quarter_hour_over_the_year_end_lands_on_the_last_open_desk_moment() -> None:
    step = timedelta(minutes=15)
    naive = jst(2026, 12, 18, 0, 0)
    while naive < jst(2027, 1, 12, 0, 0):
        moment = last_desk_moment(naive)
        assert desk_is_open(moment) and moment <= naive
        # Nothing between the answer and the naive deadline when the desk answers.
        probe = moment + step
        while probe <= naive:
            assert not desk_is_open(probe), (naive, moment, probe)
            probe += step
        naive += step


def test_a_changed_year_end_and_desk_hours_are_followed() -> None:
    year_end = YearEndClosure(MonthDay(12, 27), MonthDay(1, 5))
    hours = DeskHours(time(9, 0), time(16, 30))
    moment = last_desk_moment(jst(2027, 1, 6, 8, 0), hours=hours, year_end=year_end)
    assert moment == jst(2026, 12, 25, 16, 30)  # Friday 25th; 28th is already closed
    assert desk_is_open(jst(2027, 1, 6, 9, 0), hours=hours, year_end=year_end)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10:00–17:00", DEFAULT_DESK_HOURS),
        ("10:00-17:00", DEFAULT_DESK_HOURS),
        ("１０：００～１７：００", DEFAULT_DESK_HOURS),  # typed in full width
        (" 9:30 〜 16:30 ", DeskHours(time(9, 30), time(16, 30))),
    ],
)
def test_desk_hours_parse(text: str, expected: DeskHours) -> None:
    assert DeskHours.parse(text) == expected


@pytest.mark.parametrize("text", ["", "10-17", "10:00", "17:00–10:00", "10:00–25:00", "平日"])
def test_desk_hours_parse_refuses(text: str) -> None:
    with pytest.raises(ValueError):
        DeskHours.parse(text)


def test_a_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError):
        last_desk_moment(datetime(2026, 12, 5, 17, 0))
