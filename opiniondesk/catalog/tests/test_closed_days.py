"""Closed days (SPEC §2, §11.18): weekends, national holidays and the year-end closure.

The expected values are written out from the official calendar (内閣府「国民の祝日について」),
not recomputed with the holidays library the module uses.
"""

from datetime import date, timedelta

import pytest

from opiniondesk.catalog.closed_days import (
    DEFAULT_YEAR_END,
    ClosedReason,
    Closure,
    MonthDay,
    YearEndClosure,
    closed_days,
    closure,
    holiday_name,
    is_open,
    next_open_day,
)

HOLIDAY = ClosedReason.NATIONAL_HOLIDAY
SUBSTITUTE = ClosedReason.SUBSTITUTE_HOLIDAY
CITIZENS = ClosedReason.CITIZENS_HOLIDAY
YEAR_END = ClosedReason.YEAR_END
SATURDAY = ClosedReason.SATURDAY
SUNDAY = ClosedReason.SUNDAY
OPEN = None

# day, why it is closed (None: open), the holiday's name
CALENDAR = [
    # 2019: the new era, a ten-day Golden Week, the enthronement ceremony
    (date(2019, 1, 1), HOLIDAY, "元日"),
    (date(2019, 1, 14), HOLIDAY, "成人の日"),
    (date(2019, 3, 21), HOLIDAY, "春分の日"),
    (date(2019, 4, 26), OPEN, ""),
    (date(2019, 4, 27), SATURDAY, ""),
    (date(2019, 4, 28), SUNDAY, ""),
    (date(2019, 4, 29), HOLIDAY, "昭和の日"),
    (date(2019, 4, 30), CITIZENS, "国民の休日"),
    (date(2019, 5, 1), HOLIDAY, "天皇の即位の日"),
    (date(2019, 5, 2), CITIZENS, "国民の休日"),
    (date(2019, 5, 3), HOLIDAY, "憲法記念日"),
    (date(2019, 5, 4), HOLIDAY, "みどりの日"),  # a Saturday
    (date(2019, 5, 5), HOLIDAY, "こどもの日"),  # a Sunday
    (date(2019, 5, 6), SUBSTITUTE, "振替休日"),
    (date(2019, 5, 7), OPEN, ""),
    (date(2019, 9, 23), HOLIDAY, "秋分の日"),
    (date(2019, 10, 14), HOLIDAY, "体育の日"),
    (date(2019, 10, 22), HOLIDAY, "即位礼正殿の儀が行われる日"),
    (date(2019, 11, 4), SUBSTITUTE, "振替休日"),
    (date(2019, 12, 23), OPEN, ""),  # no Emperor's Birthday in 2019
    # 2020: the Olympic moves of 海の日, スポーツの日 and 山の日
    (date(2020, 2, 23), HOLIDAY, "天皇誕生日"),  # a Sunday
    (date(2020, 2, 24), SUBSTITUTE, "振替休日"),
    (date(2020, 3, 20), HOLIDAY, "春分の日"),
    (date(2020, 5, 6), SUBSTITUTE, "振替休日"),
    (date(2020, 7, 20), OPEN, ""),  # the third Monday of July in other years
    (date(2020, 7, 23), HOLIDAY, "海の日"),
    (date(2020, 7, 24), HOLIDAY, "スポーツの日"),
    (date(2020, 8, 10), HOLIDAY, "山の日"),
    (date(2020, 8, 11), OPEN, ""),
    (date(2020, 9, 22), HOLIDAY, "秋分の日"),
    (date(2020, 10, 12), OPEN, ""),  # the second Monday of October in other years
    # 2021: the postponed Games
    (date(2021, 3, 20), HOLIDAY, "春分の日"),  # a Saturday: no substitute holiday
    (date(2021, 3, 22), OPEN, ""),
    (date(2021, 7, 19), OPEN, ""),
    (date(2021, 7, 22), HOLIDAY, "海の日"),
    (date(2021, 7, 23), HOLIDAY, "スポーツの日"),
    (date(2021, 8, 8), HOLIDAY, "山の日"),  # a Sunday
    (date(2021, 8, 9), SUBSTITUTE, "振替休日"),
    (date(2021, 8, 11), OPEN, ""),
    (date(2021, 10, 11), OPEN, ""),
    # 2024
    (date(2024, 1, 8), HOLIDAY, "成人の日"),
    (date(2024, 2, 11), HOLIDAY, "建国記念の日"),  # a Sunday
    (date(2024, 2, 12), SUBSTITUTE, "振替休日"),
    (date(2024, 2, 23), HOLIDAY, "天皇誕生日"),
    (date(2024, 2, 29), OPEN, ""),
    (date(2024, 3, 20), HOLIDAY, "春分の日"),
    (date(2024, 9, 22), HOLIDAY, "秋分の日"),  # a Sunday
    (date(2024, 9, 23), SUBSTITUTE, "振替休日"),
    (date(2024, 10, 14), HOLIDAY, "スポーツの日"),
    (date(2024, 11, 23), HOLIDAY, "勤労感謝の日"),  # a Saturday
    (date(2024, 12, 27), OPEN, ""),
    (date(2024, 12, 28), SATURDAY, ""),
    (date(2024, 12, 29), YEAR_END, ""),  # a Sunday
    (date(2024, 12, 31), YEAR_END, ""),
    # 2025
    (date(2025, 1, 1), HOLIDAY, "元日"),
    (date(2025, 1, 2), YEAR_END, ""),
    (date(2025, 1, 3), YEAR_END, ""),
    (date(2025, 1, 4), SATURDAY, ""),
    (date(2025, 1, 5), SUNDAY, ""),
    (date(2025, 1, 6), OPEN, ""),
    (date(2025, 1, 13), HOLIDAY, "成人の日"),
    (date(2025, 2, 23), HOLIDAY, "天皇誕生日"),  # a Sunday
    (date(2025, 2, 24), SUBSTITUTE, "振替休日"),
    (date(2025, 3, 20), HOLIDAY, "春分の日"),
    (date(2025, 5, 3), HOLIDAY, "憲法記念日"),  # a Saturday
    (date(2025, 5, 4), HOLIDAY, "みどりの日"),  # a Sunday
    (date(2025, 5, 5), HOLIDAY, "こどもの日"),
    (date(2025, 5, 6), SUBSTITUTE, "振替休日"),
    (date(2025, 6, 2), OPEN, ""),
    (date(2025, 7, 21), HOLIDAY, "海の日"),
    (date(2025, 9, 15), HOLIDAY, "敬老の日"),
    (date(2025, 9, 23), HOLIDAY, "秋分の日"),
    (date(2025, 11, 23), HOLIDAY, "勤労感謝の日"),  # a Sunday
    (date(2025, 11, 24), SUBSTITUTE, "振替休日"),
    (date(2025, 12, 26), OPEN, ""),
    (date(2025, 12, 27), SATURDAY, ""),
    (date(2025, 12, 29), YEAR_END, ""),
    # 2026
    (date(2026, 1, 1), HOLIDAY, "元日"),
    (date(2026, 1, 2), YEAR_END, ""),
    (date(2026, 1, 3), YEAR_END, ""),  # a Saturday
    (date(2026, 1, 4), SUNDAY, ""),
    (date(2026, 1, 5), OPEN, ""),
    (date(2026, 1, 12), HOLIDAY, "成人の日"),
    (date(2026, 2, 23), HOLIDAY, "天皇誕生日"),
    (date(2026, 3, 20), HOLIDAY, "春分の日"),
    (date(2026, 4, 1), OPEN, ""),
    (date(2026, 5, 2), SATURDAY, ""),
    (date(2026, 5, 3), HOLIDAY, "憲法記念日"),  # a Sunday
    (date(2026, 5, 4), HOLIDAY, "みどりの日"),
    (date(2026, 5, 5), HOLIDAY, "こどもの日"),
    (date(2026, 5, 6), SUBSTITUTE, "振替休日"),
    (date(2026, 5, 7), OPEN, ""),
    (date(2026, 7, 20), HOLIDAY, "海の日"),
    (date(2026, 8, 11), HOLIDAY, "山の日"),
    (date(2026, 9, 21), HOLIDAY, "敬老の日"),
    (date(2026, 9, 22), CITIZENS, "国民の休日"),
    (date(2026, 9, 23), HOLIDAY, "秋分の日"),
    (date(2026, 9, 24), OPEN, ""),
    (date(2026, 10, 12), HOLIDAY, "スポーツの日"),
    (date(2026, 11, 3), HOLIDAY, "文化の日"),
    (date(2026, 11, 23), HOLIDAY, "勤労感謝の日"),
    (date(2026, 12, 25), OPEN, ""),
    (date(2026, 12, 26), SATURDAY, ""),
    (date(2026, 12, 27), SUNDAY, ""),
    (date(2026, 12, 28), OPEN, ""),
    (date(2026, 12, 29), YEAR_END, ""),
    (date(2026, 12, 30), YEAR_END, ""),
    (date(2026, 12, 31), YEAR_END, ""),
    # 2027
    (date(2027, 1, 1), HOLIDAY, "元日"),
    (date(2027, 1, 2), YEAR_END, ""),  # a Saturday
    (date(2027, 1, 3), YEAR_END, ""),  # a Sunday
    (date(2027, 1, 4), OPEN, ""),
    (date(2027, 1, 11), HOLIDAY, "成人の日"),
    (date(2027, 3, 21), HOLIDAY, "春分の日"),  # a Sunday
    (date(2027, 3, 22), SUBSTITUTE, "振替休日"),
    (date(2027, 5, 3), HOLIDAY, "憲法記念日"),
    (date(2027, 5, 6), OPEN, ""),
    # 2032: another citizens' holiday between 敬老の日 and 秋分の日
    (date(2032, 3, 20), HOLIDAY, "春分の日"),  # a Saturday
    (date(2032, 9, 20), HOLIDAY, "敬老の日"),
    (date(2032, 9, 21), CITIZENS, "国民の休日"),
    (date(2032, 9, 22), HOLIDAY, "秋分の日"),
    (date(2032, 9, 23), OPEN, ""),
    (date(2032, 12, 29), YEAR_END, ""),
]


@pytest.mark.parametrize(
    ("day", "reason", "name"), CALENDAR, ids=[row[0].isoformat() for row in CALENDAR]
)
def test_closure(day: date, reason: ClosedReason | None, name: str) -> None:
    expected = None if reason is None else Closure(day, reason, name)

    assert closure(day) == expected
    assert is_open(day) is (reason is None)


@pytest.mark.parametrize(
    ("day", "language", "name"),
    [
        (date(2027, 1, 1), "ja", "元日"),
        (date(2027, 1, 1), "en", "New Year's Day"),
        (date(2027, 1, 1), "en-us", "New Year's Day"),
        (date(2026, 11, 23), "ja", "勤労感謝の日"),
        (date(2026, 11, 23), "en", "Labor Thanksgiving Day"),
        (date(2027, 3, 22), "en", "Substitute Holiday"),
        (date(2026, 12, 29), "en", ""),  # the year-end closure is not a holiday
        (date(2026, 12, 2), "ja", ""),
    ],
)
def test_holiday_name(day: date, language: str, name: str) -> None:
    assert holiday_name(day, language) == name


def test_the_reason_codes() -> None:
    assert [reason.value for reason in ClosedReason] == [
        "national_holiday",
        "substitute_holiday",
        "citizens_holiday",
        "year_end",
        "saturday",
        "sunday",
    ]


def test_the_default_year_end_is_29_december_to_3_january() -> None:
    assert (DEFAULT_YEAR_END.start, DEFAULT_YEAR_END.end) == (MonthDay(12, 29), MonthDay(1, 3))


# A hospital that closes 28 December – 4 January, and one that closes only 26–31 December.
LONG_YEAR_END = YearEndClosure(MonthDay(12, 28), MonthDay(1, 4))
DECEMBER_ONLY = YearEndClosure(MonthDay(12, 26), MonthDay(12, 31))


@pytest.mark.parametrize(
    ("year_end", "day", "reason"),
    [
        (LONG_YEAR_END, date(2026, 12, 25), OPEN),
        (LONG_YEAR_END, date(2026, 12, 27), SUNDAY),
        (LONG_YEAR_END, date(2026, 12, 28), YEAR_END),
        (LONG_YEAR_END, date(2026, 12, 31), YEAR_END),
        (LONG_YEAR_END, date(2027, 1, 1), HOLIDAY),
        (LONG_YEAR_END, date(2027, 1, 4), YEAR_END),
        (LONG_YEAR_END, date(2027, 1, 5), OPEN),
        (LONG_YEAR_END, date(2026, 1, 2), YEAR_END),
        (DECEMBER_ONLY, date(2026, 12, 25), OPEN),
        (DECEMBER_ONLY, date(2026, 12, 26), YEAR_END),  # a Saturday
        (DECEMBER_ONLY, date(2026, 12, 28), YEAR_END),
        (DECEMBER_ONLY, date(2026, 12, 31), YEAR_END),
        (DECEMBER_ONLY, date(2027, 1, 1), HOLIDAY),
        (DECEMBER_ONLY, date(2027, 1, 2), SATURDAY),
        (DECEMBER_ONLY, date(2026, 1, 2), OPEN),
        (DECEMBER_ONLY, date(2026, 1, 5), OPEN),
    ],
)
def test_a_custom_year_end(
    year_end: YearEndClosure, day: date, reason: ClosedReason | None
) -> None:
    found = closure(day, year_end=year_end)

    assert (found.reason if found else None) == reason
    assert is_open(day, year_end=year_end) is (reason is None)


@pytest.mark.parametrize(
    ("start", "end", "inside", "outside"),
    [
        ((12, 29), (1, 3), [(12, 29), (12, 31), (1, 1), (1, 3)], [(12, 28), (1, 4), (6, 15)]),
        ((12, 26), (12, 31), [(12, 26), (12, 31)], [(12, 25), (1, 1), (1, 3)]),
        ((12, 31), (12, 31), [(12, 31)], [(12, 30), (1, 1)]),
        ((2, 28), (3, 1), [(2, 28), (2, 29), (3, 1)], [(2, 27), (3, 2)]),
        ((8, 13), (8, 16), [(8, 13), (8, 16)], [(8, 12), (8, 17), (12, 31)]),
    ],
)
def test_year_end_contains(
    start: tuple[int, int],
    end: tuple[int, int],
    inside: list[tuple[int, int]],
    outside: list[tuple[int, int]],
) -> None:
    closure_range = YearEndClosure(MonthDay(*start), MonthDay(*end))

    for month, day in inside:
        assert closure_range.contains(date(2024, month, day)), (month, day)
    for month, day in outside:
        assert not closure_range.contains(date(2024, month, day)), (month, day)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12-29", MonthDay(12, 29)),
        ("01-03", MonthDay(1, 3)),
        ("1-3", MonthDay(1, 3)),
        ("02-29", MonthDay(2, 29)),
        ("12-31", MonthDay(12, 31)),
    ],
)
def test_month_day_parse(text: str, expected: MonthDay) -> None:
    assert MonthDay.parse(text) == expected


@pytest.mark.parametrize(
    "text",
    ["13-01", "00-10", "02-30", "04-31", "12-00", "12-32", "x", "", "12", "12-", "-29", "12-29-1",
     "12/29", "1229", "dec-29"],
)  # fmt: skip
def test_month_day_parse_refuses(text: str) -> None:
    with pytest.raises(ValueError):
        MonthDay.parse(text)


def _every_day_of(year: int) -> list[date]:
    first = date(year, 1, 1)
    return [first + timedelta(days=n) for n in range((date(year + 1, 1, 1) - first).days)]


@pytest.mark.parametrize("year", [2019, 2020, 2021, 2024, 2025, 2026, 2027, 2032])
def test_closed_days_of_a_year(year: int) -> None:
    days = closed_days(year)
    dates = [c.day for c in days]

    assert dates == sorted(set(dates))
    assert all(d.year == year for d in dates)
    assert all(closure(c.day) == c for c in days)
    assert {d for d in _every_day_of(year) if d.weekday() >= 5} <= set(dates)
    # agrees with the day-by-day table above
    assert {Closure(d, r, n) for d, r, n in CALENDAR if d.year == year and r} <= set(days)
    assert not {d for d, r, _ in CALENDAR if d.year == year and r is None} & set(dates)


# Every closed weekday of 2026, written out: the weekends aside, this is the whole year.
WEEKDAYS_CLOSED_2026 = [
    (date(2026, 1, 1), HOLIDAY),
    (date(2026, 1, 2), YEAR_END),
    (date(2026, 1, 12), HOLIDAY),
    (date(2026, 2, 11), HOLIDAY),
    (date(2026, 2, 23), HOLIDAY),
    (date(2026, 3, 20), HOLIDAY),
    (date(2026, 4, 29), HOLIDAY),
    (date(2026, 5, 4), HOLIDAY),
    (date(2026, 5, 5), HOLIDAY),
    (date(2026, 5, 6), SUBSTITUTE),
    (date(2026, 7, 20), HOLIDAY),
    (date(2026, 8, 11), HOLIDAY),
    (date(2026, 9, 21), HOLIDAY),
    (date(2026, 9, 22), CITIZENS),
    (date(2026, 9, 23), HOLIDAY),
    (date(2026, 10, 12), HOLIDAY),
    (date(2026, 11, 3), HOLIDAY),
    (date(2026, 11, 23), HOLIDAY),
    (date(2026, 12, 29), YEAR_END),
    (date(2026, 12, 30), YEAR_END),
    (date(2026, 12, 31), YEAR_END),
]


def test_every_closed_day_of_2026() -> None:
    days = closed_days(2026)

    assert len(days) == 104 + len(WEEKDAYS_CLOSED_2026)  # 2026 has 104 weekend days
    assert [(c.day, c.reason) for c in days if c.day.weekday() < 5] == WEEKDAYS_CLOSED_2026


# 104 weekend days in each of these years, plus the holidays and year-end days on weekdays.
@pytest.mark.parametrize(
    ("year", "weekday_holidays", "weekday_year_end"),
    [
        (2019, 17, 4),
        (2020, 16, 5),
        (2021, 15, 3),
        (2024, 14, 4),
        (2025, 15, 5),
        (2026, 17, 4),
        (2027, 16, 3),
        (2032, 16, 4),
    ],
)
def test_closed_days_per_year(year: int, weekday_holidays: int, weekday_year_end: int) -> None:
    days = closed_days(year)
    on_weekdays = [c for c in days if c.day.weekday() < 5]

    assert len(days) - len(on_weekdays) == 104
    assert len([c for c in on_weekdays if c.reason is not YEAR_END]) == weekday_holidays
    assert len([c for c in on_weekdays if c.reason is YEAR_END]) == weekday_year_end


def test_closed_days_with_a_custom_year_end() -> None:
    days = closed_days(2026, year_end=LONG_YEAR_END)
    year_end = [c.day for c in days if c.reason is YEAR_END]

    assert year_end == [
        date(2026, 1, 2),
        date(2026, 1, 3),
        date(2026, 1, 4),
        date(2026, 12, 28),
        date(2026, 12, 29),
        date(2026, 12, 30),
        date(2026, 12, 31),
    ]


@pytest.mark.parametrize("year", [1, 9999])
def test_closed_days_at_the_ends_of_the_calendar(year: int) -> None:
    days = closed_days(year)

    assert days[0].day == date(year, 1, 1)
    assert days[-1].day == date(year, 12, 31)


@pytest.mark.parametrize(
    ("day", "year_end", "expected"),
    [
        (date(2026, 4, 30), DEFAULT_YEAR_END, date(2026, 4, 30)),  # already open
        (date(2026, 4, 29), DEFAULT_YEAR_END, date(2026, 4, 30)),
        (date(2026, 5, 2), DEFAULT_YEAR_END, date(2026, 5, 7)),
        (date(2026, 9, 19), DEFAULT_YEAR_END, date(2026, 9, 24)),
        (date(2019, 4, 27), DEFAULT_YEAR_END, date(2019, 5, 7)),
        (date(2026, 12, 26), DEFAULT_YEAR_END, date(2026, 12, 28)),
        (date(2026, 12, 29), DEFAULT_YEAR_END, date(2027, 1, 4)),
        (date(2025, 12, 27), DEFAULT_YEAR_END, date(2026, 1, 5)),
        (date(2026, 12, 26), LONG_YEAR_END, date(2027, 1, 5)),
        (date(2026, 12, 29), DECEMBER_ONLY, date(2027, 1, 4)),
    ],
)
def test_next_open_day(day: date, year_end: YearEndClosure, expected: date) -> None:
    assert next_open_day(day, year_end=year_end) == expected
