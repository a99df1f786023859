"""Offering candidate dates, booking, changing and cancelling (SPEC §5), through the services.

The story starts on Wednesday 25 November 2026 at 10:00 in Tokyo. Cardiology consults are on
Tuesdays and Thursdays 14:00–16:00, so the first slots that may be offered (two days ahead) are on
Tuesday 1 December. Every refused call must leave the database exactly as it was.
"""

from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.utils import translation

from opiniondesk.accounts.models import Role
from opiniondesk.audit.models import AuditEvent
from opiniondesk.cases.models import Case, CaseTransition
from opiniondesk.cases.workflow import InvalidTransition, Status
from opiniondesk.catalog.models import Department
from opiniondesk.core.time import JST
from opiniondesk.demo.cases import answers_for, refer, send_application
from opiniondesk.desk.services import case_withdraw
from opiniondesk.scheduling.models import (
    Away,
    Booking,
    CancelKind,
    ExtraSession,
    Offer,
    OfferedSlot,
    ReleaseReason,
)
from opiniondesk.scheduling.selectors import department_slots
from opiniondesk.scheduling.services import (
    PastDeadline,
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
from opiniondesk.scheduling.tests.factories import held, snapshot
from opiniondesk.testing.personas import make_user

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=JST)  # Wednesday
MON = date(2026, 11, 30)
TUE = date(2026, 12, 1)
WED = date(2026, 12, 2)
THU = date(2026, 12, 3)


def at(day: date, hour: int, minute: int = 0, second: int = 0, micro: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, second, micro, tzinfo=JST)


def last_moment(day: date) -> datetime:
    return datetime.combine(day, time.max, tzinfo=JST)


HOLD = at(MON, 17)  # the default hold: Monday when the phone desk closes


@pytest.fixture(autouse=True)
def clock(time_machine):
    time_machine.move_to(NOW, tick=True)
    return time_machine


@pytest.fixture
def sato(coordinator_sato):
    return coordinator_sato


@pytest.fixture
def hana(patient_hana):
    return patient_hana


@pytest.fixture
def mori(dr_mori):
    return dr_mori


@pytest.fixture
def slots(dr_tanaka, dr_kato):
    """A: Tue 14:00 Tanaka, B: Tue 14:30 Tanaka, C: Thu 14:00 Kato, D: Thu 14:30 Kato."""
    tanaka, kato = dr_tanaka.pk, dr_kato.pk
    return {
        "A": (tanaka, at(TUE, 14)),
        "B": (tanaka, at(TUE, 14, 30)),
        "C": (kato, at(THU, 14)),
        "D": (kato, at(THU, 14, 30)),
        "E": (kato, at(TUE, 15)),
    }


@pytest.fixture
def offer_slots(sato):
    def offer(case, pairs, hold_until=HOLD, actor=sato):
        return offer_create(case_id=case.pk, actor=actor, slots=pairs, hold_until=hold_until)

    return offer


@pytest.fixture
def offered(accepted, slots, offer_slots):
    """Hana's own online case, offered A, B and C until Monday 17:00."""
    offer = offer_slots(accepted, [slots["A"], slots["B"], slots["C"]])
    return Case.objects.get(pk=accepted.pk), offer


@pytest.fixture
def booked(offered, hana):
    """Hana booked A; B and C are still held for her until Monday 17:00."""
    case, offer = offered
    booking = booking_create(case_id=case.pk, actor=hana, offered_slot_id=held(offer)[0].pk)
    return Case.objects.get(pk=case.pk), offer, booking


@pytest.fixture
def other_case(proxy_ken, dr_tanaka, sato):
    """Ken's application for his mother, accepted too (no patient account linked)."""
    return factories.proxy_case(proxy_ken, None, coordinator=sato, specialist=dr_tanaka)


@pytest.fixture
def proxy_offered(proxy_ken, patient_hana, dr_tanaka, sato, slots, offer_slots):
    """Ken applied for Hana, who linked her own account; offered A and C until Monday 17:00."""
    case = factories.proxy_case(proxy_ken, patient_hana, coordinator=sato, specialist=dr_tanaka)
    offer = offer_slots(case, [slots["A"], slots["C"]])
    return Case.objects.get(pk=case.pk), offer


def calendar(day: date) -> dict[tuple[int, datetime], tuple[str, int | None]]:
    department = Department.objects.get(code="cardiology")
    return {
        (view.specialist_id, view.starts_at): (view.state.value, view.case_id)
        for view in department_slots(department=department, start=day, end=day)
    }


def counts(case: Case) -> tuple[int, int]:
    """(CaseTransition rows, AuditEvent rows) of the case."""
    return (
        CaseTransition.objects.filter(case=case).count(),
        AuditEvent.objects.filter(case_id=case.pk).count(),
    )


def last_transition(case: Case) -> tuple[str, str, object, str]:
    row = CaseTransition.objects.filter(case=case).latest("pk")
    return row.from_status, row.to_status, row.actor, row.actor_role


def refused(expected, call):
    """The call raises exactly `expected`, with a message for the user, and changes nothing."""
    before = snapshot()
    with translation.override("en"), pytest.raises(SchedulingError) as raised:
        call()
    assert type(raised.value) is expected, repr(raised.value)
    with translation.override("en"):
        message = str(raised.value.message)
    assert message.strip()
    assert snapshot() == before
    return message


# ---------------------------------------------------------------- offer_create


def test_it_offers_candidate_dates(accepted, sato, slots, offer_slots):
    transitions, events = counts(accepted)

    offer = offer_slots(accepted, [slots["C"], slots["A"]])

    case = Case.objects.get(pk=accepted.pk)
    assert case.status == Status.OFFERED
    assert (offer.released_at, offer.hold_until, offer.offered_by) == (None, HOLD, sato)
    rows = held(offer)
    assert [(s.specialist_id, s.starts_at) for s in rows] == [slots["A"], slots["C"]]
    assert all(s.released_at is None for s in rows)
    assert all(s.ends_at - s.starts_at == timedelta(minutes=30) for s in rows)
    assert {s.department.code for s in rows} == {"cardiology"}
    # one transition, and two audit events: the transition's and the offer's
    assert counts(case) == (transitions + 1, events + 2)
    assert last_transition(case) == ("accepted", "offered", sato, "coordinator")
    event = AuditEvent.objects.get(case_id=case.pk, object_type="scheduling.Offer")
    assert (event.action, event.user, event.object_id) == ("create", sato, str(offer.pk))
    assert event.detail["hold_until"] == HOLD.isoformat()
    assert event.detail["replaces"] is None
    tuesday = calendar(TUE)
    assert tuesday[slots["A"]] == ("held", case.pk)
    assert tuesday[slots["B"]] == ("free", None)


def test_a_slot_may_be_named_in_any_time_zone(accepted, slots, offer_slots):
    specialist, starts_at = slots["A"]

    offer = offer_slots(accepted, [(specialist, starts_at.astimezone(UTC))])

    assert [s.starts_at for s in held(offer)] == [starts_at]
    assert calendar(TUE)[slots["A"]] == ("held", accepted.pk)


@pytest.mark.parametrize(
    ("day", "hour", "minute", "hold_until"),
    [
        (date(2027, 1, 5), 14, 0, at(date(2027, 1, 4), 12)),  # first Tuesday after the year end
        (date(2027, 2, 9), 15, 30, at(date(2027, 2, 8), 12)),  # last slot of the session
        (date(2027, 2, 12), 14, 0, None),  # a Friday: no session
    ],
    ids=["after-year-end", "last-of-session", "friday"],
)
def test_the_calendar_decides_what_can_be_offered(
    accepted, dr_tanaka, offer_slots, day, hour, minute, hold_until
):
    pair = (dr_tanaka.pk, at(day, hour, minute))
    if hold_until is None:
        refused(SchedulingError, lambda: offer_slots(accepted, [pair]))
    else:
        assert [s.starts_at for s in held(offer_slots(accepted, [pair], hold_until))] == [pair[1]]


def test_an_extra_session_gives_slots_on_another_weekday(accepted, dr_tanaka, offer_slots):
    tanaka = dr_tanaka
    cardiology = Department.objects.get(code="cardiology")
    ExtraSession.objects.create(
        specialist=tanaka, department=cardiology, day=WED, starts_at=time(10), ends_at=time(11)
    )
    # an extra session on a holiday gives nothing
    holiday = date(2027, 2, 11)
    ExtraSession.objects.create(
        specialist=tanaka, department=cardiology, day=holiday, starts_at=time(10), ends_at=time(11)
    )

    offer = offer_slots(accepted, [(tanaka.pk, at(WED, 10, 30))])

    assert [s.starts_at for s in held(offer)] == [at(WED, 10, 30)]
    refused(
        SchedulingError,
        lambda: offer_slots(accepted, [(tanaka.pk, at(holiday, 10))], at(holiday, 9)),
    )


NOT_A_SLOT = {
    "off-the-grid": ("dr_tanaka", at(TUE, 14, 15)),
    "after-the-session": ("dr_tanaka", at(TUE, 16)),
    "before-the-session": ("dr_tanaka", at(TUE, 13, 30)),
    "not-a-consult-day": ("dr_tanaka", at(WED, 14)),
    "national-holiday": ("dr_tanaka", at(date(2027, 2, 11), 14)),  # 建国記念の日, a Thursday
    "emperors-birthday": ("dr_kato", at(date(2027, 2, 23), 14)),  # 天皇誕生日, a Tuesday
    "year-end-tuesday": ("dr_tanaka", at(date(2026, 12, 29), 14)),
    "year-end-thursday": ("dr_kato", at(date(2026, 12, 31), 14)),
    "14:00-utc-is-23:00-jst": ("dr_tanaka", datetime(2026, 12, 1, 14, tzinfo=UTC)),
    "other-department": ("dr_mori", at(TUE, 14)),
    "not-a-specialist": ("coordinator_sato", at(TUE, 14)),
    "nobody": (None, at(TUE, 14)),
}


@pytest.mark.parametrize(("who", "starts_at"), NOT_A_SLOT.values(), ids=NOT_A_SLOT.keys())
def test_it_refuses_what_is_not_a_slot_of_the_department(
    accepted, personas, offer_slots, who, starts_at
):
    specialist_id = personas[who].pk if who else 999_999

    message = refused(SchedulingError, lambda: offer_slots(accepted, [(specialist_id, starts_at)]))

    assert "not a consult slot" in message
    assert Case.objects.get(pk=accepted.pk).status == Status.ACCEPTED


def test_it_refuses_a_slot_while_the_specialist_is_away(accepted, dr_tanaka, slots, offer_slots):
    tanaka = dr_tanaka
    Away.objects.create(specialist=tanaka, day=TUE, starts_at=time(14, 15), ends_at=time(14, 45))

    for key in ("A", "B"):  # both overlap the absence
        refused(SchedulingError, lambda key=key: offer_slots(accepted, [slots[key]]))
    assert held(offer_slots(accepted, [(tanaka.pk, at(TUE, 15))]))[0].starts_at == at(TUE, 15)


@pytest.mark.parametrize(
    ("now", "day", "allowed"),
    [
        (NOW, date(2026, 11, 26), False),  # tomorrow
        (NOW, TUE, True),
        (at(date(2026, 11, 29), 23, 59), TUE, True),  # Sunday night: two days ahead
        (at(MON, 0, 0), TUE, False),  # Monday in Japan, still Sunday in UTC
        (at(MON, 8, 59), TUE, False),
    ],
    ids=["tomorrow", "six-days", "sunday-night", "monday-midnight-jst", "monday-morning"],
)
def test_candidate_dates_leave_the_minimum_lead(
    accepted, dr_tanaka, offer_slots, clock, now, day, allowed
):
    clock.move_to(now, tick=False)
    pair = (dr_tanaka.pk, at(day, 14))

    def call():
        return offer_slots(accepted, [pair], hold_until=at(MON, 12))

    if allowed:
        assert len(held(call())) == 1
    else:
        assert "time to book and prepare" in refused(SchedulingError, call)


def test_a_slot_held_for_another_case_is_taken(offered, other_case, slots, offer_slots):
    refused(SlotTaken, lambda: offer_slots(other_case, [slots["B"]]))


def test_a_booked_slot_is_taken_even_when_its_hold_is_over(
    accepted, hana, other_case, slots, offer_slots, clock
):
    offer = offer_slots(accepted, [slots["C"], slots["D"]])
    booking_create(case_id=accepted.pk, actor=hana, offered_slot_id=held(offer)[0].pk)
    clock.move_to(HOLD + timedelta(minutes=1), tick=True)
    offer_expire(offer_id=offer.pk)
    assert calendar(THU)[slots["C"]] == ("booked", accepted.pk)
    assert calendar(THU)[slots["D"]] == ("free", None)
    later = at(WED, 12)

    refused(SlotTaken, lambda: offer_slots(other_case, [slots["C"]], hold_until=later))
    assert len(held(offer_slots(other_case, [slots["D"]], hold_until=later))) == 1


def test_nothing_is_held_when_one_of_the_dates_is_taken(accepted, other_case, slots, offer_slots):
    offer_slots(other_case, [slots["C"]])

    refused(SlotTaken, lambda: offer_slots(accepted, [slots["A"], slots["B"], slots["C"]]))
    assert not OfferedSlot.objects.filter(offer__case=accepted).exists()


@pytest.mark.parametrize(
    ("hold_until", "message"),
    [
        (NOW, "in the future"),
        (NOW - timedelta(minutes=1), "in the future"),
        (at(THU, 0), "by the day before the last"),  # the last date is on Thursday
        (at(THU, 13, 59), "by the day before the last"),
        (last_moment(WED) + timedelta(microseconds=1), "by the day before the last"),
        (at(date(2026, 12, 10), 12), "by the day before the last"),
    ],
    ids=["now", "a-minute-ago", "thu-midnight", "thu-13:59", "one-microsecond-late", "next-week"],
)
def test_the_hold_ends_in_the_future_and_by_the_day_before_the_last_date(
    accepted, slots, offer_slots, clock, hold_until, message
):
    clock.move_to(NOW, tick=False)

    assert message in refused(
        SchedulingError,
        lambda: offer_slots(accepted, [slots["A"], slots["C"]], hold_until=hold_until),
    )


def test_the_hold_may_last_until_the_desk_closes_on_the_day_before_the_last_date(
    accepted, slots, offer_slots
):
    offer = offer_slots(accepted, [slots["A"], slots["C"]], hold_until=at(WED, 17))

    assert offer.hold_until == at(WED, 17)


BEFORE_YEAR_END = at(date(2026, 12, 24), 10)  # Thursday; the desk closes 29 Dec – 3 Jan
JAN_12 = date(2027, 1, 12)  # a Tuesday, the day after 成人の日 (Monday 11 January 2027)


@pytest.mark.parametrize(
    ("now", "consult_day", "hold_until", "instead"),
    [
        (NOW, TUE, at(date(2026, 11, 27), 17), None),  # Friday, as the desk closes
        (NOW, TUE, at(date(2026, 11, 27), 17, 0, 1), "2026-11-27 17:00"),  # a second late
        (NOW, TUE, at(date(2026, 11, 28), 17), "2026-11-27 17:00"),  # Saturday
        (NOW, TUE, at(MON, 9, 59), "2026-11-27 17:00"),  # before it opens
        (NOW, TUE, at(MON, 10), None),
        (BEFORE_YEAR_END, JAN_12, at(date(2026, 12, 28), 17), None),  # last open day of the year
        (BEFORE_YEAR_END, JAN_12, at(date(2026, 12, 29), 12), "2026-12-28 17:00"),
        (BEFORE_YEAR_END, JAN_12, at(date(2027, 1, 3), 12), "2026-12-28 17:00"),
        (BEFORE_YEAR_END, JAN_12, at(date(2027, 1, 4), 10), None),
        (BEFORE_YEAR_END, JAN_12, at(date(2027, 1, 11), 12), "2027-01-08 17:00"),  # holiday
        (BEFORE_YEAR_END, JAN_12, at(date(2027, 1, 8), 17), None),  # the Friday before it
    ],
    ids=[
        "friday-17:00",
        "friday-17:00:01",
        "saturday",
        "monday-09:59",
        "monday-10:00",
        "dec-28",
        "dec-29",
        "jan-3",
        "jan-4",
        "coming-of-age-day",
        "friday-before-the-holiday",
    ],
)
def test_the_hold_ends_when_the_patient_can_still_call_us(
    accepted, dr_tanaka, offer_slots, clock, now, consult_day, hold_until, instead
):
    """The service itself, whoever calls it (SPEC §5): an open day, inside the desk's hours."""
    clock.move_to(now, tick=False)

    def call():
        return offer_slots(accepted, [(dr_tanaka.pk, at(consult_day, 14))], hold_until=hold_until)

    if instead is None:
        assert call().hold_until == hold_until
    else:
        message = refused(SchedulingError, call)
        assert "could not call us" in message and f"for example {instead}" in message
        assert not Offer.objects.filter(case=accepted).exists()


@pytest.mark.parametrize("who", ["dr_tanaka", "patient_hana", "proxy_ken", "outsider_eve"])
def test_only_a_coordinator_offers_dates(accepted, personas, slots, offer_slots, who):
    refused(SchedulingError, lambda: offer_slots(accepted, [slots["A"]], actor=personas[who]))


def test_no_dates_no_offer(accepted, offer_slots):
    refused(SchedulingError, lambda: offer_slots(accepted, []))


@pytest.mark.parametrize("state", ["referred", "booked", "withdrawn"])
def test_dates_go_only_to_an_accepted_or_offered_case(
    outsider_eve, patient_hana, dr_tanaka, sato, slots, offer_slots, state
):
    if state == "referred":
        answers = answers_for(
            relation="self", department="cardiology", disease="heart_failure", mode="online"
        )
        case = refer(send_application(outsider_eve, answers), sato)
    else:
        case = factories.accepted_case(patient_hana, coordinator=sato, specialist=dr_tanaka)
        offer = offer_slots(case, [slots["C"]])
        if state == "booked":
            booking_create(case_id=case.pk, actor=sato, offered_slot_id=held(offer)[0].pk)
        else:
            case_withdraw(case_id=case.pk, actor=patient_hana)
    case.refresh_from_db()
    assert case.status == state

    refused(SchedulingError, lambda: offer_slots(case, [slots["A"]]))


def test_offering_again_replaces_the_open_round(offered, slots, offer_slots, sato):
    case, first = offered
    transitions, events = counts(case)

    second = offer_slots(case, [slots["C"], slots["D"]], hold_until=at(WED, 12))

    first.refresh_from_db()
    assert (first.release_reason, first.released_at is not None) == (ReleaseReason.REPLACED, True)
    assert all(s.released_at is not None for s in held(first))
    assert [(s.specialist_id, s.starts_at) for s in held(second)] == [slots["C"], slots["D"]]
    assert all(s.released_at is None for s in held(second))
    assert Offer.objects.get(case=case, released_at__isnull=True) == second
    case.refresh_from_db()
    assert case.status == Status.OFFERED
    assert counts(case) == (transitions, events + 1)  # no transition: it stays offered
    event = AuditEvent.objects.filter(case_id=case.pk).order_by("-sequence").first()
    assert (event.object_type, event.detail["replaces"]) == ("scheduling.Offer", first.pk)
    assert calendar(TUE)[slots["A"]] == calendar(TUE)[slots["B"]] == ("free", None)
    assert calendar(THU)[slots["C"]] == calendar(THU)[slots["D"]] == ("held", case.pk)
    # the first round's dates cannot be booked any more
    old_a = held(first)[0]
    refused(
        SlotTaken, lambda: booking_create(case_id=case.pk, actor=sato, offered_slot_id=old_a.pk)
    )


# ---------------------------------------------------------------- offer_withdraw


def test_the_coordinator_takes_the_dates_back(offered, sato, slots):
    case, offer = offered
    transitions, events = counts(case)

    offer_withdraw(case_id=case.pk, actor=sato, reason="別の日程を提示します")

    case.refresh_from_db()
    offer.refresh_from_db()
    assert case.status == Status.ACCEPTED
    assert offer.release_reason == ReleaseReason.REPLACED
    assert all(s.released_at is not None for s in held(offer))
    assert counts(case) == (transitions + 1, events + 1)
    assert last_transition(case) == ("offered", "accepted", sato, "coordinator")
    assert CaseTransition.objects.filter(case=case).latest("pk").reason == "別の日程を提示します"
    assert calendar(TUE)[slots["A"]] == ("free", None)


@pytest.mark.parametrize("who", ["patient_hana", "dr_tanaka", "outsider_eve"])
def test_only_a_coordinator_takes_dates_back(offered, personas, who):
    case, _ = offered
    refused(SchedulingError, lambda: offer_withdraw(case_id=case.pk, actor=personas[who]))


@pytest.mark.parametrize("state", ["accepted", "booked"])
def test_there_must_be_open_dates_to_take_back(request, sato, state):
    case = request.getfixturevalue(state)
    case = case[0] if isinstance(case, tuple) else case
    before = snapshot()

    with pytest.raises(InvalidTransition):
        offer_withdraw(case_id=case.pk, actor=sato)

    assert snapshot() == before


# ---------------------------------------------------------------- offer_expire


def test_an_unbooked_hold_expires_at_hold_until(offered, slots, clock):
    case, offer = offered
    transitions, events = counts(case)
    clock.move_to(HOLD - timedelta(seconds=1), tick=False)
    before = snapshot()

    assert offer_expire(offer_id=offer.pk) is None  # not yet
    assert snapshot() == before

    clock.move_to(HOLD, tick=False)
    assert offer_expire(offer_id=offer.pk) == offer

    offer.refresh_from_db()
    case.refresh_from_db()
    assert (offer.release_reason, offer.released_at) == (ReleaseReason.EXPIRED, HOLD)
    assert all(s.released_at == HOLD for s in held(offer))
    assert case.status == Status.ACCEPTED
    assert counts(case) == (transitions + 1, events + 2)
    assert last_transition(case) == ("offered", "accepted", None, "system")
    assert calendar(TUE)[slots["A"]] == ("free", None)
    # and again: nothing more happens
    after = snapshot()
    assert offer_expire(offer_id=offer.pk) is None
    assert snapshot() == after


def test_a_booked_case_stays_booked_when_its_hold_expires(booked, slots, clock):
    case, offer, booking = booked
    transitions, events = counts(case)
    clock.move_to(HOLD + timedelta(minutes=5), tick=False)

    assert offer_expire(offer_id=offer.pk) == offer

    case.refresh_from_db()
    booking.refresh_from_db()
    assert case.status == Status.BOOKED
    assert booking.is_live
    assert counts(case) == (transitions, events + 1)
    assert all(s.released_at is not None for s in held(offer))
    assert calendar(TUE)[slots["A"]] == ("booked", case.pk)
    assert calendar(TUE)[slots["B"]] == ("free", None)


def test_a_replaced_or_unknown_offer_does_not_expire(offered, slots, offer_slots, clock):
    case, first = offered
    offer_slots(case, [slots["D"]], hold_until=at(WED, 12))
    clock.move_to(at(WED, 13), tick=False)
    before = snapshot()

    assert offer_expire(offer_id=first.pk) is None
    assert offer_expire(offer_id=999_999) is None
    assert snapshot() == before


# ---------------------------------------------------------------- booking_create


@pytest.mark.parametrize(
    ("who", "role"),
    [
        ("proxy_ken", "applicant"),
        ("patient_hana", "applicant"),
        ("coordinator_sato", "coordinator"),
    ],
)
def test_the_applicant_the_patient_or_a_coordinator_books(
    proxy_offered, personas, slots, who, role
):
    case, offer = proxy_offered
    transitions, events = counts(case)
    c = held(offer)[1]

    booking = booking_create(case_id=case.pk, actor=personas[who], offered_slot_id=c.pk)

    assert (booking.specialist_id, booking.starts_at) == slots["C"]
    assert booking.ends_at == booking.starts_at + timedelta(minutes=30)
    assert (booking.offered_slot, booking.booked_by, booking.mode) == (c, personas[who], "online")
    assert booking.department.code == "cardiology"
    case.refresh_from_db()
    assert case.status == Status.BOOKED
    assert counts(case) == (transitions + 1, events + 2)
    assert last_transition(case) == ("offered", "booked", personas[who], role)
    event = AuditEvent.objects.filter(case_id=case.pk).order_by("-sequence").first()
    assert (event.object_type, event.object_id) == ("scheduling.Booking", str(booking.pk))
    assert calendar(THU)[slots["C"]] == ("booked", case.pk)
    assert calendar(TUE)[slots["A"]] == ("held", case.pk)  # the other date stays held


@pytest.mark.parametrize("who", ["outsider_eve", "dr_tanaka", "dr_kato", "dr_mori"])
def test_outsiders_and_specialists_cannot_book(proxy_offered, personas, who):
    case, offer = proxy_offered
    actor = personas[who]

    refused(
        SchedulingError,
        lambda: booking_create(case_id=case.pk, actor=actor, offered_slot_id=held(offer)[0].pk),
    )


def test_only_the_slots_held_for_the_case_can_be_booked(
    offered, other_case, slots, offer_slots, hana
):
    case, offer = offered
    other = held(offer_slots(other_case, [slots["D"]]))[0]
    replaced = held(offer_slots(case, [slots["B"], slots["C"]]))
    a_of_the_replaced_round = held(offer)[0]

    for slot_id in (other.pk, a_of_the_replaced_round.pk, 999_999):
        refused(
            SlotTaken,
            lambda slot_id=slot_id: booking_create(
                case_id=case.pk, actor=hana, offered_slot_id=slot_id
            ),
        )
    assert booking_create(case_id=case.pk, actor=hana, offered_slot_id=replaced[0].pk)


@pytest.mark.parametrize("who", ["patient_hana", "coordinator_sato"])
def test_nobody_books_once_the_hold_is_over(offered, personas, clock, who):
    case, offer = offered
    clock.move_to(HOLD, tick=False)  # the task that releases the slots has not run yet

    message = refused(
        SlotTaken,
        lambda: booking_create(
            case_id=case.pk, actor=personas[who], offered_slot_id=held(offer)[2].pk
        ),
    )
    assert "time to choose" in message


def test_the_patient_cannot_book_a_date_after_its_deadline_but_staff_can(
    accepted, slots, offer_slots, hana, sato, clock
):
    # A on Tuesday and C on Thursday, held until Wednesday noon; it is now Tuesday 00:00.
    offer = offer_slots(accepted, [slots["A"], slots["C"]], hold_until=at(WED, 12))
    a, _ = held(offer)
    clock.move_to(at(TUE, 0), tick=False)

    message = refused(
        PastDeadline, lambda: booking_create(case_id=accepted.pk, actor=hana, offered_slot_id=a.pk)
    )
    assert "call us" in message
    assert (
        booking_create(case_id=accepted.pk, actor=sato, offered_slot_id=a.pk).starts_at
        == (slots["A"][1])
    )


def test_the_patient_books_a_later_date_after_an_earlier_ones_deadline(
    accepted, slots, offer_slots, hana, clock
):
    offer = offer_slots(accepted, [slots["A"], slots["C"]], hold_until=at(WED, 12))
    clock.move_to(at(TUE, 0), tick=False)

    booking = booking_create(case_id=accepted.pk, actor=hana, offered_slot_id=held(offer)[1].pk)

    assert booking.starts_at == slots["C"][1]


def test_a_case_is_booked_once(booked, hana, sato):
    case, offer, _ = booked
    for actor in (hana, sato):
        message = refused(
            SlotTaken,
            lambda actor=actor: booking_create(
                case_id=case.pk, actor=actor, offered_slot_id=held(offer)[1].pk
            ),
        )
        assert "already booked" in message
    assert Booking.objects.filter(case=case).count() == 1


def test_there_is_nothing_to_book_before_dates_are_offered(offered, dr_tanaka, sato, hana):
    _, offer = offered
    fresh = factories.accepted_case(hana, coordinator=sato, specialist=dr_tanaka)

    refused(
        SchedulingError,
        lambda: booking_create(case_id=fresh.pk, actor=hana, offered_slot_id=held(offer)[0].pk),
    )


# ---------------------------------------------------------------- booking_change: the patient


def test_the_patient_moves_to_another_held_date(booked, hana, slots):
    case, offer, old = booked
    transitions, events = counts(case)
    c = held(offer)[2]

    new = booking_change(case_id=case.pk, actor=hana, offered_slot_id=c.pk)

    old.refresh_from_db()
    assert (old.cancel_kind, old.cancelled_by, old.cancelled_at is not None) == (
        CancelKind.CHANGED,
        hana,
        True,
    )
    assert (new.specialist_id, new.starts_at) == slots["C"]
    assert (new.replaces, new.offered_slot, new.booked_by, new.reason) == (old, c, hana, "")
    assert Booking.objects.get(case=case, cancelled_at__isnull=True) == new
    case.refresh_from_db()
    assert case.status == Status.BOOKED
    assert counts(case) == (transitions, events + 1)  # the status stays: no transition
    event = AuditEvent.objects.filter(case_id=case.pk).order_by("-sequence").first()
    assert (event.action, event.user, event.object_id) == ("update", hana, str(new.pk))
    assert datetime.fromisoformat(event.detail["changed_from"]) == slots["A"][1]
    assert datetime.fromisoformat(event.detail["changed_to"]) == slots["C"][1]
    assert calendar(THU)[slots["C"]] == ("booked", case.pk)
    assert calendar(TUE)[slots["A"]] == ("held", case.pk)  # still offered: she may move back


@pytest.fixture
def booked_long_hold(accepted, slots, offer_slots, hana):
    """A and C held until the desk closes on Wednesday; Hana booked A (Tuesday 14:00)."""
    offer = offer_slots(accepted, [slots["A"], slots["C"]], hold_until=at(WED, 17))
    a, c = held(offer)
    booking = booking_create(case_id=accepted.pk, actor=hana, offered_slot_id=a.pk)
    return accepted, (a, c), booking


@pytest.mark.parametrize(
    ("now", "allowed"),
    [
        (at(MON, 23, 59, 59), True),
        (last_moment(MON), True),
        (at(TUE, 0, 0, 0), False),
        (at(TUE, 13, 0), False),
    ],
    ids=["23:59:59", "23:59:59.999999", "00:00:00", "the-day-itself"],
)
@pytest.mark.parametrize("action", ["change", "cancel"])
def test_the_patient_changes_or_cancels_until_the_end_of_the_day_before(
    booked_long_hold, hana, clock, now, allowed, action
):
    case, (_, c), booking = booked_long_hold
    clock.move_to(now, tick=False)
    if action == "change":
        call = lambda: booking_change(case_id=case.pk, actor=hana, offered_slot_id=c.pk)  # noqa: E731
    else:
        call = lambda: booking_cancel(case_id=case.pk, actor=hana)  # noqa: E731

    if allowed:
        call()
        booking.refresh_from_db()
        assert booking.cancelled_at == now
    else:
        assert "23:59 the day before" in refused(PastDeadline, call)


def test_the_patient_cannot_move_to_a_held_date_past_its_own_deadline(
    accepted, slots, offer_slots, hana, clock
):
    offer = offer_slots(accepted, [slots["A"], slots["C"]], hold_until=at(WED, 17))
    a, c = held(offer)
    booking_create(case_id=accepted.pk, actor=hana, offered_slot_id=c.pk)  # Thursday
    clock.move_to(at(TUE, 0), tick=False)

    message = refused(
        PastDeadline, lambda: booking_change(case_id=accepted.pk, actor=hana, offered_slot_id=a.pk)
    )
    assert "call us" in message


def test_the_patient_moves_only_to_a_date_held_for_the_case(
    booked, other_case, slots, offer_slots, hana, clock
):
    case, offer, _ = booked
    a, b, _ = held(offer)
    other = held(offer_slots(other_case, [slots["D"]]))[0]

    def change(**target):
        return lambda: booking_change(case_id=case.pk, actor=hana, **target)

    assert "Choose one of the dates" in refused(SchedulingError, change(slot=slots["E"]))
    assert "Choose one of the dates" in refused(SchedulingError, change())
    assert "already booked" in refused(SchedulingError, change(offered_slot_id=a.pk))
    refused(SlotTaken, change(offered_slot_id=other.pk))
    clock.move_to(HOLD, tick=False)
    refused(SlotTaken, change(offered_slot_id=b.pk))


@pytest.mark.parametrize("who", ["proxy_ken", "outsider_eve", "dr_tanaka", "dr_kato"])
def test_others_cannot_change_or_cancel_a_booking(booked, personas, who):
    case, offer, _ = booked
    actor = personas[who]

    refused(
        SchedulingError,
        lambda: booking_change(
            case_id=case.pk, actor=actor, offered_slot_id=held(offer)[1].pk, reason="x"
        ),
    )
    refused(SchedulingError, lambda: booking_cancel(case_id=case.pk, actor=actor, reason="x"))


def test_the_linked_patient_account_changes_the_booking_too(
    proxy_offered, proxy_ken, patient_hana, slots
):
    case, offer = proxy_offered
    a, c = held(offer)
    booking_create(case_id=case.pk, actor=proxy_ken, offered_slot_id=a.pk)

    new = booking_change(case_id=case.pk, actor=patient_hana, offered_slot_id=c.pk)

    assert (new.starts_at, new.booked_by) == (slots["C"][1], patient_hana)


# ---------------------------------------------------------------- booking_change: staff


@pytest.fixture
def on_the_day(booked, other_case, slots, offer_slots, proxy_ken, sato, clock):
    """Tuesday 09:00. Hana is booked in A; Ken's case (other) in D on Thursday; holds are over."""
    case, offer, booking = booked
    other_offer = offer_slots(other_case, [slots["D"]])
    other = booking_create(
        case_id=other_case.pk, actor=proxy_ken, offered_slot_id=held(other_offer)[0].pk
    )
    clock.move_to(HOLD, tick=True)
    offer_expire(offer_id=offer.pk)
    offer_expire(offer_id=other_offer.pk)
    clock.move_to(at(TUE, 9), tick=False)
    return case, booking, other


def test_a_coordinator_moves_a_booking_to_any_free_slot_on_the_day_itself(
    on_the_day, sato, hana, slots
):
    case, old, _ = on_the_day
    transitions, events = counts(case)
    # the patient may no longer change it online
    refused(PastDeadline, lambda: booking_change(case_id=case.pk, actor=hana, slot=slots["E"]))

    new = booking_change(case_id=case.pk, actor=sato, slot=slots["E"], reason="医師の都合")

    old.refresh_from_db()
    assert (old.cancel_kind, old.cancelled_by) == (CancelKind.CHANGED, sato)
    assert (new.specialist_id, new.starts_at, new.offered_slot) == (*slots["E"], None)
    assert (new.replaces, new.booked_by, new.reason) == (old, sato, "医師の都合")
    assert counts(case) == (transitions, events + 1)
    event = AuditEvent.objects.filter(case_id=case.pk).order_by("-sequence").first()
    assert (event.user, event.detail["reason"]) == (sato, "医師の都合")
    tuesday = calendar(TUE)
    assert tuesday[slots["A"]] == ("free", None)
    assert tuesday[slots["E"]] == ("booked", case.pk)


def test_the_old_slot_is_free_again_for_another_case(on_the_day, sato, slots):
    case, _, other = on_the_day
    booking_change(case_id=case.pk, actor=sato, slot=slots["E"], reason="医師の都合")

    moved = booking_change(
        case_id=other.case_id, actor=sato, slot=slots["A"], reason="患者さんの希望 (電話)"
    )

    assert (moved.specialist_id, moved.starts_at) == slots["A"]
    assert calendar(TUE)[slots["A"]] == ("booked", other.case_id)
    assert calendar(THU)[slots["D"]] == ("free", None)
    # and back again: each move frees the slot it leaves
    booking_change(case_id=other.case_id, actor=sato, slot=slots["D"], reason="やはり木曜日")
    assert calendar(TUE)[slots["A"]] == ("free", None)


def test_a_coordinator_moves_to_a_date_still_held_for_the_case(booked, sato, slots):
    case, offer, _ = booked

    new = booking_change(
        case_id=case.pk, actor=sato, offered_slot_id=held(offer)[1].pk, reason="電話で変更"
    )

    assert (new.starts_at, new.offered_slot) == (slots["B"][1], held(offer)[1])


@pytest.mark.parametrize(
    ("target", "reason", "expected", "message"),
    [
        ("E", "", SchedulingError, "reason for the change"),
        ("E", "   ", SchedulingError, "reason for the change"),
        (None, "医師の都合", SchedulingError, "Choose the new date"),
        ("A", "医師の都合", SchedulingError, "already booked"),
        ("D", "医師の都合", SlotTaken, "taken"),  # Ken's booking
        ("held-for-another", "医師の都合", SlotTaken, "taken"),
        ("off-the-grid", "医師の都合", SchedulingError, "not a consult slot"),
        ("holiday", "医師の都合", SchedulingError, "not a consult slot"),
        ("mori", "医師の都合", SchedulingError, "not a consult slot"),
        ("passed", "医師の都合", SchedulingError, "has passed"),
    ],
)
def test_what_a_coordinator_cannot_do(
    on_the_day,
    dr_kato,
    dr_tanaka,
    outsider_eve,
    mori,
    sato,
    slots,
    offer_slots,
    clock,
    target,
    reason,
    expected,
    message,
):
    case = on_the_day[0]
    targets = {
        **slots,
        None: None,
        "held-for-another": (dr_kato.pk, at(THU, 15)),
        "off-the-grid": (dr_tanaka.pk, at(TUE, 15, 10)),
        "holiday": (dr_tanaka.pk, at(date(2027, 2, 11), 14)),
        "mori": (mori.pk, at(TUE, 15)),
        "passed": (dr_kato.pk, at(TUE, 14)),
    }
    if target == "held-for-another":
        third = factories.accepted_case(outsider_eve, coordinator=sato, specialist=dr_tanaka)
        offer_slots(third, [targets[target]], hold_until=at(WED, 12))
    if target == "passed":
        clock.move_to(at(TUE, 14, 1), tick=False)

    assert message in refused(
        expected,
        lambda: booking_change(case_id=case.pk, actor=sato, slot=targets[target], reason=reason),
    )


def test_there_is_nothing_to_change_without_a_booking(offered, sato, slots):
    case, _ = offered
    refused(
        SchedulingError,
        lambda: booking_change(case_id=case.pk, actor=sato, slot=slots["D"], reason="x"),
    )
    refused(SchedulingError, lambda: booking_cancel(case_id=case.pk, actor=sato, reason="x"))


# ---------------------------------------------------------------- booking_cancel


def test_the_patient_cancels_and_everything_is_released(booked, hana, slots):
    case, offer, booking = booked
    transitions, events = counts(case)

    booking_cancel(case_id=case.pk, actor=hana)

    case.refresh_from_db()
    booking.refresh_from_db()
    offer.refresh_from_db()
    assert case.status == Status.CANCELLED
    assert (booking.cancel_kind, booking.cancelled_by, booking.is_live) == (
        CancelKind.CANCELLED,
        hana,
        False,
    )
    assert offer.release_reason == ReleaseReason.CASE_CLOSED
    assert all(s.released_at is not None for s in held(offer))
    assert counts(case) == (transitions + 1, events + 1)
    assert last_transition(case) == ("booked", "cancelled", hana, "applicant")
    tuesday = calendar(TUE)
    assert tuesday[slots["A"]] == tuesday[slots["B"]] == ("free", None)
    assert calendar(THU)[slots["C"]] == ("free", None)


def test_a_coordinator_cancels_on_the_day_with_a_reason(on_the_day, sato, hana, slots):
    case, booking, _ = on_the_day
    refused(PastDeadline, lambda: booking_cancel(case_id=case.pk, actor=hana))
    refused(SchedulingError, lambda: booking_cancel(case_id=case.pk, actor=sato))
    refused(SchedulingError, lambda: booking_cancel(case_id=case.pk, actor=sato, reason=" \n"))

    booking_cancel(case_id=case.pk, actor=sato, reason="患者さんの入院のため")

    booking.refresh_from_db()
    assert booking.cancel_reason == "患者さんの入院のため"
    assert Case.objects.get(pk=case.pk).status == Status.CANCELLED
    assert last_transition(case) == ("booked", "cancelled", sato, "coordinator")
    assert calendar(TUE)[slots["A"]] == ("free", None)


# ---------------------------------------------------------------- case_withdraw


def test_withdrawing_a_booked_case_releases_the_booking_and_the_holds(booked, hana, slots):
    case, offer, booking = booked

    case_withdraw(case_id=case.pk, actor=hana, reason="地元の病院で治療を続けます")

    booking.refresh_from_db()
    offer.refresh_from_db()
    assert Case.objects.get(pk=case.pk).status == Status.WITHDRAWN
    assert (booking.cancel_kind, booking.cancelled_by, booking.is_live) == (
        CancelKind.CASE_CLOSED,
        hana,
        False,
    )
    assert offer.release_reason == ReleaseReason.CASE_CLOSED
    assert all(s.released_at is not None for s in held(offer))
    assert last_transition(case) == ("booked", "withdrawn", hana, "applicant")
    assert calendar(TUE)[slots["A"]] == ("free", None)
    assert calendar(THU)[slots["C"]] == ("free", None)


def test_withdrawing_an_offered_case_releases_the_holds(offered, hana, slots):
    case, offer = offered

    case_withdraw(case_id=case.pk, actor=hana)

    assert all(s.released_at is not None for s in held(offer))
    assert calendar(TUE)[slots["A"]] == ("free", None)


# ---------------------------------------------------------------- found by these tests


def test_staff_cannot_book_or_move_into_an_offered_date_that_has_passed(
    accepted, slots, offer_slots, sato, clock
):
    # A on Tuesday 14:00 and C on Thursday, held until Wednesday noon.
    offer = offer_slots(accepted, [slots["A"], slots["C"]], hold_until=at(WED, 12))
    a, c = held(offer)
    clock.move_to(at(TUE, 14, 5), tick=False)

    assert "has passed" in refused(
        SchedulingError,
        lambda: booking_create(case_id=accepted.pk, actor=sato, offered_slot_id=a.pk),
    )
    booking_create(case_id=accepted.pk, actor=sato, offered_slot_id=c.pk)
    assert "has passed" in refused(
        SchedulingError,
        lambda: booking_change(
            case_id=accepted.pk, actor=sato, offered_slot_id=a.pk, reason="電話で依頼"
        ),
    )


def test_staff_book_an_offered_date_on_the_day_itself_until_it_starts(
    accepted, slots, offer_slots, sato, clock
):
    offer = offer_slots(accepted, [slots["A"], slots["C"]], hold_until=at(WED, 12))
    clock.move_to(at(TUE, 13, 59), tick=False)

    booking = booking_create(case_id=accepted.pk, actor=sato, offered_slot_id=held(offer)[0].pk)

    assert booking.starts_at == at(TUE, 14)


def test_a_specialist_who_has_left_gets_no_new_consults(
    booked, dr_kato, outsider_eve, coordinator_sato, dr_tanaka, slots, offer_slots
):
    case, _, _ = booked
    kato = dr_kato
    kato.is_active = False
    kato.save(update_fields=["is_active"])
    other = factories.accepted_case(
        outsider_eve, coordinator=coordinator_sato, specialist=dr_tanaka
    )

    assert "not a consult slot" in refused(
        SchedulingError, lambda: offer_slots(other, [slots["D"]])
    )
    assert "not a consult slot" in refused(
        SchedulingError,
        lambda: booking_change(
            case_id=case.pk, actor=coordinator_sato, slot=slots["D"], reason="x"
        ),
    )


def test_a_hold_past_its_time_does_not_block_a_staff_move_before_its_task_runs(
    proxy_ken, coordinator_sato, dr_tanaka, time_machine
):
    """The expiry task may run a little late; the slot is free from `hold_until` on."""
    time_machine.move_to(datetime(2026, 11, 25, 10, 0, tzinfo=JST), tick=False)
    jun = make_user("patient_jun", Role.PATIENT, first_name="潤", last_name="高橋")
    slots = factories.free_slots(
        factories.accepted_case(proxy_ken, coordinator=coordinator_sato, specialist=dr_tanaka),
        limit=3,
    )
    holder = Case.objects.get(applicant=proxy_ken)
    hold_until = datetime(2026, 11, 26, 12, 0, tzinfo=JST)
    factories.offer(holder, coordinator_sato, [slots[0]], hold_until=hold_until)
    booking = factories.booked_case(
        jun, coordinator=coordinator_sato, specialist=dr_tanaka, slot=slots[1]
    )
    target = (slots[0].specialist_id, slots[0].starts_at)
    with pytest.raises(SlotTaken):
        booking_change(case_id=booking.case_id, actor=coordinator_sato, slot=target, reason="電話")

    time_machine.move_to(hold_until + timedelta(minutes=1), tick=False)  # task not run yet
    moved = booking_change(
        case_id=booking.case_id, actor=coordinator_sato, slot=target, reason="電話"
    )
    assert moved.starts_at == slots[0].starts_at
