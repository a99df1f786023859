"""Twenty people try for one slot at the same moment, on a real PostgreSQL server (SPEC §5: a slot
is booked by at most one case, a case holds at most one live booking — enforced by the database).

Each thread has its own connection, as requests served by different workers would. The services
lock the case and then the specialist, so the attempts on one slot queue up and each later one
sees the winner's booking; the partial unique constraints stand behind the locks. SQLite
serialises every writer with one database-wide lock and cannot show this: PostgreSQL only
(DATABASE_URL=postgres://…).
"""

import io
from datetime import datetime, timedelta

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.utils import translation

from opiniondesk.cases.models import CaseTransition
from opiniondesk.cases.workflow import Status
from opiniondesk.core.tests.threads import run_at_once
from opiniondesk.core.time import JST
from opiniondesk.scheduling.models import Booking, CancelKind
from opiniondesk.scheduling.services import SlotTaken, booking_change, booking_create
from opiniondesk.scheduling.tests import factories
from opiniondesk.scheduling.tests.factories import held

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


def _insert(case, specialist, starts_at, booked_by):
    with transaction.atomic():
        return Booking.objects.create(
            case=case,
            specialist=specialist,
            department=case.department,
            mode=case.mode,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(minutes=30),
            booked_by=booked_by,
        )


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
    # a cancelled booking does not count: the slot can be booked again once it is cancelled
    Booking.objects.update(cancelled_at=NOW, cancel_kind=CancelKind.CANCELLED)
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
