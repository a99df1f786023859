"""Lead times of a case's steps (issue #16 item 11). Pure: no database, settings or clock; the
page (`lead_time_page.py`) reads the recorded history and hands it in.

A case passes six milestones, each the first time it was recorded: the application sent (the
transition to `submitted`), screening started (`screening`), the department's acceptance
(`accepted`), the booking (`booked`), the consult (`in_consult`, its start) and the opinion sent
(the first delivery of the signed opinion to the physician: a link e-mailed or a posting
recorded). A step lasts from one milestone to the next; it counts in the JST month it ended.
"""

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from enum import StrEnum


class Milestone(StrEnum):
    APPLIED = "applied"
    SCREENING = "screening"
    ACCEPTED = "accepted"
    BOOKED = "booked"
    CONSULTED = "consulted"
    OPINION_SENT = "opinion_sent"


MILESTONES = tuple(Milestone)
# A step is named by the milestone that starts it: APPLIED is "application → screening".
STEPS = MILESTONES[:-1]
SECONDS_PER_DAY = 86400


def percentile(values: Sequence[float], p: float) -> float | None:
    """The `p`-th percentile (0–100) of `values`, None when there are none.

    Linear interpolation between the closest ranks (Hyndman & Fan's type 7; numpy's default,
    Excel's PERCENTILE.INC): with the values sorted as x[0] … x[n-1], the rank h = (n - 1)·p/100
    and the result x[⌊h⌋] + (h - ⌊h⌋)·(x[⌊h⌋+1] - x[⌊h⌋]). So the median of an even count is the
    mean of the two middle values, and one value is every percentile of itself.
    """
    if not 0 <= p <= 100:
        raise ValueError(f"a percentile is between 0 and 100, not {p}")
    ordered = sorted(values)
    if not ordered:
        return None
    rank = (len(ordered) - 1) * p / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (rank - low) * (ordered[high] - ordered[low])


@dataclass(frozen=True)
class CaseHistory:
    """One case as the page read it: when it first reached each milestone."""

    case_id: int
    department_id: int | None
    ended: bool  # rejected, declined, withdrawn, cancelled, no-show or closed
    reached: Mapping[Milestone, datetime]


@dataclass(frozen=True)
class Summary:
    count: int
    median: float | None
    p90: float | None


@dataclass(frozen=True)
class Waiting:
    case_id: int
    department_id: int | None
    since: datetime
    days: float


def month_of(moment: datetime, zone: tzinfo) -> date:
    """The first day of the month `moment` falls in, in `zone` (JST for the page)."""
    return moment.astimezone(zone).date().replace(day=1)


def months_between(first: date, last: date) -> list[date]:
    """The first days of the months from `first`'s to `last`'s, both included."""
    months, month = [], first.replace(day=1)
    while month <= last:
        months.append(month)
        month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return months


def step_days(history: CaseHistory, step: Milestone) -> tuple[float, datetime] | None:
    """How many days `step` took in this case and when it ended; None while it has not."""
    after = MILESTONES[MILESTONES.index(step) + 1]
    start, end = history.reached.get(step), history.reached.get(after)
    if start is None or end is None or end < start:
        return None
    return (end - start).total_seconds() / SECONDS_PER_DAY, end


Key = tuple[int | None, date | None, Milestone]  # department (None: all), month (None: all)


def summarise(
    histories: Iterable[CaseHistory], *, months: Sequence[date], zone: tzinfo
) -> dict[Key, Summary]:
    """Median and 90th percentile of each step's days, per department and month and over all
    of them (None in the key), for the steps that ended in `months`."""
    wanted = set(months)
    days: dict[Key, list[float]] = defaultdict(list)
    for history in histories:
        for step in STEPS:
            took = step_days(history, step)
            if took is None or (month := month_of(took[1], zone)) not in wanted:
                continue
            for department in (history.department_id, None):
                for when in (month, None):
                    days[department, when, step].append(took[0])
    return {
        key: Summary(len(values), percentile(values, 50), percentile(values, 90))
        for key, values in days.items()
    }


def current_step(history: CaseHistory) -> Milestone | None:
    """The step an open case is in: after the last milestone it reached, before the next."""
    if history.ended:
        return None
    reached = [m for m in STEPS if m in history.reached]
    if not reached or Milestone.OPINION_SENT in history.reached:
        return None
    last = reached[-1]
    return last if MILESTONES[MILESTONES.index(last) + 1] not in history.reached else None


def waiting_longest(
    histories: Iterable[CaseHistory], *, now: datetime, limit: int
) -> dict[Milestone, list[Waiting]]:
    """The open cases in each step, those waiting longest first (at most `limit` a step)."""
    waiting: dict[Milestone, list[Waiting]] = {step: [] for step in STEPS}
    for history in histories:
        step = current_step(history)
        if step is None:
            continue
        since = history.reached[step]
        days = (now - since).total_seconds() / SECONDS_PER_DAY
        waiting[step].append(Waiting(history.case_id, history.department_id, since, days))
    return {
        step: sorted(cases, key=lambda w: (-w.days, w.case_id))[:limit]
        for step, cases in waiting.items()
    }
