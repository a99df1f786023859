"""Who is told what about dates and bookings, through the real mail queue and SMTP server.

Ken applied for his mother Hana, who linked her own account; Ken reads English, Hana Japanese.
The patient's side gets every mail; the coordinators hear when the patient's side changes or
cancels online; nobody's mail names the illness.
"""

from datetime import datetime, timedelta

import icalendar
import pytest
from django.urls import reverse

from opiniondesk.core.time import JST
from opiniondesk.scheduling.services import (
    booking_cancel,
    booking_change,
    booking_create,
    offer_create,
)
from opiniondesk.scheduling.tests import factories
from opiniondesk.scheduling.tests.factories import held

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=JST)
HOLD = datetime(2026, 11, 30, 17, 0, tzinfo=JST)
TUESDAY_14 = datetime(2026, 12, 1, 14, 0, tzinfo=JST)
THURSDAY_14 = datetime(2026, 12, 3, 14, 0, tzinfo=JST)
HANA, KEN, SATO = "patient_hana@example.jp", "proxy_ken@example.jp", "coordinator_sato@example.jp"


@pytest.fixture(autouse=True)
def clock(time_machine):
    time_machine.move_to(NOW, tick=True)


@pytest.fixture
def deliver(run_tasks, committed, smtp_inbox):
    def deliver():
        before = len(smtp_inbox.messages)
        committed(run_tasks)
        run_tasks()
        return {m["To"]: m for m in smtp_inbox.messages[before:]}

    return deliver


@pytest.fixture
def case(proxy_ken, patient_hana, coordinator_sato, dr_tanaka):
    proxy_ken.language = "en"
    proxy_ken.save(update_fields=["language"])
    return factories.proxy_case(
        proxy_ken, patient_hana, coordinator=coordinator_sato, specialist=dr_tanaka
    )


@pytest.fixture
def offer(case, coordinator_sato, dr_tanaka, dr_kato, committed):
    return committed(
        lambda: offer_create(
            case_id=case.pk,
            actor=coordinator_sato,
            slots=[(dr_tanaka.pk, TUESDAY_14), (dr_kato.pk, THURSDAY_14)],
            hold_until=HOLD,
            message="ご都合のよい日をお選びください。",
        )
    )


@pytest.fixture
def booking(case, offer, proxy_ken, committed, deliver):
    deliver()  # the offer's mails
    booking = committed(
        lambda: booking_create(case_id=case.pk, actor=proxy_ken, offered_slot_id=held(offer)[0].pk)
    )
    deliver()  # the confirmation
    return booking


def body(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def assert_private(case, message) -> None:
    text = message["Subject"] + body(message)
    for private in (case.current_diagnosis, case.disease.name, case.disease.name_en, "心不全"):
        assert not private or private not in text


def test_the_offer_lists_the_dates_and_the_deadline_in_each_readers_language(case, offer, deliver):
    mails = deliver()

    assert sorted(mails) == [HANA, KEN]
    hana, ken = body(mails[HANA]), body(mails[KEN])
    assert "2026年12月1日(火) 14:00~14:30" in hana
    assert "2026年12月3日(木) 14:00~14:30" in hana
    assert "2026年11月30日(月) 17:00" in hana
    assert "Tuesday 1 December 2026, 14:00–14:30 (Japan time)" in ken
    assert "Thursday 3 December 2026, 14:00–14:30 (Japan time)" in ken
    assert "Monday 30 November 2026 17:00" in ken
    assert "ご都合のよい日をお選びください。" in ken
    assert f"/cases/{case.pk}/" in ken
    for message in mails.values():
        assert case.reference in message["Subject"]
        assert not list(message.iter_attachments())
        assert_private(case, message)


def test_a_patient_applying_alone_gets_one_mail(accepted, coordinator_sato, committed, deliver):
    slots = factories.free_slots(accepted, limit=2)
    committed(lambda: factories.offer(accepted, coordinator_sato, slots))

    assert sorted(deliver()) == [HANA]


def test_nobody_without_an_address_is_written_to(
    case, patient_hana, coordinator_sato, dr_tanaka, committed, deliver
):
    deliver()  # the mails of the case's own making, queued before Hana's address went
    patient_hana.email = ""
    patient_hana.save(update_fields=["email"])
    committed(
        lambda: offer_create(
            case_id=case.pk,
            actor=coordinator_sato,
            slots=[(dr_tanaka.pk, TUESDAY_14)],
            hold_until=HOLD,
        )
    )

    assert sorted(deliver()) == [KEN]


def test_a_change_by_the_patients_side_tells_the_coordinators(
    case, offer, booking, patient_hana, committed, deliver
):
    committed(
        lambda: booking_change(
            case_id=case.pk, actor=patient_hana, offered_slot_id=held(offer)[1].pk
        )
    )

    mails = deliver()
    assert sorted(mails) == [SATO, HANA, KEN]
    ken, sato = body(mails[KEN]), body(mails[SATO])
    assert "Before: Tuesday 1 December 2026, 14:00–14:30 (Japan time)" in ken
    assert "Now: Thursday 3 December 2026, 14:00–14:30 (Japan time)" in ken
    assert "2026年12月3日(木) 14:00~14:30" in body(mails[HANA])
    assert "2026年12月3日(木) 14:00~14:30" in sato  # the staff read Japanese
    assert reverse("staff-case", args=[case.pk]) in sato
    assert not list(mails[SATO].iter_attachments())
    for message in mails.values():
        assert_private(case, message)


def test_a_change_by_staff_tells_the_patients_side_only(
    case, offer, booking, coordinator_sato, dr_kato, committed, deliver
):
    committed(
        lambda: booking_change(
            case_id=case.pk,
            actor=coordinator_sato,
            slot=(dr_kato.pk, THURSDAY_14),
            reason="医師の都合",
        )
    )

    mails = deliver()
    assert sorted(mails) == [HANA, KEN]
    assert "The hospital has moved" in body(mails[KEN])


def test_a_cancellation_by_staff_gives_the_reason_and_removes_the_event(
    case, booking, coordinator_sato, committed, deliver
):
    committed(
        lambda: booking_cancel(case_id=case.pk, actor=coordinator_sato, reason="担当医の急病のため")
    )

    mails = deliver()
    assert sorted(mails) == [HANA, KEN]
    assert "担当医の急病のため" in body(mails[KEN])
    assert "The hospital has cancelled" in body(mails[KEN])
    assert "2026年12月1日(火) 14:00~14:30" in body(mails[HANA])
    [attachment] = list(mails[HANA].iter_attachments())
    assert "METHOD:CANCEL" in attachment.get_content()


def test_a_cancellation_by_the_patients_side_tells_the_coordinators(
    case, booking, proxy_ken, committed, deliver
):
    committed(lambda: booking_cancel(case_id=case.pk, actor=proxy_ken))

    mails = deliver()
    assert sorted(mails) == [SATO, HANA, KEN]
    assert "as you asked" in body(mails[KEN])
    assert case.reference in mails[SATO]["Subject"]


def test_a_60_minute_consult_is_an_hour_in_every_mail_and_calendar_file(
    proxy_ken, patient_hana, coordinator_sato, dr_tanaka, dr_kato, committed, deliver
):
    proxy_ken.language = "en"
    proxy_ken.save(update_fields=["language"])
    case = factories.proxy_case(
        proxy_ken, patient_hana, coordinator=coordinator_sato, specialist=dr_tanaka,
        planned_minutes=60,
    )  # fmt: skip
    offer = committed(
        lambda: offer_create(
            case_id=case.pk,
            actor=coordinator_sato,
            slots=[(dr_tanaka.pk, TUESDAY_14), (dr_kato.pk, THURSDAY_14)],
            hold_until=HOLD,
        )
    )

    offered = deliver()
    assert "Tuesday 1 December 2026, 14:00–15:00 (Japan time)" in body(offered[KEN])
    assert "2026年12月3日(木) 14:00~15:00" in body(offered[HANA])

    committed(
        lambda: booking_create(case_id=case.pk, actor=proxy_ken, offered_slot_id=held(offer)[0].pk)
    )
    booked = deliver()
    ken = body(booked[KEN])
    assert "Tuesday 1 December 2026, 14:00–15:00 (Japan time)" in ken
    assert "planned for 60 minutes" in ken
    assert "60分" in body(booked[HANA])
    [attachment] = list(booked[HANA].iter_attachments())
    [event] = icalendar.Calendar.from_ical(attachment.get_content()).walk("VEVENT")
    assert event.decoded("DTEND") - event.decoded("DTSTART") == timedelta(minutes=60)
