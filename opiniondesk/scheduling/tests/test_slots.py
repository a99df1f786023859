"""Consult slots (SPEC §2, §5): 30 minutes, on the consult sessions, never on a closed day; a
consult of 60 minutes takes two consecutive slots of one specialist.

The closed days in the tables are written out from the official calendar (内閣府「国民の祝日に
ついて」), not recomputed; the properties check the generator against `closed_days.is_open`.
"""

import ast
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from opiniondesk.catalog.closed_days import MonthDay, YearEndClosure, is_open
from opiniondesk.scheduling import slots as slots_module
from opiniondesk.scheduling.slots import (
    JST,
    SLOT_MINUTES,
    Away,
    ExtraSession,
    Slot,
    WeeklyHours,
    consult_starts,
    generate_slots,
    slot_starts,
    slots_needed,
)

MON, TUE, WED, THU, FRI, SAT, SUN = range(7)
CARDIOLOGY = [WeeklyHours(TUE, time(14), time(16)), WeeklyHours(THU, time(14), time(16))]
WEEKDAYS_9_TO_10 = [WeeklyHours(weekday, time(9), time(10)) for weekday in range(MON, SAT)]


def starts(slots: list[Slot]) -> list[str]:
    return [slot.starts_at.strftime("%m-%d %H:%M") for slot in slots]


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=JST)


# ---------------------------------------------------------------- tables


def test_cardiology_gives_four_slots_on_tuesday_and_thursday() -> None:
    # 2026-06-01 (Mon) .. 06-07 (Sun): no holiday that week
    result = generate_slots(weekly=CARDIOLOGY, start=date(2026, 6, 1), end=date(2026, 6, 7))
    assert starts(result) == [
        "06-02 14:00",
        "06-02 14:30",
        "06-02 15:00",
        "06-02 15:30",
        "06-04 14:00",
        "06-04 14:30",
        "06-04 15:00",
        "06-04 15:30",
    ]
    first = result[0]
    assert first == Slot(at(date(2026, 6, 2), 14), at(date(2026, 6, 2), 14, 30))
    assert first.starts_at.utcoffset() == timedelta(hours=9)


@pytest.mark.parametrize(
    ("monday", "open_day"),
    [
        # 2026-09-22 (Tue) is 国民の休日 between 敬老の日 and 秋分の日
        (date(2026, 9, 21), "09-24"),
        # 2026-11-03 (Tue) 文化の日
        (date(2026, 11, 2), "11-05"),
        # 2027-03-23 (Tue): no holiday; 2027-03-21 春分の日 is a Sunday, 03-22 振替休日 (Mon)
        (date(2027, 3, 22), None),
    ],
)
def test_a_week_with_a_national_holiday(monday: date, open_day: str | None) -> None:
    result = generate_slots(weekly=CARDIOLOGY, start=monday, end=monday + timedelta(days=6))
    days = sorted({s[:5] for s in starts(result)})
    if open_day is None:
        assert days == ["03-23", "03-25"]
    else:
        assert days == [open_day]
        assert len(result) == 4


def test_a_substitute_holiday_monday_has_no_slots() -> None:
    # 2027-03-22 (Mon) is 振替休日
    result = generate_slots(weekly=WEEKDAYS_9_TO_10, start=date(2027, 3, 22), end=date(2027, 3, 22))
    assert result == []


def test_the_year_end_closure_29_december_to_3_january() -> None:
    extra = [
        ExtraSession(date(2026, 12, 29), time(9), time(12)),  # a Tuesday inside the closure
        ExtraSession(date(2027, 1, 3), time(9), time(12)),
    ]
    result = generate_slots(
        weekly=WEEKDAYS_9_TO_10, start=date(2026, 12, 28), end=date(2027, 1, 4), extra=extra
    )
    assert starts(result) == ["12-28 09:00", "12-28 09:30", "01-04 09:00", "01-04 09:30"]


def test_the_year_end_closure_is_an_argument() -> None:
    short = YearEndClosure(MonthDay(12, 31), MonthDay(1, 1))
    result = generate_slots(
        weekly=WEEKDAYS_9_TO_10, start=date(2026, 12, 28), end=date(2027, 1, 4), year_end=short
    )
    # 12-29 and 12-30 open now; 01-01 元日 stays closed as a national holiday
    assert sorted({s[:5] for s in starts(result)}) == ["01-04", "12-28", "12-29", "12-30"]


@pytest.mark.parametrize(
    ("away", "expected"),
    [
        (Away(date(2026, 6, 2)), []),
        (Away(date(2026, 6, 2), time(14, 30), time(15)), ["14:00", "15:00", "15:30"]),
        # overlapping two slots drops both
        (Away(date(2026, 6, 2), time(14, 15), time(14, 45)), ["15:00", "15:30"]),
        # touching is not overlapping
        (Away(date(2026, 6, 2), time(12), time(14)), ["14:00", "14:30", "15:00", "15:30"]),
        (Away(date(2026, 6, 2), time(15), time(18)), ["14:00", "14:30"]),
        (Away(date(2026, 6, 2), time(15, 59), time(16)), ["14:00", "14:30", "15:00"]),
    ],
)
def test_away(away: Away, expected: list[str]) -> None:
    result = generate_slots(
        weekly=CARDIOLOGY, start=date(2026, 6, 2), end=date(2026, 6, 2), away=[away]
    )
    assert [slot.starts_at.strftime("%H:%M") for slot in result] == expected


def test_away_on_another_day_changes_nothing() -> None:
    plain = generate_slots(weekly=CARDIOLOGY, start=date(2026, 6, 1), end=date(2026, 6, 7))
    away = [Away(date(2026, 6, 3)), Away(date(2026, 6, 9), time(14), time(16))]
    result = generate_slots(
        weekly=CARDIOLOGY, start=date(2026, 6, 1), end=date(2026, 6, 7), away=away
    )
    assert result == plain


@pytest.mark.parametrize(
    ("session", "expected"),
    [
        (ExtraSession(date(2026, 6, 6), time(10), time(12)), []),  # Saturday
        (ExtraSession(date(2026, 6, 7), time(10), time(12)), []),  # Sunday
        (ExtraSession(date(2026, 6, 1), time(10), time(11)), ["06-01 10:00", "06-01 10:30"]),
    ],
)
def test_extra_session(session: ExtraSession, expected: list[str]) -> None:
    result = generate_slots(
        weekly=[], start=date(2026, 6, 1), end=date(2026, 6, 7), extra=[session]
    )
    assert starts(result) == expected


def test_extra_session_outside_the_range_is_ignored() -> None:
    extra = [ExtraSession(date(2026, 6, 8), time(10), time(11))]
    assert (
        generate_slots(weekly=[], start=date(2026, 6, 1), end=date(2026, 6, 7), extra=extra) == []
    )


def test_an_extra_session_overlapping_a_weekly_one_is_de_duplicated() -> None:
    extra = [
        ExtraSession(date(2026, 6, 2), time(15), time(17)),
        ExtraSession(date(2026, 6, 2), time(14), time(16)),  # the weekly session again
    ]
    result = generate_slots(
        weekly=CARDIOLOGY, start=date(2026, 6, 2), end=date(2026, 6, 2), extra=extra
    )
    assert starts(result) == [
        "06-02 14:00",
        "06-02 14:30",
        "06-02 15:00",
        "06-02 15:30",
        "06-02 16:00",
        "06-02 16:30",
    ]


def test_two_departments_hours_on_one_weekday_are_merged() -> None:
    weekly = [WeeklyHours(MON, time(15), time(17)), WeeklyHours(MON, time(13), time(15))]
    result = generate_slots(weekly=weekly, start=date(2026, 6, 1), end=date(2026, 6, 1))
    assert len(result) == 8
    assert result == sorted(set(result))


@pytest.mark.parametrize(
    ("starts_at", "ends_at", "expected"),
    [
        (time(14), time(15, 45), ["14:00", "14:30", "15:00"]),
        (time(14), time(14, 29), []),
        (time(14), time(14, 30), ["14:00"]),
        # off the grid: only whole grid slots inside the session
        (time(14, 10), time(15, 30), ["14:30", "15:00"]),
        (time(14, 0, 1), time(15), ["14:30"]),
        (time(23), time(23, 59, 59), ["23:00"]),
        (time(0), time(1), ["00:00", "00:30"]),
    ],
)
def test_only_whole_slots(starts_at: time, ends_at: time, expected: list[str]) -> None:
    weekly = [WeeklyHours(MON, starts_at, ends_at)]
    result = generate_slots(weekly=weekly, start=date(2026, 6, 1), end=date(2026, 6, 1))
    assert [slot.starts_at.strftime("%H:%M") for slot in result] == expected


def test_an_empty_or_reversed_range_gives_nothing() -> None:
    assert generate_slots(weekly=CARDIOLOGY, start=date(2026, 6, 5), end=date(2026, 6, 1)) == []
    assert generate_slots(weekly=[], start=date(2026, 6, 1), end=date(2026, 6, 30)) == []


@pytest.mark.parametrize(
    "make",
    [
        lambda: WeeklyHours(7, time(14), time(16)),
        lambda: WeeklyHours(-1, time(14), time(16)),
        lambda: WeeklyHours(MON, time(16), time(14)),
        lambda: WeeklyHours(MON, time(14), time(14)),
        lambda: WeeklyHours(MON, time(14, tzinfo=JST), time(16, tzinfo=JST)),
        lambda: ExtraSession(date(2026, 6, 1), time(12), time(11)),
        lambda: Away(date(2026, 6, 1), time(12), None),
        lambda: Away(date(2026, 6, 1), None, time(12)),
        lambda: Away(date(2026, 6, 1), time(12), time(12)),
    ],
)
def test_invalid_hours_are_refused(make: object) -> None:
    with pytest.raises(ValueError):
        make()  # type: ignore[operator]


# ---------------------------------------------------------------- where a consult fits

TUESDAY = date(2026, 6, 2)


def fit_texts(fits: list[Slot]) -> list[str]:
    return [f"{fit.starts_at:%H:%M}-{fit.ends_at:%H:%M}" for fit in fits]


def tuesday(*hour_minutes: tuple[int, int]) -> set[datetime]:
    return {at(TUESDAY, hour, minute) for hour, minute in hour_minutes}


@pytest.mark.parametrize(
    ("minutes", "taken", "expected"),
    [
        (30, set(), ["14:00-14:30", "14:30-15:00", "15:00-15:30", "15:30-16:00"]),
        (60, set(), ["14:00-15:00", "14:30-15:30", "15:00-16:00"]),
        (90, set(), ["14:00-15:30", "14:30-16:00"]),
        (120, set(), ["14:00-16:00"]),
        (150, set(), []),  # longer than the session
        # another case's hold or booking cuts the session in two
        (30, tuesday((14, 30)), ["14:00-14:30", "15:00-15:30", "15:30-16:00"]),
        (60, tuesday((14, 30)), ["15:00-16:00"]),
        (60, tuesday((14, 0)), ["14:30-15:30", "15:00-16:00"]),
        (60, tuesday((15, 30)), ["14:00-15:00", "14:30-15:30"]),
        (60, tuesday((14, 30), (15, 30)), []),  # 30 free minutes twice is not 60
        (60, tuesday((15, 0)), ["14:00-15:00"]),  # the 30-minute gap fits only a short consult
        (30, tuesday((14, 30), (15, 30)), ["14:00-14:30", "15:00-15:30"]),
        # a start named in another time zone is the same moment
        (60, {at(TUESDAY, 14, 30).astimezone(UTC)}, ["15:00-16:00"]),
        # taken starts that are no slot change nothing
        (60, tuesday((13, 30), (16, 0)) | {at(date(2026, 6, 4), 14, 30)}, ["14:00-15:00",
                                                                     "14:30-15:30",
                                                                     "15:00-16:00"]),
    ],
)  # fmt: skip
def test_a_consult_fits_where_its_slots_are_free_and_consecutive(
    minutes: int, taken: set[datetime], expected: list[str]
) -> None:
    slots = generate_slots(weekly=CARDIOLOGY, start=TUESDAY, end=TUESDAY)

    fits = consult_starts(slots, minutes=minutes, taken=taken)

    assert fit_texts(fits) == expected
    assert all(fit.starts_at.tzinfo is JST for fit in fits)


@pytest.mark.parametrize(
    ("sessions", "away", "expected"),
    [
        # a gap between two sessions: the 60-minute consult fits on either side, not across
        ([(time(9), time(10)), (time(10, 30), time(12))], None,
         ["09:00-10:00", "10:30-11:30", "11:00-12:00"]),
        # sessions that touch are one stretch
        ([(time(9), time(10)), (time(10), time(11))], None,
         ["09:00-10:00", "09:30-10:30", "10:00-11:00"]),
        # overlapping sessions too
        ([(time(9), time(10, 30)), (time(10), time(11))], None,
         ["09:00-10:00", "09:30-10:30", "10:00-11:00"]),
        # an absence in the middle leaves two short stretches
        ([(time(9), time(11))], Away(TUESDAY, time(9, 45), time(10, 15)), []),
        ([(time(9), time(12))], Away(TUESDAY, time(10), time(10, 30)),
         ["09:00-10:00", "10:30-11:30", "11:00-12:00"]),
        # an absence all day
        ([(time(9), time(12))], Away(TUESDAY), []),
        # a session off the grid gives only whole slots
        ([(time(14, 10), time(15, 30))], None, ["14:30-15:30"]),
    ],
)  # fmt: skip
def test_a_60_minute_consult_never_spans_a_gap_or_an_absence(
    sessions: list[tuple[time, time]], away: Away | None, expected: list[str]
) -> None:
    weekly = [WeeklyHours(TUE, starts_at, ends_at) for starts_at, ends_at in sessions]
    slots = generate_slots(weekly=weekly, start=TUESDAY, end=TUESDAY, away=[away] if away else [])

    assert fit_texts(consult_starts(slots, minutes=60)) == expected


def test_a_consult_never_spans_a_closed_day_or_midnight() -> None:
    # Tuesday 3 November 2026 is 文化の日: Monday's last slot and Wednesday's first do not meet
    every_day = [WeeklyHours(weekday, time(9), time(10)) for weekday in range(7)]
    slots = generate_slots(weekly=every_day, start=date(2026, 11, 2), end=date(2026, 11, 4))
    assert starts(consult_starts(slots, minutes=60)) == ["11-02 09:00", "11-04 09:00"]
    # slots made by hand across midnight follow each other, but a consult stays on one day
    late = Slot(at(TUESDAY, 23, 30), at(TUESDAY + timedelta(days=1), 0))
    early = Slot(at(TUESDAY + timedelta(days=1), 0), at(TUESDAY + timedelta(days=1), 0, 30))
    assert consult_starts([late, early], minutes=60) == []
    assert consult_starts([late, early], minutes=30) == [late, early]


def test_a_consult_needs_one_specialist_s_slots_given_in_any_order() -> None:
    slots = generate_slots(weekly=CARDIOLOGY, start=TUESDAY, end=TUESDAY)

    shuffled = [slots[2], slots[0], slots[3], slots[1], slots[0]]  # and one twice

    assert consult_starts(shuffled, minutes=60) == consult_starts(slots, minutes=60)
    assert consult_starts([], minutes=60) == []


@pytest.mark.parametrize(("minutes", "needed"), [(30, 1), (60, 2), (90, 3), (120, 4)])
def test_a_consult_takes_one_slot_per_30_minutes(minutes: int, needed: int) -> None:
    assert slots_needed(minutes) == needed
    assert slot_starts(at(TUESDAY, 14), minutes) == [
        at(TUESDAY, 14) + timedelta(minutes=30 * index) for index in range(needed)
    ]


@pytest.mark.parametrize("minutes", [0, -30, 20, 45, 61])
def test_a_consult_length_is_a_whole_number_of_slots(minutes: int) -> None:
    with pytest.raises(ValueError):
        slots_needed(minutes)
    with pytest.raises(ValueError):
        slot_starts(at(TUESDAY, 14), minutes)
    with pytest.raises(ValueError):
        consult_starts([], minutes=minutes)


def test_the_module_is_pure() -> None:
    """No Django, settings or clock: only the standard library and the closed-days rules."""
    tree = ast.parse(Path(slots_module.__file__).read_text(encoding="utf-8"))
    imported = {
        name
        for node in ast.walk(tree)
        for name in (
            [alias.name for alias in node.names]
            if isinstance(node, ast.Import)
            else [node.module or ""]
            if isinstance(node, ast.ImportFrom)
            else []
        )
    }
    assert imported == {
        "collections",
        "collections.abc",
        "dataclasses",
        "datetime",
        "zoneinfo",
        "opiniondesk.catalog.closed_days",
    }
    source = Path(slots_module.__file__).read_text(encoding="utf-8")
    assert ".now(" not in source
    assert ".today(" not in source


# ---------------------------------------------------------------- properties

grid_times = st.builds(time, st.integers(0, 23), st.sampled_from([0, 15, 30, 45, 10, 59]))
any_times = st.builds(time, st.integers(0, 23), st.integers(0, 59), st.integers(0, 59))
times = st.one_of(grid_times, any_times)


@st.composite
def spans(draw: st.DrawFn) -> tuple[time, time]:
    first, second = draw(times), draw(times)
    assume(first != second)
    return (min(first, second), max(first, second))


@st.composite
def schedules(
    draw: st.DrawFn,
) -> tuple[list[WeeklyHours], date, date, list[Away], list[ExtraSession]]:
    start = draw(st.dates(date(2019, 1, 1), date(2030, 12, 31)))
    end = start + timedelta(days=draw(st.integers(-1, 45)))
    in_range = st.dates(start - timedelta(days=2), end + timedelta(days=2))
    weekly = [
        WeeklyHours(draw(st.integers(0, 6)), *draw(spans())) for _ in range(draw(st.integers(0, 4)))
    ]
    away = [
        Away(draw(in_range), *(draw(spans()) if draw(st.booleans()) else (None, None)))
        for _ in range(draw(st.integers(0, 4)))
    ]
    extra = [ExtraSession(draw(in_range), *draw(spans())) for _ in range(draw(st.integers(0, 4)))]
    return weekly, start, end, away, extra


# Year ends and holiday weeks, so the closure is hit often, not only by chance.
near_year_end = st.builds(
    lambda year, offset: date(year, 12, 24) + timedelta(days=offset),
    st.integers(2019, 2030),
    st.integers(0, 14),
)


def sessions_on(
    day: date, weekly: list[WeeklyHours], extra: list[ExtraSession]
) -> list[tuple[time, time]]:
    return [(w.starts_at, w.ends_at) for w in weekly if w.weekday == day.weekday()] + [
        (e.starts_at, e.ends_at) for e in extra if e.day == day
    ]


def inside(slot: Slot, span: tuple[time, time]) -> bool:
    day = slot.starts_at.date()
    return at_time(day, span[0]) <= slot.starts_at and slot.ends_at <= at_time(day, span[1])


def at_time(day: date, moment: time) -> datetime:
    return datetime.combine(day, moment, tzinfo=JST)


def overlaps(slot: Slot, away: Away) -> bool:
    if away.day != slot.starts_at.date():
        return False
    if away.starts_at is None or away.ends_at is None:
        return True
    day = away.day
    return at_time(day, away.starts_at) < slot.ends_at and slot.starts_at < at_time(
        day, away.ends_at
    )


def expected_slots(
    weekly: list[WeeklyHours], start: date, end: date, away: list[Away], extra: list[ExtraSession]
) -> list[Slot]:
    """Brute force: every grid slot of every day, kept if the rules allow it."""
    kept = []
    day = start
    while day <= end:
        for index in range(24 * 60 // SLOT_MINUTES):
            begins = at_time(day, time(0)) + timedelta(minutes=index * SLOT_MINUTES)
            slot = Slot(begins, begins + timedelta(minutes=SLOT_MINUTES))
            if (
                is_open(day)
                and any(inside(slot, span) for span in sessions_on(day, weekly, extra))
                and not any(overlaps(slot, a) for a in away)
            ):
                kept.append(slot)
        day += timedelta(days=1)
    return kept


@settings(max_examples=150, deadline=None)
@given(schedules())
def test_every_slot_obeys_the_rules(
    schedule: tuple[list[WeeklyHours], date, date, list[Away], list[ExtraSession]],
) -> None:
    weekly, start, end, away, extra = schedule
    result = generate_slots(weekly=weekly, start=start, end=end, away=away, extra=extra)
    for slot in result:
        assert slot.ends_at - slot.starts_at == timedelta(minutes=SLOT_MINUTES)
        assert slot.starts_at.minute in (0, 30)
        assert (slot.starts_at.second, slot.starts_at.microsecond) == (0, 0)
        assert slot.starts_at.tzinfo is JST and slot.ends_at.tzinfo is JST
        assert slot.starts_at.utcoffset() == timedelta(hours=9)
        day = slot.starts_at.date()
        assert start <= day <= end
        assert is_open(day)
        assert any(inside(slot, span) for span in sessions_on(day, weekly, extra))
        assert not any(overlaps(slot, a) for a in away)
    assert all(a.starts_at < b.starts_at for a, b in pairwise(result))


@settings(max_examples=150, deadline=None)
@given(schedules())
def test_no_allowed_slot_is_missing(
    schedule: tuple[list[WeeklyHours], date, date, list[Away], list[ExtraSession]],
) -> None:
    weekly, start, end, away, extra = schedule
    result = generate_slots(weekly=weekly, start=start, end=end, away=away, extra=extra)
    assert result == expected_slots(weekly, start, end, away, extra)


@settings(max_examples=60, deadline=None)
@given(near_year_end, st.integers(0, 14), st.lists(spans(), min_size=1, max_size=3))
def test_nothing_over_the_year_end_or_on_holidays(
    start: date, length: int, spans_: list[tuple[time, time]]
) -> None:
    end = start + timedelta(days=length)
    weekly = [WeeklyHours(weekday, *span) for weekday in range(7) for span in spans_]
    extra = [
        ExtraSession(start + timedelta(days=offset), *spans_[0]) for offset in range(length + 1)
    ]
    result = generate_slots(weekly=weekly, start=start, end=end, extra=extra)
    for slot in result:
        day = slot.starts_at.date()
        assert not (day.month == 12 and day.day >= 29)
        assert not (day.month == 1 and day.day <= 3)
        assert day.weekday() < 5
        assert is_open(day)


@settings(max_examples=150, deadline=None)
@given(schedules(), st.sampled_from([30, 60, 90]), st.data())
def test_a_consult_fits_exactly_where_every_slot_of_it_is_allowed_and_free(
    schedule: tuple[list[WeeklyHours], date, date, list[Away], list[ExtraSession]],
    minutes: int,
    data: st.DataObject,
) -> None:
    weekly, start, end, away, extra = schedule
    slots = generate_slots(weekly=weekly, start=start, end=end, away=away, extra=extra)
    taken = data.draw(st.sets(st.sampled_from([s.starts_at for s in slots]))) if slots else set()

    fits = consult_starts(slots, minutes=minutes, taken=taken)

    # Brute force: every grid start whose 30-minute pieces all obey the rules and are free.
    allowed = {s.starts_at for s in expected_slots(weekly, start, end, away, extra)} - taken
    piece = timedelta(minutes=SLOT_MINUTES)
    expected = [
        Slot(begins, begins + timedelta(minutes=minutes))
        for begins in sorted(allowed)
        if all(begins + k * piece in allowed for k in range(minutes // SLOT_MINUTES))
        and (begins + timedelta(minutes=minutes) - piece).date() == begins.date()
    ]
    assert fits == expected
    for fit in fits:
        assert fit.ends_at - fit.starts_at == timedelta(minutes=minutes)
        assert not taken & set(slot_starts(fit.starts_at, minutes))
    assert all(a.starts_at < b.starts_at for a, b in pairwise(fits))
    if minutes == SLOT_MINUTES:
        assert fits == [s for s in slots if s.starts_at not in taken]
