"""The consult's clock (SPEC §7, §8): pure, table-tested."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from opiniondesk.consults.clock import (
    Alert,
    Room,
    Warning,
    alerts,
    billable_minutes,
    call_limit,
    room_state,
    seconds_between,
)

T0 = datetime(2026, 12, 8, 5, 0, tzinfo=UTC)  # 14:00 in Japan
HOUR = 3600


@pytest.mark.parametrize(
    ("review", "call", "minutes"),
    [
        (0, 0, 0),
        (0, 59, 0),  # seconds are dropped
        (0, 60, 1),
        (20 * 60, 9 * 60 + 59, 29),  # 29:59 is still the first tier's
        (20 * 60, 10 * 60, 30),
        (30 * 60 + 30, 30, 31),  # the seconds of both add up before they are dropped
        (59 * 60 + 59, 1, 60),
        (60 * 60, 60 * 60, 120),
    ],
)
def test_billable_minutes_add_review_and_call_and_drop_seconds(review, call, minutes):
    assert billable_minutes(review, call) == minutes


@pytest.mark.parametrize(("review", "call"), [(-1, 0), (0, -1)])
def test_negative_time_is_an_error(review, call):
    with pytest.raises(ValueError):
        billable_minutes(review, call)


@pytest.mark.parametrize(
    ("review", "limit", "left"),
    [
        (0, HOUR, HOUR),
        (20 * 60, HOUR, 40 * 60),  # the review counts toward the hour
        (60 * 60, HOUR, 0),
        (70 * 60, HOUR, 0),  # never before the start
        (0, 90, 90),  # a test's short limit
    ],
)
def test_the_call_ends_at_the_limit_less_the_review(review, limit, left):
    assert call_limit(started_at=T0, review_seconds=review, limit_seconds=limit) == T0 + timedelta(
        seconds=left
    )


def at(seconds: int) -> datetime:
    return T0 + timedelta(seconds=seconds)


@pytest.mark.parametrize(
    ("review", "limit", "expected"),
    [
        # No review: warned 3 min before 30:00 and 5 min before 60:00.
        (0, HOUR, [Alert(Warning.BOUNDARY, at(27 * 60)), Alert(Warning.END, at(55 * 60))]),
        # 20 min of review: the boundary comes 10 minutes into the call.
        (20 * 60, HOUR, [Alert(Warning.BOUNDARY, at(7 * 60)), Alert(Warning.END, at(35 * 60))]),
        # 28 min of review: the boundary warning's moment has passed at the start.
        (28 * 60, HOUR, [Alert(Warning.END, at(27 * 60))]),
        # Past the boundary already: only the end.
        (40 * 60, HOUR, [Alert(Warning.END, at(15 * 60))]),
        # A limit of 30 minutes has no boundary to pass.
        (0, 30 * 60, [Alert(Warning.END, at(25 * 60))]),
        # Too little time left for any warning.
        (58 * 60, HOUR, []),
    ],
)
def test_both_sides_are_warned_before_the_boundary_and_the_end(review, limit, expected):
    assert (
        alerts(
            started_at=T0,
            review_seconds=review,
            limit_seconds=limit,
            before_boundary_seconds=3 * 60,
            before_end_seconds=5 * 60,
        )
        == expected
    )


@given(
    review=st.integers(0, 2 * HOUR),
    limit=st.integers(1, 2 * HOUR),
    before_boundary=st.integers(0, 10 * 60),
    before_end=st.integers(0, 10 * 60),
)
def test_warnings_come_after_the_start_and_before_the_limit(
    review, limit, before_boundary, before_end
):
    end = call_limit(started_at=T0, review_seconds=review, limit_seconds=limit)
    found = alerts(
        started_at=T0,
        review_seconds=review,
        limit_seconds=limit,
        before_boundary_seconds=before_boundary,
        before_end_seconds=before_end,
    )
    assert [a.at for a in found] == sorted(a.at for a in found)
    assert all(T0 < a.at <= end for a in found)
    assert len({a.kind for a in found}) == len(found)


@pytest.mark.parametrize(
    ("minutes_before", "state"),
    [(60, Room.NOT_YET), (5.01, Room.NOT_YET), (5, Room.OPEN), (0, Room.OPEN), (-90, Room.OPEN)],
)
def test_the_waiting_room_opens_five_minutes_before(minutes_before, state):
    now = T0 - timedelta(minutes=minutes_before)
    assert room_state(now=now, starts_at=T0, open_before_minutes=5) is state


def test_seconds_between_is_whole_and_never_negative():
    assert seconds_between(T0, T0 + timedelta(seconds=61.9)) == 61
    assert seconds_between(T0, T0 - timedelta(seconds=5)) == 0
