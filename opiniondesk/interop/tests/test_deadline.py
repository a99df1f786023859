"""The time limit of a disclosure request: calendar days in JST from the day of the request."""

from datetime import date

import pytest

from opiniondesk.interop.deadline import Standing, deadline

D = date


@pytest.mark.parametrize(
    ("requested", "today", "fulfilled", "due", "standing", "taken", "left"),
    [
        # Open: 14 days from 1 December is 15 December, whatever falls between (holidays too).
        (D(2026, 12, 1), D(2026, 12, 1), None, D(2026, 12, 15), Standing.ON_TIME, 0, 14),
        (D(2026, 12, 1), D(2026, 12, 11), None, D(2026, 12, 15), Standing.ON_TIME, 10, 4),
        (D(2026, 12, 1), D(2026, 12, 12), None, D(2026, 12, 15), Standing.DUE_SOON, 11, 3),
        (D(2026, 12, 1), D(2026, 12, 15), None, D(2026, 12, 15), Standing.DUE_SOON, 14, 0),
        (D(2026, 12, 1), D(2026, 12, 16), None, D(2026, 12, 15), Standing.OVERDUE, 15, -1),
        # Over the year-end closure: calendar days, the closure is not skipped.
        (D(2026, 12, 25), D(2027, 1, 9), None, D(2027, 1, 8), Standing.OVERDUE, 15, -1),
        # Fulfilled: on the due day is in time, the day after is late.
        (
            D(2026, 12, 1),
            D(2027, 3, 1),
            D(2026, 12, 15),
            D(2026, 12, 15),
            Standing.FULFILLED,
            14,
            0,
        ),
        (
            D(2026, 12, 1),
            D(2027, 3, 1),
            D(2026, 12, 16),
            D(2026, 12, 15),
            Standing.FULFILLED_LATE,
            15,
            0,
        ),
        (D(2026, 12, 1), D(2026, 12, 1), D(2026, 12, 1), D(2026, 12, 15), Standing.FULFILLED, 0, 0),
    ],
)
def test_it_places_a_request_against_its_limit(
    requested, today, fulfilled, due, standing, taken, left
):
    result = deadline(requested_on=requested, today=today, due_days=14, fulfilled_on=fulfilled)
    assert (result.due_on, result.standing, result.days_taken, result.days_left) == (
        due,
        standing,
        taken,
        left,
    )
    assert result.days_overdue == max(0, -left)
    assert result.highlighted is (standing in (Standing.OVERDUE, Standing.DUE_SOON))


def test_it_follows_the_configured_limit_and_warning():
    result = deadline(requested_on=D(2026, 1, 1), today=D(2026, 1, 3), due_days=7, soon_days=5)
    assert (result.due_on, result.standing) == (D(2026, 1, 8), Standing.DUE_SOON)
    result = deadline(requested_on=D(2026, 1, 1), today=D(2026, 1, 2), due_days=7, soon_days=5)
    assert result.standing == Standing.ON_TIME


@pytest.mark.parametrize(("due_days", "soon_days"), [(0, 3), (-1, 3), (14, -1)])
def test_it_refuses_a_limit_that_means_nothing(due_days, soon_days):
    with pytest.raises(ValueError):
        deadline(
            requested_on=D(2026, 1, 1), today=D(2026, 1, 1), due_days=due_days, soon_days=soon_days
        )
