"""Twenty people try for one slot at the same moment, on a real PostgreSQL server (SPEC §5: a slot
is booked by at most one case, a case holds at most one live booking — enforced by the database;
a 60-minute consult claims both of its slots, so overlapping starts race for the same slot).

Each thread has its own connection, as requests served by different workers would. The services
lock the case, and those that take a free slot lock the specialist too, so the attempts on one
slot queue up and each later one sees the winner's booking or hold; the partial unique
constraints stand behind the locks. Bookings of different held dates wait on nothing shared. SQLite
serialises every writer with one database-wide lock and cannot show this: PostgreSQL only
(DATABASE_URL=postgres://…).
"""

import io
import threading
import time
from datetime import datetime, timedelta

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.utils import translation

from opiniondesk.cases.models import Case, CaseTransition
from opiniondesk.cases.state_counts import SHARDS
from opiniondesk.cases.workflow import Status
from opiniondesk.catalog.models import Department
from opiniondesk.core.tests.threads import run_at_once
from opiniondesk.core.time import JST
from opiniondesk.scheduling.availability import away_create
from opiniondesk.scheduling.models import (
    BookedSlot,
    Booking,
    CancelKind,
    HeldSlot,
    Offer,
    OfferedSlot,
)
from opiniondesk.scheduling.selectors import suggest_slots
from opiniondesk.scheduling.services import (
    SchedulingError,
    SlotTaken,
    booking_change,
    booking_create,
    offer_create,
)
from opiniondesk.scheduling.tests import factories
from opiniondesk.scheduling.tests.factories import held, slot_rows_match

# Concurrent writers need PostgreSQL's row locks (root conftest: skipped, or failed under CI).
pytestmark = [pytest.mark.postgresql, pytest.mark.django_db(transaction=True)]

TIMEOUT = 30  # seconds; a lock that never comes back fails the test instead of hanging it
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=JST)  # Wednesday; slots from Tuesday 1 December


@pytest.fixture(autouse=True)
def clock(time_machine):
    time_machine.move_to(NOW, tick=True)


def _run_at_once(*calls):
    return run_at_once(*calls, timeout=TIMEOUT)


def _one_winner(outcomes):
    """Exactly one call succeeded; every other was told, in words, that the slot is taken."""
    winners = [i for i, (kind, _) in enumerate(outcomes) if kind == "ok"]
    assert len(winners) == 1, outcomes
    for kind, error in outcomes:
        if kind == "error":
            assert isinstance(error, SlotTaken), repr(error)
            with translation.override("en"):
                assert "taken" in str(error.message) or "already booked" in str(error.message)
    return winners[0]


def _assert_chain_whole():
    out = io.StringIO()
    call_command("verify_audit_log", stdout=out)  # raises CommandError on a broken link
    assert "Audit log intact" in out.getvalue()


def _booked_cases(patient_hana, coordinator_sato, dr_tanaka, slots):
    """One case of Hana's booked in each slot: the coordinator offers it, Hana books it."""
    return [
        factories.booked_case(
            patient_hana, coordinator=coordinator_sato, specialist=dr_tanaka, slot=slot
        )
        for slot in slots
    ]


def _live(specialist_id, starts_at):
    return list(
        Booking.objects.filter(
            specialist_id=specialist_id, starts_at=starts_at, cancelled_at__isnull=True
        )
    )


def test_twenty_attempts_on_one_offered_slot_one_wins(
    outsider_eve, coordinator_sato, dr_tanaka, proxy_ken, patient_hana
):
    # Given: Ken's application for Hana (her account linked) holds the first slot; 17 other
    # cardiology cases are booked in the next slots.
    free = factories.free_slots(
        factories.accepted_case(outsider_eve, coordinator=coordinator_sato, specialist=dr_tanaka),
        limit=18,
    )
    target, others = free[0], free[1:]
    holder = factories.proxy_case(
        proxy_ken, patient_hana, coordinator=coordinator_sato, specialist=dr_tanaka
    )
    [slot] = held(factories.offer(holder, coordinator_sato, [target]))
    bookings = _booked_cases(patient_hana, coordinator_sato, dr_tanaka, others)
    before = {b.pk: (b.specialist_id, b.starts_at) for b in bookings}

    # When: the applicant, the patient and the coordinator book it for the holder, while
    # coordinators try to move each of the 17 other bookings into it — all at once.
    book = [
        (
            lambda actor=actor: booking_create(
                case_id=holder.pk, actor=actor, offered_slot_id=slot.pk
            )
        )
        for actor in (proxy_ken, patient_hana, coordinator_sato)
    ]
    move = [
        (
            lambda b=b: booking_change(
                case_id=b.case_id,
                actor=coordinator_sato,
                slot=(target.specialist_id, target.starts_at),
                reason="患者さんの希望",
            )
        )
        for b in bookings
    ]
    assert len(book + move) == 20
    outcomes = _run_at_once(*book, *move)

    # Then: one booking of the slot, for the holder; everybody else is told it is taken.
    won = _one_winner(outcomes)
    assert won < 3, "a held slot went to another case"
    [live] = _live(target.specialist_id, target.starts_at)
    assert live.case_id == holder.pk
    assert live.booked_by == [proxy_ken, patient_hana, coordinator_sato][won]
    holder.refresh_from_db()
    assert holder.status == Status.BOOKED
    assert CaseTransition.objects.filter(case=holder, to_status="booked").count() == 1
    assert Booking.objects.filter(case=holder).count() == 1
    for booking in bookings:  # the other cases kept their bookings
        booking.refresh_from_db()
        assert booking.is_live
        assert (booking.specialist_id, booking.starts_at) == before[booking.pk]
    assert Booking.objects.filter(cancelled_at__isnull=True).count() == 18
    _assert_chain_whole()


def test_twenty_coordinators_move_twenty_bookings_into_one_free_slot_one_wins(
    outsider_eve, coordinator_sato, dr_tanaka, patient_hana
):
    # Given: twenty booked cases, and one free slot nobody holds.
    free = factories.free_slots(
        factories.accepted_case(outsider_eve, coordinator=coordinator_sato, specialist=dr_tanaka),
        limit=21,
    )
    target, others = free[-1], free[:-1]
    bookings = _booked_cases(patient_hana, coordinator_sato, dr_tanaka, others)

    # When: twenty coordinators' clicks move each of them into the free slot at once.
    outcomes = _run_at_once(
        *[
            (
                lambda b=b: booking_change(
                    case_id=b.case_id,
                    actor=coordinator_sato,
                    slot=(target.specialist_id, target.starts_at),
                    reason="医師の都合",
                )
            )
            for b in bookings
        ]
    )

    # Then: exactly one moved; its old slot is free; the others did not move.
    won = _one_winner(outcomes)
    [live] = _live(target.specialist_id, target.starts_at)
    winner = bookings[won]
    assert live.case_id == winner.case_id
    assert live.replaces_id == winner.pk
    winner.refresh_from_db()
    assert (winner.is_live, winner.cancel_kind) == (False, CancelKind.CHANGED)
    assert _live(winner.specialist_id, winner.starts_at) == []
    for index, booking in enumerate(bookings):
        if index != won:
            booking.refresh_from_db()
            assert booking.is_live
    assert Booking.objects.filter(cancelled_at__isnull=True).count() == 20
    _assert_chain_whole()


def _insert(case, specialist, starts_at, booked_by, minutes=30):
    """A live booking and a row for each of its slots, skipping every check of the services."""
    with transaction.atomic():
        booking = Booking.objects.create(
            case=case,
            specialist=specialist,
            department=case.department,
            mode=case.mode,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(minutes=minutes),
            booked_by=booked_by,
        )
        BookedSlot.objects.bulk_create(
            BookedSlot(
                booking=booking,
                specialist=specialist,
                starts_at=starts_at + timedelta(minutes=offset),
            )
            for offset in range(0, minutes, 30)
        )
        return booking


def _insert_hold(case, specialist, starts_at, offered_by, minutes=30):
    """A candidate date and its held slot rows, skipping every check of the services."""
    with transaction.atomic():
        offer = Offer.objects.create(case=case, offered_by=offered_by, hold_until=NOW)
        offered = OfferedSlot.objects.create(
            offer=offer,
            specialist=specialist,
            department=case.department,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(minutes=minutes),
        )
        HeldSlot.objects.bulk_create(
            HeldSlot(
                offered_slot=offered,
                specialist=specialist,
                starts_at=starts_at + timedelta(minutes=offset),
            )
            for offset in range(0, minutes, 30)
        )
        return offered


def _only_integrity_errors(outcomes):
    kinds = [kind for kind, _ in outcomes]
    assert kinds.count("ok") == 1, outcomes
    for kind, error in outcomes:
        if kind == "error":
            assert isinstance(error, IntegrityError), repr(error)


def test_the_database_alone_allows_one_live_booking_per_slot(
    patient_hana, coordinator_sato, dr_tanaka
):
    # Given: twenty accepted cases, and code that skips every check of the services.
    cases = [
        factories.accepted_case(patient_hana, coordinator=coordinator_sato, specialist=dr_tanaka)
        for _ in range(20)
    ]
    tanaka, starts_at = dr_tanaka, datetime(2026, 12, 1, 14, 0, tzinfo=JST)

    # When: each inserts a live booking of the same slot at the same moment.
    outcomes = _run_at_once(
        *[(lambda c=c: _insert(c, tanaka, starts_at, coordinator_sato)) for c in cases]
    )

    # Then: one row; the others were refused by the partial unique index.
    _only_integrity_errors(outcomes)
    assert len(_live(tanaka.pk, starts_at)) == 1
    assert Booking.objects.count() == 1
    # a cancelled booking does not count: the slot can be booked again once it is released
    Booking.objects.update(cancelled_at=NOW, cancel_kind=CancelKind.CANCELLED)
    BookedSlot.objects.update(released_at=NOW)
    _insert(cases[0], tanaka, starts_at, coordinator_sato)
    with pytest.raises(IntegrityError):
        _insert(cases[1], tanaka, starts_at, coordinator_sato)


def test_the_database_alone_allows_one_live_booking_per_case(
    patient_hana, coordinator_sato, dr_tanaka, dr_kato
):
    case = factories.accepted_case(patient_hana, coordinator=coordinator_sato, specialist=dr_tanaka)
    slots = factories.free_slots(case, limit=20)

    # Two live bookings of one case, one after the other …
    _insert(case, dr_tanaka, slots[0].starts_at, coordinator_sato)
    with pytest.raises(IntegrityError):
        _insert(case, dr_kato, slots[-1].starts_at, coordinator_sato)
    BookedSlot.objects.all().delete()
    Booking.objects.all().delete()

    # … or twenty at once, each in another slot.
    outcomes = _run_at_once(
        *[
            (
                lambda s=s: _insert(
                    case, dr_tanaka if s.specialist_name == "dr_tanaka" else dr_kato,
                    s.starts_at, coordinator_sato,
                )
            )
            for s in slots
        ]
    )  # fmt: skip

    _only_integrity_errors(outcomes)
    assert Booking.objects.filter(case=case, cancelled_at__isnull=True).count() == 1


@pytest.mark.parametrize("insert", [_insert, _insert_hold], ids=["bookings", "holds"])
def test_the_database_alone_refuses_overlapping_consults(
    patient_hana, coordinator_sato, dr_tanaka, insert
):
    # Given: twenty accepted cases, and code that skips every check of the services.
    cases = [
        factories.accepted_case(patient_hana, coordinator=coordinator_sato, specialist=dr_tanaka)
        for _ in range(20)
    ]
    two = datetime(2026, 12, 1, 14, 0, tzinfo=JST)
    half_past = two + timedelta(minutes=30)
    starts = [(two, 60), (half_past, 30), (half_past, 60)]

    # When: each writes a consult of Dr Tanaka's that takes the 14:30 slot — 60 minutes from
    # 14:00, 30 or 60 from 14:30 — at the same moment.
    outcomes = _run_at_once(
        *[
            (
                lambda c=c, when=starts[i % 3]: insert(
                    c, dr_tanaka, when[0], coordinator_sato, minutes=when[1]
                )
            )
            for i, c in enumerate(cases)
        ]
    )

    # Then: one consult's rows; every other write was refused whole by a partial unique index.
    _only_integrity_errors(outcomes)
    model = BookedSlot if insert is _insert else HeldSlot
    live = list(model.objects.filter(released_at__isnull=True).order_by("starts_at"))
    assert len({row.starts_at for row in live}) == len(live) in (1, 2)
    assert (
        len({(row.booking_id if insert is _insert else row.offered_slot_id) for row in live}) == 1
    )
    slot_rows_match()


def _book_elsewhere(count, minutes, avoid, *, patient, coordinator, specialist):
    """`count` cases of `minutes`, each booked through the services at the earliest start where
    it fits, never on the slots `avoid` names."""
    cardiology = Department.objects.get(code="cardiology")
    bookings = []
    for _ in range(count):
        slot = next(
            view
            for view in suggest_slots(
                department=cardiology, today=NOW.date(), minutes=minutes, limit=60
            )
            if not avoid(view)
        )
        bookings.append(
            factories.booked_case(
                patient,
                coordinator=coordinator,
                specialist=specialist,
                slot=slot,
                planned_minutes=minutes,
            )
        )
    return bookings


def test_twenty_attempts_at_overlapping_starts_one_wins(
    outsider_eve, coordinator_sato, dr_tanaka, patient_hana, proxy_ken
):
    # Given: Dr Tanaka's Tuesday afternoon is free. Seventeen cases are booked on other days or
    # with Dr Kato, 60-minute and 30-minute ones; three 30-minute cases wait for dates.
    tuesday = datetime(2026, 12, 1, tzinfo=JST).date()
    two, half_past = (datetime(2026, 12, 1, 14, m, tzinfo=JST) for m in (0, 30))

    def on_tanakas_tuesday(view):
        return view.specialist_id == dr_tanaka.pk and view.starts_at.date() == tuesday

    people = {"patient": patient_hana, "coordinator": coordinator_sato, "specialist": dr_tanaka}
    long_ones = _book_elsewhere(10, 60, on_tanakas_tuesday, **people)
    short_ones = _book_elsewhere(7, 30, on_tanakas_tuesday, **people)
    waiting = [
        factories.accepted_case(proxy_ken, coordinator=coordinator_sato, specialist=dr_tanaka)
        for _ in range(3)
    ]
    before = {b.pk: (b.specialist_id, b.starts_at, b.ends_at) for b in long_ones + short_ones}

    # When: at once, coordinators move seven 60-minute bookings to 14:00–15:00 and three to
    # 14:30–15:30, and the seven 30-minute ones to 14:30–15:00, while three 30-minute cases are
    # offered 14:30 — every one of them needs the 14:30 slot.
    def move(booking, starts_at):
        return lambda: booking_change(
            case_id=booking.case_id,
            actor=coordinator_sato,
            slot=(dr_tanaka.pk, starts_at),
            reason="医師の都合",
        )

    def offer(case):
        return lambda: offer_create(
            case_id=case.pk,
            actor=coordinator_sato,
            slots=[(dr_tanaka.pk, half_past)],
            hold_until=datetime(2026, 11, 30, 17, 0, tzinfo=JST),
        )

    calls = [
        *[move(b, two) for b in long_ones[:7]],
        *[move(b, half_past) for b in long_ones[7:]],
        *[move(b, half_past) for b in short_ones],
        *[offer(c) for c in waiting],
    ]
    assert len(calls) == 20
    outcomes = _run_at_once(*calls)

    # Then: one attempt won; the 14:30 slot is claimed by one case only, and nothing of
    # Tanaka's Tuesday is held or booked twice; everybody else was told it is taken.
    won = _one_winner(outcomes)
    claims = [
        *BookedSlot.objects.filter(specialist=dr_tanaka, released_at__isnull=True).values_list(
            "starts_at", "booking__case_id"
        ),
        *HeldSlot.objects.filter(specialist=dr_tanaka, released_at__isnull=True).values_list(
            "starts_at", "offered_slot__offer__case_id"
        ),
    ]
    on_tuesday = [(at, case) for at, case in claims if at.astimezone(JST).date() == tuesday]
    assert len({at for at, _ in on_tuesday}) == len(on_tuesday)  # no slot claimed twice
    assert {case for at, case in on_tuesday if at == half_past} == {
        outcomes[won][1].case_id if won < 17 else waiting[won - 17].pk
    }
    movers = long_ones + short_ones
    for index, booking in enumerate(movers):
        booking.refresh_from_db()
        assert booking.is_live is (index != won)
        if index != won:
            assert (booking.specialist_id, booking.starts_at, booking.ends_at) == before[booking.pk]
    expected_status = [Status.OFFERED if 17 + i == won else Status.ACCEPTED for i in range(3)]
    assert [Case.objects.get(pk=c.pk).status for c in waiting] == expected_status
    assert Booking.objects.filter(cancelled_at__isnull=True).count() == 17
    slot_rows_match()
    _assert_chain_whole()


def test_patients_booking_one_specialists_dates_do_not_wait_on_each_other(
    coordinator_sato, dr_tanaka, patient_hana
):
    # Given: two cases of Dr Tanaka's, each offered a date of its own.
    first, second = (
        factories.accepted_case(patient_hana, coordinator=coordinator_sato, specialist=dr_tanaka)
        for _ in range(2)
    )
    assert first.pk % SHARDS != second.pk % SHARDS  # their state counts are kept in two rows
    free = [s for s in factories.free_slots(first, limit=12) if s.specialist_id == dr_tanaka.pk]
    [slot_1] = held(factories.offer(first, coordinator_sato, free[:1]))
    [slot_2] = held(factories.offer(second, coordinator_sato, free[1:2]))
    first_booked, second_booked = threading.Event(), threading.Event()

    # When: the first booking's transaction stays open until the second booking is made.
    def book_first():
        with transaction.atomic():
            booking_create(case_id=first.pk, actor=patient_hana, offered_slot_id=slot_1.pk)
            first_booked.set()
            return second_booked.wait(timeout=10)  # False: the second waited on a lock of ours

    def book_second():
        assert first_booked.wait(timeout=TIMEOUT)
        booking = booking_create(case_id=second.pk, actor=patient_hana, offered_slot_id=slot_2.pk)
        second_booked.set()
        return booking

    outcomes = _run_at_once(book_first, book_second)

    # Then: the second was booked while the first was still open, and both are live.
    assert outcomes[0] == ("ok", True), outcomes
    assert outcomes[1][0] == "ok", outcomes
    assert {b.case_id for b in Booking.objects.filter(cancelled_at__isnull=True)} == {
        first.pk,
        second.pk,
    }
    slot_rows_match()
    _assert_chain_whole()


def test_a_day_off_asked_during_a_booking_is_refused(coordinator_sato, dr_tanaka, patient_hana):
    # Given: a case of Dr Tanaka's offered one date, and its booking's transaction still open.
    case = factories.accepted_case(patient_hana, coordinator=coordinator_sato, specialist=dr_tanaka)
    free = [s for s in factories.free_slots(case, limit=12) if s.specialist_id == dr_tanaka.pk]
    [slot] = held(factories.offer(case, coordinator_sato, free[:1]))
    booked = threading.Event()
    day = slot.starts_at.astimezone(JST).date()

    def book():
        with transaction.atomic():
            booking = booking_create(case_id=case.pk, actor=patient_hana, offered_slot_id=slot.pk)
            booked.set()
            time.sleep(1)  # the coordinator's change comes while this is open
            return booking

    def away():
        assert booked.wait(timeout=TIMEOUT)
        return away_create(actor=coordinator_sato, specialist=dr_tanaka, day=day, note="学会")

    # When: a coordinator marks Dr Tanaka away that whole day at that moment.
    outcomes = _run_at_once(book, away)

    # Then: the booking stands and the day off is refused: the date was claimed all along.
    assert outcomes[0][0] == "ok", outcomes
    kind, error = outcomes[1]
    assert kind == "error" and isinstance(error, SchedulingError), outcomes
    assert Booking.objects.get(cancelled_at__isnull=True).case_id == case.pk
