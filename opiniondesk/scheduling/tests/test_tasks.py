"""The mails of a booking through the real task queue and a real SMTP server (SPEC §5):
the confirmation with its `.ics` on booking, then 10:00 JST the day before and one hour before —
each once, and never for a booking that was cancelled or moved; and the hold that runs out.

Ken applied for his mother Hana, who linked her own account: both get every mail. Hana reads
Japanese; Ken has chosen English.
"""

from datetime import datetime, timedelta

import icalendar
import pytest
from django_tasks_db.models import DBTaskResult

from opiniondesk.cases.models import Case
from opiniondesk.cases.workflow import Status
from opiniondesk.core.time import JST
from opiniondesk.scheduling import tasks
from opiniondesk.scheduling.models import Offer, ReminderSent
from opiniondesk.scheduling.services import (
    booking_cancel,
    booking_change,
    booking_create,
    offer_create,
)
from opiniondesk.scheduling.tests import factories
from opiniondesk.scheduling.tests.factories import held

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=JST)  # Wednesday
HOLD = datetime(2026, 11, 30, 17, 0, tzinfo=JST)
TUESDAY_14 = datetime(2026, 12, 1, 14, 0, tzinfo=JST)
THURSDAY_14 = datetime(2026, 12, 3, 14, 0, tzinfo=JST)
DAY_BEFORE = datetime(2026, 11, 30, 10, 0, tzinfo=JST)  # Monday 10:00
HOUR_BEFORE = datetime(2026, 12, 1, 13, 0, tzinfo=JST)
TUESDAY_JA = "2026年12月1日(火) 14:00~14:30"
TUESDAY_EN = "Tuesday 1 December 2026, 14:00–14:30 (Japan time)"
THURSDAY_JA = "2026年12月3日(木) 14:00~14:30"
REMINDER_TASK = "opiniondesk.scheduling.tasks.send_reminder"
EXPIRY_TASK = "opiniondesk.scheduling.tasks.expire_offer"
HANA, KEN, SATO = "patient_hana@example.jp", "proxy_ken@example.jp", "coordinator_sato@example.jp"


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(NOW, tick=True)
    return time_machine


@pytest.fixture
def deliver(run_tasks, committed, smtp_inbox):
    """Run the due tasks, then the mails they queued; return the messages that arrived."""

    def deliver():
        before = len(smtp_inbox.messages)
        committed(run_tasks)
        run_tasks()
        return smtp_inbox.messages[before:]

    return deliver


@pytest.fixture
def offered(
    clock, proxy_ken, patient_hana, coordinator_sato, dr_tanaka, dr_kato, committed, deliver
):
    """Ken's application for Hana, offered Tuesday 14:00 and Thursday 14:00 until Monday 17:00."""
    proxy_ken.language = "en"
    proxy_ken.save(update_fields=["language"])
    case = factories.proxy_case(
        proxy_ken, patient_hana, coordinator=coordinator_sato, specialist=dr_tanaka
    )
    offer = committed(
        lambda: offer_create(
            case_id=case.pk,
            actor=coordinator_sato,
            slots=[(dr_tanaka.pk, TUESDAY_14), (dr_kato.pk, THURSDAY_14)],
            hold_until=HOLD,
        )
    )
    deliver()  # the offer's own mails
    return case, offer


@pytest.fixture
def booked(offered, patient_hana, committed, deliver):
    """Hana books Tuesday 14:00; returns the booking and the mails of the booking."""
    case, offer = offered
    booking = committed(
        lambda: booking_create(
            case_id=case.pk, actor=patient_hana, offered_slot_id=held(offer)[0].pk
        )
    )
    return booking, deliver()


def body(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def to(messages) -> list[str]:
    return sorted(address for m in messages for address in m["To"].split(", "))


def calendar_of(message) -> icalendar.Calendar:
    [part] = [p for p in message.iter_attachments() if p.get_content_type() == "text/calendar"]
    assert part.get_filename() == "second-opinion.ics"
    return icalendar.Calendar.from_ical(part.get_content())


def reminder_rows(booking=None) -> list[DBTaskResult]:
    rows = DBTaskResult.objects.filter(task_path=REMINDER_TASK).order_by("run_after")
    if booking is not None:
        rows = [r for r in rows if r.args_kwargs["args"][0] == booking.pk]
    return list(rows)


def test_booking_sends_the_confirmation_with_the_calendar_file(booked):
    booking, mails = booked

    assert to(mails) == [HANA, KEN]
    by_address = {m["To"]: m for m in mails}
    assert TUESDAY_JA in body(by_address[HANA])
    assert TUESDAY_EN in body(by_address[KEN])
    assert booking.case.reference in by_address[KEN]["Subject"]
    for message in mails:
        calendar = calendar_of(message)
        [event] = calendar.walk("VEVENT")
        assert calendar["METHOD"] == "PUBLISH"
        assert event.decoded("DTSTART") == TUESDAY_14
        assert event["DTSTART"].params["TZID"] == "Asia/Tokyo"
        assert event["SEQUENCE"] == 0
        assert str(event["UID"]).startswith(f"case-{booking.case_id}@")
    assert ReminderSent.objects.filter(booking=booking).get().kind == "booked"


def test_the_reminders_are_queued_for_10_the_day_before_and_one_hour_before(booked):
    booking, _ = booked

    rows = reminder_rows(booking)

    assert [(r.args_kwargs["args"][1], r.run_after) for r in rows] == [
        ("day_before", DAY_BEFORE),
        ("hour_before", HOUR_BEFORE),
        ("booked", rows[-1].run_after),  # no run_after: stored as the far future, run at once
    ]
    assert rows[0].run_after.astimezone(JST).hour == 10
    assert [r.status for r in rows] == ["READY", "READY", "SUCCESSFUL"]


def test_each_reminder_goes_once_when_its_moment_comes(booked, clock, deliver, committed):
    booking, _ = booked

    clock.move_to(DAY_BEFORE - timedelta(seconds=1), tick=False)
    assert deliver() == []

    clock.move_to(DAY_BEFORE, tick=True)
    day_before = deliver()
    assert to(day_before) == [HANA, KEN]
    hana_mail = next(m for m in day_before if m["To"] == HANA)
    ken_mail = next(m for m in day_before if m["To"] == KEN)
    assert TUESDAY_JA in body(hana_mail)
    assert "tomorrow" in body(ken_mail)
    assert TUESDAY_EN in body(ken_mail)
    assert calendar_of(hana_mail).walk("VEVENT")[0].decoded("DTSTART") == TUESDAY_14
    assert deliver() == []

    clock.move_to(HOUR_BEFORE - timedelta(minutes=1), tick=False)
    assert deliver() == []
    clock.move_to(HOUR_BEFORE, tick=True)
    hour_before = deliver()
    assert to(hour_before) == [HANA, KEN]
    assert TUESDAY_JA in body(next(m for m in hour_before if m["To"] == HANA))
    assert "one hour" in body(next(m for m in hour_before if m["To"] == KEN))

    # A reminder task that runs twice (a retry, a second worker) sends nothing more.
    for kind in ("booked", "day_before", "hour_before"):
        committed(lambda kind=kind: tasks.send_reminder.enqueue(booking.pk, kind))
    assert deliver() == []
    assert sorted(ReminderSent.objects.filter(booking=booking).values_list("kind", flat=True)) == [
        "booked",
        "day_before",
        "hour_before",
    ]


def test_no_reminder_for_a_cancelled_booking(booked, patient_hana, clock, deliver, committed):
    booking, _ = booked
    committed(lambda: booking_cancel(case_id=booking.case_id, actor=patient_hana))
    cancellation = deliver()
    assert to(cancellation) == [SATO, HANA, KEN]  # the coordinators hear of it too
    patient_mail = next(m for m in cancellation if m["To"] == HANA)
    assert calendar_of(patient_mail)["METHOD"] == "CANCEL"

    for moment in (DAY_BEFORE, HOUR_BEFORE, TUESDAY_14 - timedelta(minutes=5)):
        clock.move_to(moment, tick=True)
        assert deliver() == []
    assert list(ReminderSent.objects.values_list("kind", flat=True)) == ["booked"]
    assert {r.status for r in reminder_rows()} == {"SUCCESSFUL"}  # they ran, and sent nothing


def test_a_moved_booking_is_reminded_of_its_new_date_only(
    booked, offered, patient_hana, clock, deliver, committed
):
    old, _ = booked
    _, offer = offered
    new = committed(
        lambda: booking_change(
            case_id=old.case_id, actor=patient_hana, offered_slot_id=held(offer)[1].pk
        )
    )
    moved = deliver()
    assert to(moved) == [SATO, HANA, KEN]
    hana_mail = next(m for m in moved if m["To"] == HANA)
    assert calendar_of(hana_mail).walk("VEVENT")[0].decoded("DTSTART") == THURSDAY_14
    assert calendar_of(hana_mail).walk("VEVENT")[0]["SEQUENCE"] == 1
    assert [(r.args_kwargs["args"][1], r.run_after) for r in reminder_rows(new)] == [
        ("day_before", datetime(2026, 12, 2, 10, 0, tzinfo=JST)),
        ("hour_before", datetime(2026, 12, 3, 13, 0, tzinfo=JST)),
    ]  # no second confirmation: the change mail was it

    # the old booking's moments pass in silence
    for moment in (DAY_BEFORE, HOUR_BEFORE):
        clock.move_to(moment, tick=True)
        assert deliver() == []
    clock.move_to(datetime(2026, 12, 2, 10, 0, tzinfo=JST), tick=True)
    day_before = deliver()
    assert to(day_before) == [HANA, KEN]
    assert THURSDAY_JA in body(next(m for m in day_before if m["To"] == HANA))
    assert TUESDAY_JA not in body(next(m for m in day_before if m["To"] == HANA))
    assert list(ReminderSent.objects.filter(booking=old).values_list("kind", flat=True)) == [
        "booked"
    ]


def test_a_booking_made_after_10_the_day_before_gets_only_the_hour_before(
    offered, patient_hana, clock, committed, deliver
):
    case, offer = offered
    clock.move_to(datetime(2026, 11, 30, 11, 0, tzinfo=JST), tick=True)

    booking = committed(
        lambda: booking_create(
            case_id=case.pk, actor=patient_hana, offered_slot_id=held(offer)[0].pk
        )
    )

    rows = reminder_rows(booking)
    assert [r.args_kwargs["args"][1] for r in rows] == ["hour_before", "booked"]
    assert rows[0].run_after == HOUR_BEFORE
    assert len(deliver()) == 2  # the confirmation


def test_a_late_reminder_is_not_sent_after_the_consult_started(booked, clock, deliver):
    clock.move_to(TUESDAY_14 + timedelta(minutes=1), tick=True)  # the worker was down

    assert deliver() == []
    assert list(ReminderSent.objects.values_list("kind", flat=True)) == ["booked"]


def test_a_day_before_reminder_run_late_on_the_day_itself_is_not_sent(booked, clock, deliver):
    _booking, _mails = booked
    consult_day_morning = datetime.combine(TUESDAY_14.date(), datetime.min.time(), tzinfo=JST)
    clock.move_to(consult_day_morning + timedelta(hours=9), tick=True)  # the worker was down

    assert deliver() == []  # not "tomorrow" on the day itself; the hour-before is still ahead
    assert list(ReminderSent.objects.values_list("kind", flat=True)) == ["booked"]


def test_the_hold_runs_out_by_its_task_at_hold_until(offered, clock, deliver):
    case, offer = offered
    [row] = DBTaskResult.objects.filter(task_path=EXPIRY_TASK)
    assert (row.run_after, row.args_kwargs["args"]) == (HOLD, [offer.pk])

    clock.move_to(HOLD - timedelta(seconds=1), tick=False)
    assert deliver() == []
    assert Offer.objects.get(pk=offer.pk).released_at is None

    clock.move_to(HOLD, tick=True)
    mails = deliver()

    assert Case.objects.get(pk=case.pk).status == Status.ACCEPTED
    assert Offer.objects.get(pk=offer.pk).release_reason == "expired"
    assert to(mails) == [SATO, HANA, KEN]
    assert case.reference in next(m for m in mails if m["To"] == KEN)["Subject"]


def test_a_booked_case_stays_booked_when_the_expiry_task_runs(booked, clock, deliver):
    booking, _ = booked
    clock.move_to(HOLD, tick=True)

    mails = deliver()

    assert Case.objects.get(pk=booking.case_id).status == Status.BOOKED
    # only the day-before reminders (due since 10:00): no "dates lapsed" mail
    assert to(mails) == [HANA, KEN]
    assert ReminderSent.objects.filter(booking=booking, kind="day_before").exists()
    assert Offer.objects.get(case_id=booking.case_id).release_reason == "expired"
