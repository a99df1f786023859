"""How long a case is kept: every final state, JST days, leap days, open cases (pure)."""

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from opiniondesk.cases.workflow import TRANSITIONS, Status
from opiniondesk.records.rules import FINAL_STATES, add_years, kept_until, may_purge

JST = timezone(timedelta(hours=9))


def test_the_final_states_are_those_the_lifecycle_never_leaves():
    left = {current for current, _ in TRANSITIONS}
    assert {s.value for s in Status} - left == FINAL_STATES


@pytest.mark.parametrize(
    "day,years,expected",
    [
        (date(2026, 12, 2), 5, date(2031, 12, 2)),
        (date(2024, 2, 29), 5, date(2029, 2, 28)),  # no 29 Feb in 2029: last day of February
        (date(2024, 2, 29), 4, date(2028, 2, 29)),  # a leap year again: the same date
        (date(2024, 2, 28), 5, date(2029, 2, 28)),
        (date(2024, 3, 1), 5, date(2029, 3, 1)),
        (date(2025, 12, 31), 5, date(2030, 12, 31)),
        (date(2026, 1, 31), 1, date(2027, 1, 31)),
        (date(2026, 6, 30), 10, date(2036, 6, 30)),
    ],
)
def test_add_years(day, years, expected):
    assert add_years(day, years) == expected


@pytest.mark.parametrize(
    "status,ended_at,years,expected",
    [
        # Every final state counts from the time it was reached.
        ("closed", datetime(2026, 12, 2, 10, 0, tzinfo=JST), 5, date(2031, 12, 2)),
        ("withdrawn", datetime(2026, 12, 2, 10, 0, tzinfo=JST), 5, date(2031, 12, 2)),
        ("rejected", datetime(2026, 12, 2, 10, 0, tzinfo=JST), 5, date(2031, 12, 2)),
        ("declined", datetime(2026, 12, 2, 10, 0, tzinfo=JST), 5, date(2031, 12, 2)),
        ("cancelled", datetime(2026, 12, 2, 10, 0, tzinfo=JST), 5, date(2031, 12, 2)),
        ("no_show", datetime(2026, 12, 2, 10, 0, tzinfo=JST), 5, date(2031, 12, 2)),
        # The day is Japan's: 16:00 UTC on 1 Dec is 01:00 on 2 Dec in Tokyo.
        ("closed", datetime(2026, 12, 1, 16, 0, tzinfo=UTC), 5, date(2031, 12, 2)),
        ("closed", datetime(2026, 12, 1, 14, 59, tzinfo=UTC), 5, date(2031, 12, 1)),
        # 29 February: the last day of February five years on.
        ("closed", datetime(2024, 2, 29, 12, 0, tzinfo=JST), 5, date(2029, 2, 28)),
        ("closed", datetime(2024, 2, 28, 15, 30, tzinfo=UTC), 5, date(2029, 2, 28)),  # 29 Feb JST
        ("closed", datetime(2024, 2, 29, 15, 30, tzinfo=UTC), 5, date(2029, 3, 1)),  # 1 Mar JST
        # Another period (the setting).
        ("closed", datetime(2026, 12, 2, 10, 0, tzinfo=JST), 10, date(2036, 12, 2)),
        ("closed", datetime(2026, 12, 2, 10, 0, tzinfo=JST), 1, date(2027, 12, 2)),
        # Not ended: kept whatever its age.
        ("charged", datetime(2000, 1, 1, tzinfo=JST), 5, None),
        ("completed", datetime(2000, 1, 1, tzinfo=JST), 5, None),
        ("draft", datetime(2000, 1, 1, tzinfo=JST), 5, None),
        ("booked", datetime(2000, 1, 1, tzinfo=JST), 5, None),
        ("closed", None, 5, None),
    ],
)
def test_kept_until(status, ended_at, years, expected):
    assert kept_until(status, ended_at, years) == expected


@pytest.mark.parametrize(
    "status,today,expected",
    [
        ("closed", date(2031, 12, 1), False),
        ("closed", date(2031, 12, 2), False),  # kept through its last day
        ("closed", date(2031, 12, 3), True),
        ("withdrawn", date(2040, 1, 1), True),
        ("charged", date(2099, 1, 1), False),
    ],
)
def test_may_purge(status, today, expected):
    ended = datetime(2026, 12, 2, 10, 0, tzinfo=JST)
    assert may_purge(status, ended, 5, today) is expected


@pytest.mark.parametrize(
    "ended_at,years",
    [
        (datetime(2026, 12, 2, 10, 0), 5),  # naive: which day is it in Japan?
        (datetime(2026, 12, 2, 10, 0, tzinfo=JST), 0),
        (datetime(2026, 12, 2, 10, 0, tzinfo=JST), -5),
    ],
)
def test_bad_input_is_refused(ended_at, years):
    with pytest.raises(ValueError):
        kept_until("closed", ended_at, years)
