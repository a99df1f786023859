"""The patient's change deadline (SPEC §5): until 23:59:59 JST of the day before the consult,
whatever time zone the consult time, the clock or the server uses."""

import os
import time as time_module
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opiniondesk.scheduling.slots import JST, change_deadline, may_patient_change

LOS_ANGELES = ZoneInfo("America/Los_Angeles")
ZONES = [UTC, LOS_ANGELES, JST]


def jst(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=JST)


def last_moment(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, 23, 59, 59, 999999, tzinfo=JST)


@pytest.mark.parametrize(
    ("consult_start", "deadline"),
    [
        (jst(2026, 6, 2, 14), last_moment(2026, 6, 1)),
        (jst(2026, 6, 2, 0, 0), last_moment(2026, 6, 1)),
        (jst(2026, 6, 2, 23, 59, 59), last_moment(2026, 6, 1)),
        # year ends and month ends
        (jst(2027, 1, 4, 14), last_moment(2027, 1, 3)),
        (jst(2027, 1, 1, 9), last_moment(2026, 12, 31)),
        (jst(2028, 3, 1, 10), last_moment(2028, 2, 29)),
        (jst(2027, 3, 1, 10), last_moment(2027, 2, 28)),
        # 2026-06-01T15:30Z is 06-02 00:30 in Japan: the JST date counts, not the UTC one
        (datetime(2026, 6, 1, 15, 30, tzinfo=UTC), last_moment(2026, 6, 1)),
        (datetime(2026, 6, 1, 14, 59, tzinfo=UTC), last_moment(2026, 5, 31)),
        # Los Angeles, in daylight saving time and out of it
        (datetime(2026, 6, 1, 22, 0, tzinfo=LOS_ANGELES), last_moment(2026, 6, 1)),
        (datetime(2026, 12, 1, 22, 0, tzinfo=LOS_ANGELES), last_moment(2026, 12, 1)),
        (datetime(2027, 1, 3, 8, 0, tzinfo=LOS_ANGELES), last_moment(2027, 1, 3)),
    ],
)
def test_change_deadline(consult_start: datetime, deadline: datetime) -> None:
    result = change_deadline(consult_start)
    assert result == deadline
    assert result.tzinfo is JST
    assert result.isoformat() == deadline.isoformat()


def test_year_end_iso_format() -> None:
    assert change_deadline(jst(2027, 1, 4, 14)).isoformat() == "2027-01-03T23:59:59.999999+09:00"


def test_a_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError):
        change_deadline(datetime(2026, 6, 2, 14))
    with pytest.raises(ValueError):
        may_patient_change(jst(2026, 6, 2, 14), datetime(2026, 6, 1, 12))


@pytest.mark.parametrize(
    ("now", "allowed"),
    [
        (jst(2026, 5, 20, 9), True),
        (jst(2026, 6, 1, 23, 59, 59), True),
        (last_moment(2026, 6, 1), True),
        (jst(2026, 6, 2, 0, 0), False),
        (jst(2026, 6, 2, 13, 0), False),  # the day itself, before the consult
        (jst(2026, 6, 3, 9), False),
        # the same instants seen from elsewhere
        (datetime(2026, 6, 1, 14, 59, 59, tzinfo=UTC), True),
        (datetime(2026, 6, 1, 15, 0, tzinfo=UTC), False),
        (datetime(2026, 6, 1, 7, 59, tzinfo=LOS_ANGELES), True),
        (datetime(2026, 6, 1, 8, 0, tzinfo=LOS_ANGELES), False),
    ],
)
def test_may_patient_change(now: datetime, allowed: bool) -> None:
    assert may_patient_change(jst(2026, 6, 2, 14), now) is allowed


@pytest.fixture
def server_in_los_angeles() -> Iterator[None]:
    """The process's local time zone set to Los Angeles, as a misconfigured server might be."""
    saved = os.environ.get("TZ")
    os.environ["TZ"] = "America/Los_Angeles"
    time_module.tzset()
    try:
        yield
    finally:
        if saved is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = saved
        time_module.tzset()


@pytest.mark.usefixtures("server_in_los_angeles")
def test_the_server_time_zone_does_not_matter() -> None:
    assert time_module.localtime(0).tm_gmtoff == -8 * 3600
    consult = datetime(2026, 6, 2, 14, tzinfo=JST)
    assert change_deadline(consult) == last_moment(2026, 6, 1)
    assert change_deadline(consult.astimezone()) == last_moment(2026, 6, 1)  # local = LA
    assert may_patient_change(consult, datetime(2026, 6, 1, 8, tzinfo=LOS_ANGELES)) is False


# ---------------------------------------------------------------- properties

instants = st.datetimes(
    min_value=datetime(1990, 1, 2), max_value=datetime(2099, 12, 31), timezones=st.just(UTC)
)


@settings(max_examples=300, deadline=None)
@given(instants)
def test_the_same_instant_in_any_zone_has_the_same_deadline(instant: datetime) -> None:
    deadlines = {change_deadline(instant.astimezone(zone)) for zone in ZONES}
    assert len(deadlines) == 1
    (deadline,) = deadlines
    assert deadline.tzinfo is JST


@settings(max_examples=300, deadline=None)
@given(instants, st.sampled_from(ZONES))
def test_the_deadline_is_the_last_moment_of_the_previous_jst_day(
    instant: datetime, zone: ZoneInfo
) -> None:
    consult = instant.astimezone(zone)
    deadline = change_deadline(consult)
    consult_day = consult.astimezone(JST).date()
    assert deadline < consult
    assert deadline.date() == consult_day - timedelta(days=1)
    assert deadline.time() == time(23, 59, 59, 999999)
    assert deadline.utcoffset() == timedelta(hours=9)
    # one microsecond later is midnight in Japan on the consult's date
    assert deadline + timedelta(microseconds=1) == datetime.combine(consult_day, time(), JST)
    assert consult - deadline <= timedelta(days=1)


@settings(max_examples=200, deadline=None)
@given(st.integers(1990, 2098), st.times(), st.sampled_from(ZONES))
def test_year_ends(year: int, moment: time, zone: ZoneInfo) -> None:
    consult = datetime.combine(date(year + 1, 1, 1), moment, JST).astimezone(zone)
    assert change_deadline(consult) == last_moment(year, 12, 31)
    after_closure = datetime.combine(date(year + 1, 1, 4), moment, JST).astimezone(zone)
    assert change_deadline(after_closure) == last_moment(year + 1, 1, 3)


@settings(max_examples=300, deadline=None)
@given(instants, instants, st.sampled_from(ZONES), st.sampled_from(ZONES))
def test_may_change_depends_only_on_the_instants(
    consult: datetime, now: datetime, consult_zone: ZoneInfo, now_zone: ZoneInfo
) -> None:
    allowed = may_patient_change(consult.astimezone(consult_zone), now.astimezone(now_zone))
    assert allowed == may_patient_change(consult, now)
    assert allowed == (now.astimezone(JST).date() < consult.astimezone(JST).date())
    if allowed:
        assert now < consult
