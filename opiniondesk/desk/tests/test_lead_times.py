"""The lead-time rules (issue #16 item 11): the percentile, the steps of a case's history, the
months and the open cases waiting longest. Pure: no database."""

from datetime import date, datetime, timedelta

import pytest

from opiniondesk.core.time import JST
from opiniondesk.desk.lead_times import (
    CaseHistory,
    Milestone,
    current_step,
    months_between,
    percentile,
    step_days,
    summarise,
    waiting_longest,
)

M = Milestone


@pytest.mark.parametrize(
    ("values", "p", "expected"),
    [
        ([], 50, None),  # no cases: no figure
        ([], 90, None),
        ([4.0], 50, 4.0),  # one value is every percentile of itself
        ([4.0], 90, 4.0),
        ([4.0], 0, 4.0),
        ([3.0, 1.0, 2.0], 50, 2.0),  # odd count: the middle value, whatever the order
        ([1.0, 2.0, 3.0, 4.0], 50, 2.5),  # even count: the mean of the two middle values
        ([1.0, 2.0, 3.0, 4.0], 90, 3.7),  # rank 2.7: 3 + 0.7 × (4 - 3)
        ([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0], 90, 9.1),
        ([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0], 90, 10.0),  # rank exactly 10
        ([5.0, 5.0, 5.0, 5.0], 50, 5.0),  # ties
        ([5.0, 5.0, 5.0, 5.0], 90, 5.0),
        ([1.0, 5.0, 5.0, 9.0], 50, 5.0),  # tied middle values
        ([2.0, 2.0, 2.0, 30.0], 90, 21.6),  # one slow case pulls the 90th, not the median
        ([2.0, 2.0, 2.0, 30.0], 50, 2.0),
        ([0.0, 10.0], 100, 10.0),
        ([0.0, 10.0], 0, 0.0),
    ],
)
def test_percentile(values, p, expected):
    result = percentile(values, p)
    if expected is None:
        assert result is None
    else:
        assert result == pytest.approx(expected)


@pytest.mark.parametrize("p", [-1, 100.5])
def test_a_percentile_outside_0_to_100_is_refused(p):
    with pytest.raises(ValueError):
        percentile([1.0], p)


DAY0 = datetime(2026, 3, 31, 23, 30, tzinfo=JST)


def history(case_id=1, department=1, ended=False, **days):
    """A case that reached each milestone `days[name]` days after DAY0."""
    reached = {M(name): DAY0 + timedelta(days=d) for name, d in days.items()}
    return CaseHistory(case_id, department, ended, reached)


@pytest.mark.parametrize(
    ("case", "step", "expected"),
    [
        (history(applied=0, screening=2.5), M.APPLIED, 2.5),
        (history(applied=0), M.APPLIED, None),  # not screened yet
        (history(screening=2), M.APPLIED, None),  # no start recorded
        (history(applied=0, screening=1, accepted=4), M.SCREENING, 3.0),
        (history(consulted=10, opinion_sent=24), M.CONSULTED, 14.0),
    ],
)
def test_step_days(case, step, expected):
    took = step_days(case, step)
    assert (took[0] if took else None) == (pytest.approx(expected) if expected else None)


def test_months_between_crosses_the_year():
    assert months_between(date(2025, 11, 20), date(2026, 2, 1)) == [
        date(2025, 11, 1),
        date(2025, 12, 1),
        date(2026, 1, 1),
        date(2026, 2, 1),
    ]
    assert months_between(date(2026, 3, 1), date(2026, 2, 1)) == []


def test_a_step_counts_in_the_jst_month_it_ended():
    # Screened 2026-04-01 00:30 JST (still March in UTC): April's figure, not March's.
    cases = [history(applied=-3, screening=1 / 24), history(case_id=2, applied=-2, screening=-1)]
    figures = summarise(cases, months=[date(2026, 3, 1), date(2026, 4, 1)], zone=JST)
    assert figures[1, date(2026, 4, 1), M.APPLIED].count == 1
    assert figures[1, date(2026, 3, 1), M.APPLIED].median == pytest.approx(1.0)
    assert figures[1, None, M.APPLIED].count == 2  # the months together
    assert figures[None, None, M.APPLIED].count == 2  # the departments together


def test_steps_ending_outside_the_months_are_left_out():
    figures = summarise([history(applied=0, screening=40)], months=[date(2026, 4, 1)], zone=JST)
    assert figures == {}


def test_figures_are_per_department():
    cases = [
        history(case_id=1, department=1, applied=0, screening=2),
        history(case_id=2, department=1, applied=0, screening=4),
        history(case_id=3, department=2, applied=0, screening=10),
    ]
    figures = summarise(cases, months=[date(2026, 4, 1)], zone=JST)
    assert figures[1, None, M.APPLIED].median == pytest.approx(3.0)
    assert figures[2, None, M.APPLIED].median == pytest.approx(10.0)
    assert figures[None, None, M.APPLIED].count == 3
    assert figures[None, None, M.APPLIED].median == pytest.approx(4.0)


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        (history(applied=0), M.APPLIED),
        (history(applied=0, screening=1), M.SCREENING),
        (history(applied=0, screening=1, accepted=2, booked=3), M.BOOKED),
        (history(applied=0, screening=1, accepted=2, booked=3, consulted=4), M.CONSULTED),
        (history(applied=0, consulted=4, opinion_sent=5), None),  # nothing left to wait for
        (history(ended=True, applied=0, screening=1), None),  # rejected, withdrawn, closed …
        (history(), None),  # never sent
    ],
)
def test_the_step_an_open_case_is_in(case, expected):
    assert current_step(case) == expected


def test_the_cases_waiting_longest_come_first_at_most_limit():
    now = DAY0 + timedelta(days=30)
    cases = [
        history(case_id=1, applied=20),
        history(case_id=2, applied=5),
        history(case_id=3, applied=10),
        history(case_id=4, applied=1, ended=True),
        history(case_id=5, applied=0, screening=2),
    ]
    waiting = waiting_longest(cases, now=now, limit=2)
    assert [(w.case_id, round(w.days)) for w in waiting[M.APPLIED]] == [(2, 25), (3, 20)]
    assert [w.case_id for w in waiting[M.SCREENING]] == [5]
    assert waiting[M.CONSULTED] == []
