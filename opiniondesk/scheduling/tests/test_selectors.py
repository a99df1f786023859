"""The calendar as the hospital sees it: generated slots with holds and bookings laid over them."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from opiniondesk.catalog.models import Department
from opiniondesk.core.time import JST
from opiniondesk.scheduling import selectors
from opiniondesk.scheduling.models import Away, ExtraSession
from opiniondesk.scheduling.selectors import (
    Fit,
    SlotState,
    SlotView,
    bookable_slots,
    consult_fit,
    department_consults,
    department_slots,
    earliest_offer_day,
    live_booking,
    open_offer,
    parse_slot_key,
    specialists_of,
    suggest_slots,
)
from opiniondesk.scheduling.services import booking_change, booking_create
from opiniondesk.scheduling.tests import factories
from opiniondesk.scheduling.tests.factories import held

pytestmark = pytest.mark.django_db

TODAY = date(2026, 11, 25)  # Wednesday
TUE, THU = date(2026, 12, 1), date(2026, 12, 3)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=JST)


@pytest.fixture(autouse=True)
def clock(time_machine):
    time_machine.move_to(at(TODAY, 10), tick=True)


@pytest.fixture
def cardiology(demo_catalog):
    return Department.objects.get(code="cardiology")


def test_a_slot_key_names_the_specialist_and_the_japan_time():
    view = SlotView(7, "dr", 1, at(TUE, 14).astimezone(UTC), at(TUE, 14, 30).astimezone(UTC))

    assert view.key == "7@2026-12-01T14:00"
    assert parse_slot_key(view.key) == (7, at(TUE, 14))
    assert parse_slot_key(view.key)[1].utcoffset() == timedelta(hours=9)


@pytest.mark.parametrize(
    "key",
    ["", "7", "@2026-12-01T14:00", "x@2026-12-01T14:00", "7@2026-12-01", "7@2026-12-01T14:00:00",
     "7@2026-13-01T14:00", "-7@2026-12-01T14:00", "7@2026-12-01 14:00x"],
)  # fmt: skip
def test_anything_else_is_not_a_slot_key(key):
    with pytest.raises(ValueError):
        parse_slot_key(key)


def test_the_department_calendar_shows_who_holds_and_who_booked(
    accepted, dr_tanaka, dr_kato, coordinator_sato, patient_hana, cardiology
):
    tanaka, kato, sato = dr_tanaka, dr_kato, coordinator_sato
    tuesday = [v for v in factories.free_slots(accepted, limit=8) if v.starts_at.date() == TUE]
    offer = factories.offer(accepted, sato, tuesday[:3])
    booking = booking_create(
        case_id=accepted.pk, actor=patient_hana, offered_slot_id=held(offer)[0].pk
    )

    views = department_slots(department=cardiology, start=TUE, end=TUE)

    # 14:00–16:00 is four slots for each of the two specialists, by time then name
    assert [(v.starts_at.strftime("%H:%M"), v.specialist_name) for v in views] == [
        (f"{h}:{m}", name)
        for h, m in (("14", "00"), ("14", "30"), ("15", "00"), ("15", "30"))
        for name in ("加藤 大輔", "田中 健一")
    ]
    state = {(v.specialist_id, v.starts_at): (v.state, v.case_id) for v in views}
    first = held(offer)[0]
    assert state[(first.specialist_id, first.starts_at)] == (SlotState.BOOKED, accepted.pk)
    for other in held(offer)[1:]:
        assert state[(other.specialist_id, other.starts_at)] == (SlotState.HELD, accepted.pk)
    assert sum(s is SlotState.FREE for s, _ in state.values()) == 5
    assert {v.department_id for v in views} == {cardiology.pk}
    assert all(v.ends_at - v.starts_at == timedelta(minutes=30) for v in views)
    only_kato = department_slots(department=cardiology, start=TUE, end=TUE, specialist=kato)
    assert {v.specialist_id for v in only_kato} == {kato.pk}
    assert len(only_kato) == 4
    assert booking.specialist_id in (tanaka.pk, kato.pk)  # the earliest slot, either doctor


def test_the_calendar_costs_the_same_queries_for_a_week_or_three_months(cardiology):
    def queries(days: int) -> int:
        with CaptureQueriesContext(connection) as captured:
            department_slots(department=cardiology, start=TUE, end=TUE + timedelta(days=days))
        return len(captured)

    assert queries(6) == queries(90)


def test_an_inactive_or_other_departments_specialist_has_no_slots(
    cardiology, dr_kato, dr_tanaka, dr_mori
):
    dr_kato.is_active = False
    dr_kato.save(update_fields=["is_active"])

    assert list(specialists_of(cardiology)) == [dr_tanaka]
    views = department_slots(department=cardiology, start=TUE, end=THU)
    assert {v.specialist_id for v in views} == {dr_tanaka.pk}


def test_exceptions_of_a_specialist_shape_the_calendar(cardiology, dr_tanaka):
    tanaka = dr_tanaka
    Away.objects.create(specialist=tanaka, day=TUE)  # all day
    Away.objects.create(specialist=tanaka, day=THU, starts_at=time(15), ends_at=time(16))
    ExtraSession.objects.create(
        specialist=tanaka,
        department=cardiology,
        day=date(2026, 12, 2),
        starts_at=time(9, 30),
        ends_at=time(10, 30),
    )

    starts = [
        v.starts_at
        for v in department_slots(department=cardiology, start=TUE, end=THU, specialist=tanaka)
    ]

    assert starts == [
        at(date(2026, 12, 2), 9, 30),
        at(date(2026, 12, 2), 10),
        at(THU, 14),
        at(THU, 14, 30),
    ]

    def fit(starts_at: datetime, minutes: int, department: Department = cardiology) -> Fit:
        return consult_fit(
            department=department, specialist=tanaka, starts_at=starts_at, minutes=minutes
        )

    assert fit(at(THU, 14, 30), 30) is Fit.FITS
    assert fit(at(THU, 14), 60) is Fit.FITS
    assert fit(at(THU, 14, 30), 60) is Fit.TOO_LONG  # 15:00 is away
    assert fit(at(THU, 15), 30) is Fit.NO_SLOT
    assert fit(at(TUE, 14), 30) is Fit.NO_SLOT
    assert fit(at(date(2026, 12, 2), 9, 30), 60) is Fit.FITS  # the extra session
    assert fit(at(date(2026, 12, 2), 10), 60) is Fit.TOO_LONG  # it ends at 10:30
    neurology = Department.objects.get(code="neurology")
    assert fit(at(date(2026, 12, 2), 9, 30), 30, neurology) is Fit.NO_SLOT


def test_suggestions_are_the_earliest_free_slots_from_the_first_day_allowed(
    accepted, coordinator_sato, dr_kato, cardiology, settings
):
    assert earliest_offer_day(TODAY) == date(2026, 11, 27)
    suggestions = suggest_slots(department=cardiology, today=TODAY, limit=3)
    assert [v.starts_at for v in suggestions] == [at(TUE, 14), at(TUE, 14), at(TUE, 14, 30)]
    factories.offer(accepted, coordinator_sato, suggestions[:2])

    after = suggest_slots(department=cardiology, today=TODAY, limit=3)

    assert [v.starts_at for v in after] == [at(TUE, 14, 30), at(TUE, 14, 30), at(TUE, 15)]
    assert all(v.state is SlotState.FREE for v in after)
    # a short horizon, then a longer lead
    settings.SCHEDULING_HORIZON_DAYS = 8  # until Thursday 3 December
    assert suggest_slots(department=cardiology, today=TODAY, limit=50)[-1].starts_at == at(
        THU, 15, 30
    )
    settings.SCHEDULING_MIN_LEAD_DAYS = 7  # from Wednesday 2 December
    assert {v.starts_at.date() for v in suggest_slots(department=cardiology, today=TODAY)} == {THU}
    kato_only = suggest_slots(department=cardiology, today=TODAY, specialist=dr_kato)
    assert {v.specialist_id for v in kato_only} == {dr_kato.pk}


@pytest.mark.parametrize("window", [1, 3, 14])
@pytest.mark.parametrize("minutes", [30, 60])
def test_suggestions_looked_for_in_windows_are_those_of_one_pass_over_the_horizon(
    accepted, coordinator_sato, cardiology, settings, monkeypatch, window, minutes
):
    factories.offer(
        accepted, coordinator_sato, suggest_slots(department=cardiology, today=TODAY)[:2]
    )
    settings.SCHEDULING_HORIZON_DAYS = 40
    whole = department_consults(
        department=cardiology,
        start=earliest_offer_day(TODAY),
        end=TODAY + timedelta(days=40),
        minutes=minutes,
    )
    monkeypatch.setattr(selectors, "SUGGESTION_WINDOW_DAYS", window)
    for limit in (1, 5, len(whole) // 2, len(whole), len(whole) + 10):
        found = suggest_slots(department=cardiology, today=TODAY, minutes=minutes, limit=limit)
        assert found == whole[:limit]


def test_the_year_end_has_no_suggestion(cardiology):
    views = suggest_slots(department=cardiology, today=date(2026, 12, 20), limit=100)

    days = sorted({v.starts_at.date() for v in views})
    assert date(2026, 12, 24) in days
    assert not [d for d in days if date(2026, 12, 29) <= d <= date(2027, 1, 3)]
    assert days[days.index(date(2026, 12, 24)) + 1] == date(2027, 1, 5)


def test_the_open_offer_and_the_live_booking(accepted, coordinator_sato, patient_hana):
    sato, hana = coordinator_sato, patient_hana
    assert open_offer(accepted.pk) is None
    assert live_booking(accepted.pk) is None
    assert bookable_slots(None) == []
    slots = factories.free_slots(accepted, limit=3)
    first = factories.offer(accepted, sato, slots[:2])
    second = factories.offer(accepted, sato, slots[1:])

    assert open_offer(accepted.pk) == second
    assert [s.starts_at for s in bookable_slots(open_offer(accepted.pk))] == [
        s.starts_at for s in slots[1:]
    ]
    assert bookable_slots(first) == []  # replaced: all released

    booking = booking_create(case_id=accepted.pk, actor=hana, offered_slot_id=held(second)[0].pk)
    assert live_booking(accepted.pk) == booking
    remaining = bookable_slots(open_offer(accepted.pk), exclude_booked=booking)
    assert [s.pk for s in remaining] == [held(second)[1].pk]

    moved = booking_change(case_id=accepted.pk, actor=hana, offered_slot_id=held(second)[1].pk)
    assert live_booking(accepted.pk) == moved
    assert [s.pk for s in bookable_slots(open_offer(accepted.pk), exclude_booked=moved)] == [
        held(second)[0].pk
    ]
