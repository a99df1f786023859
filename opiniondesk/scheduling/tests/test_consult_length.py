"""Consults of 60 minutes (SPEC §5): a date offered or booked claims both of its 30-minute slots of
one specialist, so a long consult never runs into the next patient, and gives both back.

As in test_services: Wednesday 25 November 2026, 10:00 in Tokyo; cardiology consults are on
Tuesdays and Thursdays 14:00–16:00 (Dr Tanaka and Dr Kato), first offered on Tuesday 1 December.
Hana's case is planned for 60 minutes; Ken's (for his mother) and Eve's for 30 minutes. Every
refused call leaves the database exactly as it was.
"""

import importlib
from datetime import date, datetime, time, timedelta

import pytest
from django.apps import apps
from django.db import IntegrityError, transaction
from django.utils import timezone

from opiniondesk.audit.models import AuditEvent
from opiniondesk.cases.models import Case
from opiniondesk.cases.workflow import Status
from opiniondesk.catalog.models import Department
from opiniondesk.core.time import JST
from opiniondesk.desk.services import case_withdraw
from opiniondesk.scheduling.availability import away_create
from opiniondesk.scheduling.models import (
    Away,
    BookedSlot,
    Booking,
    CancelKind,
    ExtraSession,
    HeldSlot,
    Offer,
    OfferedSlot,
)
from opiniondesk.scheduling.selectors import department_consults, department_slots
from opiniondesk.scheduling.services import (
    SchedulingError,
    SlotTaken,
    booking_cancel,
    booking_change,
    booking_create,
    offer_create,
    offer_expire,
    offer_withdraw,
)
from opiniondesk.scheduling.tests import factories
from opiniondesk.scheduling.tests.factories import held, slot_rows_match
from opiniondesk.scheduling.tests.test_services import refused

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=JST)  # Wednesday
TUE, WED, THU = date(2026, 12, 1), date(2026, 12, 2), date(2026, 12, 3)
HOLD = datetime(2026, 11, 30, 17, 0, tzinfo=JST)  # Monday, when the phone desk closes


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=JST)


@pytest.fixture(autouse=True)
def clock(time_machine):
    time_machine.move_to(NOW, tick=True)
    return time_machine


@pytest.fixture
def hana_60(patient_hana, coordinator_sato, dr_tanaka):
    """Hana's own case, accepted for a 60-minute consult."""
    return factories.accepted_case(
        patient_hana, coordinator=coordinator_sato, specialist=dr_tanaka, planned_minutes=60
    )


@pytest.fixture
def ken_30(proxy_ken, coordinator_sato, dr_tanaka):
    """Ken's case for his mother, accepted for 30 minutes."""
    return factories.proxy_case(proxy_ken, None, coordinator=coordinator_sato, specialist=dr_tanaka)


@pytest.fixture
def eve_60(outsider_eve, coordinator_sato, dr_tanaka):
    return factories.accepted_case(
        outsider_eve, coordinator=coordinator_sato, specialist=dr_tanaka, planned_minutes=60
    )


@pytest.fixture
def tanaka(dr_tanaka):
    """(Dr Tanaka, start) on Tuesday, by hour and minute."""
    return lambda hour, minute=0, day=TUE: (dr_tanaka.pk, at(day, hour, minute))


@pytest.fixture
def kato(dr_kato):
    return lambda hour, minute=0, day=THU: (dr_kato.pk, at(day, hour, minute))


@pytest.fixture
def offer(coordinator_sato):
    def offer(case, pairs, hold_until=HOLD):
        return offer_create(
            case_id=case.pk, actor=coordinator_sato, slots=pairs, hold_until=hold_until
        )

    return offer


@pytest.fixture
def booked_60(hana_60, patient_hana, offer, tanaka, kato):
    """Hana booked Tuesday 14:00–15:00 with Dr Tanaka; Thursday 14:00–15:00 with Dr Kato is
    still held for her."""
    offered = offer(hana_60, [tanaka(14), kato(14)])
    tuesday, _ = held(offered)
    booking = booking_create(case_id=hana_60.pk, actor=patient_hana, offered_slot_id=tuesday.pk)
    return Case.objects.get(pk=hana_60.pk), offered, booking


def calendar(day: date) -> dict[tuple[int, datetime], tuple[str, int | None, int | None]]:
    """Each 30-minute slot of cardiology that day: its state, its case, its consult's length."""
    cardiology = Department.objects.get(code="cardiology")
    return {
        (view.specialist_id, view.starts_at): (view.state.value, view.case_id, view.consult_minutes)
        for view in department_slots(department=cardiology, start=day, end=day)
    }


def fits(minutes: int, specialist, day: date = TUE) -> list[str]:
    cardiology = Department.objects.get(code="cardiology")
    return [
        f"{view.starts_at.astimezone(JST):%H:%M}-{view.ends_at.astimezone(JST):%H:%M}"
        for view in department_consults(
            department=cardiology, start=day, end=day, minutes=minutes, specialist=specialist
        )
    ]


# ---------------------------------------------------------------- offers


def test_a_60_minute_date_holds_both_of_its_slots(hana_60, offer, tanaka, kato, dr_tanaka):
    offered = offer(hana_60, [kato(14), tanaka(14)])

    dates = held(offered)
    assert [(d.specialist_id, d.starts_at, d.ends_at) for d in dates] == [
        (*tanaka(14), at(TUE, 15)),
        (*kato(14), at(THU, 15)),
    ]
    assert [(r.specialist_id, r.starts_at) for r in HeldSlot.objects.order_by("starts_at")] == [
        tanaka(14),
        tanaka(14, 30),
        kato(14),
        kato(14, 30),
    ]
    slot_rows_match()
    tuesday = calendar(TUE)
    assert tuesday[tanaka(14)] == tuesday[tanaka(14, 30)] == ("held", hana_60.pk, 60)
    assert tuesday[tanaka(15)] == ("free", None, None)
    event = AuditEvent.objects.get(case_id=hana_60.pk, object_type="scheduling.Offer")
    assert event.detail["minutes"] == 60
    # the next free 60-minute start of Dr Tanaka is 15:00
    assert fits(60, dr_tanaka) == ["15:00-16:00"]


def test_two_overlapping_dates_cannot_be_offered_to_one_case(hana_60, offer, tanaka):
    message = refused(SchedulingError, lambda: offer(hana_60, [tanaka(14), tanaka(14, 30)]))

    assert "overlap" in message
    assert len(held(offer(hana_60, [tanaka(14), tanaka(15)]))) == 2  # back to back is fine


@pytest.mark.parametrize(
    ("start", "expected", "words"),
    [
        ((15, 30), SchedulingError, "takes 60 minutes"),  # the session ends at 16:00
        ((14, 0, "away"), SchedulingError, "takes 60 minutes"),  # away 14:30–15:00
        ((10, 0, "gap"), SchedulingError, "takes 60 minutes"),  # extra sessions with a gap
        ((14, 15), SchedulingError, "not a consult slot"),
        ((14, 0, "held"), SlotTaken, "taken"),  # Ken's date at 14:30
        ((13, 30), SchedulingError, "not a consult slot"),  # before the session
    ],
    ids=["end-of-session", "absence", "gap-between-sessions", "off-the-grid", "next-held",
         "before-the-session"],
)  # fmt: skip
def test_a_60_minute_date_is_offered_only_where_it_fits(
    hana_60, ken_30, offer, dr_tanaka, start, expected, words
):
    hour, minute, *why = start
    day = TUE
    cardiology = Department.objects.get(code="cardiology")
    if why == ["away"]:
        Away.objects.create(specialist=dr_tanaka, day=TUE, starts_at=time(14, 30), ends_at=time(15))
    if why == ["gap"]:
        day = WED
        for begins, ends in ((time(9), time(10, 30)), (time(11), time(12))):
            ExtraSession.objects.create(
                specialist=dr_tanaka, department=cardiology, day=WED, starts_at=begins, ends_at=ends
            )
    if why == ["held"]:
        offer(ken_30, [(dr_tanaka.pk, at(TUE, 14, 30))])

    message = refused(expected, lambda: offer(hana_60, [(dr_tanaka.pk, at(day, hour, minute))]))

    assert words in message
    assert Case.objects.get(pk=hana_60.pk).status == Status.ACCEPTED


def test_no_date_is_offered_before_the_specialist_set_the_length(hana_60, offer, tanaka):
    Case.objects.filter(pk=hana_60.pk).update(planned_minutes=None)  # as no service leaves it

    message = refused(SchedulingError, lambda: offer(hana_60, [tanaka(14)]))

    assert "length has not been set" in message


# ---------------------------------------------------------------- bookings


def test_booking_a_60_minute_date_books_both_slots(booked_60, tanaka):
    case, _, booking = booked_60

    assert (booking.starts_at, booking.ends_at, booking.minutes) == (at(TUE, 14), at(TUE, 15), 60)
    assert [r.starts_at for r in booking.booked_slots.order_by("starts_at")] == [
        at(TUE, 14),
        at(TUE, 14, 30),
    ]
    slot_rows_match()
    tuesday = calendar(TUE)
    assert tuesday[tanaka(14)] == tuesday[tanaka(14, 30)] == ("booked", case.pk, 60)
    event = AuditEvent.objects.get(case_id=case.pk, object_type="scheduling.Booking")
    assert datetime.fromisoformat(event.detail["ends_at"]) == at(TUE, 15)


def test_a_60_minute_consult_never_runs_into_the_next_patient(
    booked_60, ken_30, eve_60, offer, tanaka, dr_tanaka
):
    # Ken's 30-minute case cannot have 14:30, inside Hana's consult, but 15:00 right after it.
    refused(SlotTaken, lambda: offer(ken_30, [tanaka(14, 30)]))
    assert held(offer(ken_30, [tanaka(15)]))[0].ends_at == at(TUE, 15, 30)
    # Eve's 60-minute case now fits nowhere on Tuesday with Dr Tanaka: 15:30 is free, alone.
    assert fits(60, dr_tanaka) == []
    assert fits(30, dr_tanaka) == ["15:30-16:00"]
    refused(SlotTaken, lambda: offer(eve_60, [tanaka(14, 30)]))
    assert "takes 60 minutes" in refused(SchedulingError, lambda: offer(eve_60, [tanaka(15, 30)]))


def test_a_30_minute_case_fits_in_the_gap_a_60_minute_one_leaves(
    hana_60, ken_30, eve_60, offer, patient_hana, coordinator_sato, tanaka, kato, dr_tanaka
):
    # Hana booked Thursday, then the coordinator moved her to Tuesday 14:30–15:30 (no hold
    # there: only her booking stands in the way of others), leaving half an hour on each side.
    [thursday] = held(offer(hana_60, [kato(14)]))
    booking_create(case_id=hana_60.pk, actor=patient_hana, offered_slot_id=thursday.pk)
    booking_change(
        case_id=hana_60.pk, actor=coordinator_sato, slot=tanaka(14, 30), reason="医師の都合"
    )

    assert fits(60, dr_tanaka) == []
    assert fits(30, dr_tanaka) == ["14:00-14:30", "15:30-16:00"]
    refused(SlotTaken, lambda: offer(eve_60, [tanaka(14)]))  # its second half is Hana's

    ken = held(offer(ken_30, [tanaka(14), tanaka(15, 30)]))

    assert [(d.starts_at, d.ends_at) for d in ken] == [
        (at(TUE, 14), at(TUE, 14, 30)),
        (at(TUE, 15, 30), at(TUE, 16)),
    ]
    tuesday = calendar(TUE)
    assert [tuesday[tanaka(h, m)] for h, m in ((14, 0), (14, 30), (15, 0), (15, 30))] == [
        ("held", ken_30.pk, 30),
        ("booked", hana_60.pk, 60),
        ("booked", hana_60.pk, 60),
        ("held", ken_30.pk, 30),
    ]
    slot_rows_match()


# ---------------------------------------------------------------- changes


def test_the_patient_moves_a_60_minute_booking_to_her_other_date(
    booked_60, patient_hana, tanaka, kato
):
    case, offered, old = booked_60
    _, thursday = held(offered)

    new = booking_change(case_id=case.pk, actor=patient_hana, offered_slot_id=thursday.pk)

    old.refresh_from_db()
    assert old.cancel_kind == CancelKind.CHANGED
    assert not old.booked_slots.filter(released_at__isnull=True).exists()
    assert (new.starts_at, new.ends_at) == (at(THU, 14), at(THU, 15))
    slot_rows_match()
    assert calendar(THU)[kato(14)] == calendar(THU)[kato(14, 30)] == ("booked", case.pk, 60)
    # Tuesday is still held for her (she may move back), no longer booked
    assert calendar(TUE)[tanaka(14)] == calendar(TUE)[tanaka(14, 30)] == ("held", case.pk, 60)


def test_a_coordinator_moves_a_60_minute_booking_by_half_an_hour(
    booked_60, coordinator_sato, ken_30, offer, tanaka
):
    case, _, old = booked_60

    new = booking_change(
        case_id=case.pk, actor=coordinator_sato, slot=tanaka(14, 30), reason="医師の都合"
    )

    assert (new.starts_at, new.ends_at, new.replaces) == (at(TUE, 14, 30), at(TUE, 15, 30), old)
    assert [r.starts_at for r in BookedSlot.objects.filter(released_at__isnull=True)] == [
        at(TUE, 14, 30),
        at(TUE, 15),
    ]
    slot_rows_match()
    tuesday = calendar(TUE)
    assert tuesday[tanaka(14, 30)] == tuesday[tanaka(15)] == ("booked", case.pk, 60)
    # 15:00 now belongs to Hana's consult: Ken cannot have it
    refused(SlotTaken, lambda: offer(ken_30, [tanaka(15)]))


def test_the_coordinator_s_free_dates_for_a_60_minute_booking_count_its_own_slots(
    booked_60, dr_tanaka
):
    case, *_ = booked_60
    cardiology = Department.objects.get(code="cardiology")

    own = department_consults(
        department=cardiology, start=TUE, end=TUE, minutes=60, specialist=dr_tanaka, case_id=case.pk
    )

    assert [v.starts_at for v in own] == [at(TUE, 14), at(TUE, 14, 30), at(TUE, 15)]
    assert fits(60, dr_tanaka) == ["15:00-16:00"]  # for anyone else


@pytest.mark.parametrize(
    ("target", "expected", "words"),
    [
        ("tanaka-tue-15:30", SchedulingError, "takes 60 minutes"),  # the session ends at 16:00
        ("kato-thu-14:30", SlotTaken, "taken"),  # Ken is booked at 15:00
        ("tanaka-thu-14:30", SlotTaken, "taken"),  # Eve's date holds 15:00
        ("tanaka-tue-14:15", SchedulingError, "not a consult slot"),
    ],
)
def test_a_coordinator_moves_a_60_minute_booking_only_where_it_fits(
    booked_60, coordinator_sato, ken_30, eve_60, proxy_ken, offer, tanaka, kato,
    target, expected, words,
):  # fmt: skip
    case, *_ = booked_60
    [ken_date] = held(offer(ken_30, [kato(15)]))
    booking_create(case_id=ken_30.pk, actor=proxy_ken, offered_slot_id=ken_date.pk)
    offer(eve_60, [tanaka(15, 0, THU)])
    targets = {
        "tanaka-tue-15:30": tanaka(15, 30),
        "kato-thu-14:30": kato(14, 30),
        "tanaka-thu-14:30": tanaka(14, 30, THU),
        "tanaka-tue-14:15": tanaka(14, 15),
    }

    message = refused(
        expected,
        lambda: booking_change(
            case_id=case.pk, actor=coordinator_sato, slot=targets[target], reason="医師の都合"
        ),
    )

    assert words in message


# ---------------------------------------------------------------- giving the slots back


def test_cancelling_a_60_minute_booking_gives_back_every_slot(
    booked_60, patient_hana, tanaka, kato
):
    case, *_ = booked_60

    booking_cancel(case_id=case.pk, actor=patient_hana)

    assert not BookedSlot.objects.filter(released_at__isnull=True).exists()
    assert not HeldSlot.objects.filter(released_at__isnull=True).exists()
    slot_rows_match()
    assert Case.objects.get(pk=case.pk).status == Status.CANCELLED
    for day, who in ((TUE, tanaka), (THU, kato)):
        assert (
            calendar(day)[who(14, 0, day)]
            == calendar(day)[who(14, 30, day)]
            == ("free", None, None)
        )


def _expire(case, offered, actor, clock):
    clock.move_to(HOLD, tick=False)
    offer_expire(offer_id=offered.pk)


def _withdraw_offer(case, offered, actor, clock):
    offer_withdraw(case_id=case.pk, actor=actor, reason="別の日程を提示します")


def _replace(case, offered, actor, clock):
    offer_create(
        case_id=case.pk, actor=actor, slots=[(offered.slots.first().specialist_id, at(TUE, 15))],
        hold_until=HOLD,
    )  # fmt: skip


def _withdraw_case(case, offered, actor, clock):
    case_withdraw(case_id=case.pk, actor=case.applicant)


@pytest.mark.parametrize("end", [_expire, _withdraw_offer, _replace, _withdraw_case])
def test_a_60_minute_date_gives_back_both_slots_however_its_hold_ends(
    hana_60, offer, coordinator_sato, clock, tanaka, kato, end
):
    offered = offer(hana_60, [tanaka(14), kato(14)])

    end(hana_60, offered, coordinator_sato, clock)

    assert not HeldSlot.objects.filter(
        offered_slot__offer=offered, released_at__isnull=True
    ).exists()
    slot_rows_match()
    assert calendar(TUE)[tanaka(14)] == calendar(TUE)[tanaka(14, 30)] == ("free", None, None)
    assert calendar(THU)[kato(14)] == calendar(THU)[kato(14, 30)] == ("free", None, None)


def test_a_case_withdrawn_while_booked_gives_back_every_slot(booked_60, patient_hana):
    case, _, booking = booked_60

    case_withdraw(case_id=case.pk, actor=patient_hana)

    booking.refresh_from_db()
    assert booking.cancel_kind == CancelKind.CASE_CLOSED
    assert not BookedSlot.objects.filter(released_at__isnull=True).exists()
    assert not HeldSlot.objects.filter(released_at__isnull=True).exists()
    slot_rows_match()


def test_an_absence_may_not_cut_into_either_half_of_a_60_minute_consult(
    booked_60, coordinator_sato, dr_tanaka, dr_kato
):
    # Hana is booked with Dr Tanaka on Tuesday and held with Dr Kato on Thursday, 14:00–15:00.
    for specialist, day in ((dr_tanaka, TUE), (dr_kato, THU)):
        message = refused(
            SchedulingError,
            lambda specialist=specialist, day=day: away_create(
                actor=coordinator_sato,
                specialist=specialist,
                day=day,
                starts_at=time(14, 30),
                ends_at=time(15),
            ),
        )
        assert "14:30" in message
    assert not Away.objects.exists()

    away_create(
        actor=coordinator_sato, specialist=dr_tanaka, day=TUE, starts_at=time(15), ends_at=time(16)
    )
    assert Away.objects.count() == 1


# ---------------------------------------------------------------- the database alone


def _booking(case, specialist, starts_at, minutes):
    """A live booking and its slot rows, written directly: no check of the services."""
    with transaction.atomic():
        booking = Booking.objects.create(
            case=case,
            specialist=specialist,
            department=case.department,
            mode=case.mode,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(minutes=minutes),
            booked_by=specialist,
        )
        for index in range(minutes // 30):
            BookedSlot.objects.create(
                booking=booking,
                specialist=specialist,
                starts_at=starts_at + timedelta(minutes=30 * index),
            )
        return booking


def _hold(case, specialist, starts_at, minutes):
    with transaction.atomic():
        offer = Offer.objects.create(case=case, offered_by=specialist, hold_until=HOLD)
        offered = OfferedSlot.objects.create(
            offer=offer,
            specialist=specialist,
            department=case.department,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(minutes=minutes),
        )
        for index in range(minutes // 30):
            HeldSlot.objects.create(
                offered_slot=offered,
                specialist=specialist,
                starts_at=starts_at + timedelta(minutes=30 * index),
            )
        return offered


@pytest.mark.parametrize("write", [_booking, _hold], ids=["bookings", "holds"])
def test_the_database_itself_refuses_overlapping_consults(
    hana_60, ken_30, eve_60, patient_hana, coordinator_sato, dr_tanaka, dr_kato, write
):
    write(hana_60, dr_tanaka, at(TUE, 14), 60)

    # 14:30 for 30 minutes, or 13:30 and 14:30 for 60, overlap Hana's 14:00–15:00
    for case, starts_at, minutes in ((ken_30, at(TUE, 14, 30), 30), (eve_60, at(TUE, 14, 30), 60)):
        with pytest.raises(IntegrityError):
            write(case, dr_tanaka, starts_at, minutes)
    # right after it, or with another specialist, is fine
    write(ken_30, dr_tanaka, at(TUE, 15), 30)
    write(eve_60, dr_kato, at(TUE, 14, 30), 60)
    # a released slot is free again
    model = BookedSlot if write is _booking else HeldSlot
    model.objects.filter(starts_at=at(TUE, 14, 30), specialist=dr_tanaka).update(
        released_at=timezone.now()
    )
    another = factories.accepted_case(
        patient_hana, coordinator=coordinator_sato, specialist=dr_tanaka
    )
    write(another, dr_tanaka, at(TUE, 14, 30), 30)


def test_a_case_s_own_hold_and_booking_of_a_slot_do_not_collide(hana_60, dr_tanaka):
    _hold(hana_60, dr_tanaka, at(TUE, 14), 60)

    _booking(hana_60, dr_tanaka, at(TUE, 14), 60)  # the booking of its own candidate date

    assert HeldSlot.objects.count() == BookedSlot.objects.count() == 2


def test_the_migration_gives_existing_dates_and_bookings_their_slot_rows(
    hana_60, ken_30, dr_tanaka, dr_kato
):
    """Rows written before slot rows existed: one 30-minute slot each, live or released."""
    live_hold = _hold(ken_30, dr_kato, at(THU, 14), 30)
    released = _hold(hana_60, dr_tanaka, at(TUE, 15), 30)
    booking = _booking(ken_30, dr_kato, at(THU, 14), 30)
    cancelled = _booking(hana_60, dr_tanaka, at(TUE, 14), 30)
    now = timezone.now()
    OfferedSlot.objects.filter(pk=released.pk).update(released_at=now)
    Booking.objects.filter(pk=cancelled.pk).update(cancelled_at=now)
    HeldSlot.objects.all().delete()
    BookedSlot.objects.all().delete()
    migration = importlib.import_module(
        "opiniondesk.scheduling.migrations.0002_consult_length_slot_rows"
    )

    migration.slot_rows(apps, None)

    slot_rows_match()
    assert HeldSlot.objects.get(offered_slot=live_hold).released_at is None
    assert HeldSlot.objects.get(offered_slot=released).released_at == now
    assert BookedSlot.objects.get(booking=booking).released_at is None
    assert BookedSlot.objects.get(booking=cancelled).released_at == now
