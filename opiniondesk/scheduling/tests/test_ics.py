"""The `.ics` file of a booking (SPEC §5): read back with the icalendar library, as a calendar
application would. One UID per case; SEQUENCE grows with each change; a cancellation cancels."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
from django.conf import settings
from django.urls import reverse

from opiniondesk.core.time import JST
from opiniondesk.scheduling.ics import CalendarEvent, calendar_file
from opiniondesk.scheduling.models import Booking
from opiniondesk.scheduling.notifications import booking_ics
from opiniondesk.scheduling.services import booking_cancel, booking_change, booking_create
from opiniondesk.scheduling.tests import factories
from opiniondesk.scheduling.tests.factories import held

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=JST)
TUESDAY_14 = datetime(2026, 12, 1, 14, 0, tzinfo=JST)


@pytest.fixture(autouse=True)
def clock(time_machine):
    time_machine.move_to(NOW, tick=True)


def parse(data: bytes) -> tuple[icalendar.Calendar, icalendar.Event]:
    calendar = icalendar.Calendar.from_ical(data)
    [event] = calendar.walk("VEVENT")
    return calendar, event


def fresh(booking: Booking) -> Booking:
    """As the e-mail task sees it: read back from the database (times in UTC)."""
    return Booking.objects.get(pk=booking.pk)


@pytest.fixture
def offered(accepted, coordinator_sato):
    """Hana's online case, offered the first three free slots (Tuesday 14:00, 14:00, 14:30)."""
    slots = factories.free_slots(accepted, limit=3)
    offer = factories.offer(accepted, coordinator_sato, slots)
    return accepted, held(offer)


@pytest.fixture
def booking(offered, patient_hana):
    case, slots = offered
    return booking_create(case_id=case.pk, actor=patient_hana, offered_slot_id=slots[0].pk)


def test_the_file_of_a_booking(booking):
    calendar, event = parse(booking_ics(fresh(booking)))

    assert calendar["METHOD"] == "PUBLISH"
    assert calendar["VERSION"] == "2.0"
    start, end = event.decoded("DTSTART"), event.decoded("DTEND")
    assert start == booking.starts_at == TUESDAY_14
    assert end - start == timedelta(minutes=30)
    # written in Japan time, with the zone's definition in the file
    assert event["DTSTART"].params["TZID"] == "Asia/Tokyo"
    assert (start.hour, start.utcoffset()) == (14, timedelta(hours=9))
    [zone] = calendar.walk("VTIMEZONE")
    assert zone["TZID"] == "Asia/Tokyo"
    assert event.decoded("DTSTAMP").utcoffset() == timedelta(0)
    host = settings.SITE_URL.split("//")[1].split(":")[0].split("/")[0]
    assert str(event["UID"]) == f"case-{booking.case_id}@{host}"
    assert event["SEQUENCE"] == 0
    assert event["STATUS"] == "CONFIRMED"
    assert str(event["URL"]).endswith(reverse("case-detail", args=[booking.case_id]))
    assert "オンライン" in str(event["SUMMARY"])
    assert booking.case.reference in str(event["DESCRIPTION"])
    [alarm] = event.walk("VALARM")
    assert alarm.decoded("TRIGGER") == -timedelta(minutes=30)


def test_the_file_never_names_the_illness(booking):
    text = booking_ics(fresh(booking)).decode()
    unfolded = icalendar.Calendar.from_ical(text).to_ical().decode().replace("\r\n ", "")
    case = booking.case
    for private in (case.current_diagnosis, case.disease.name, case.treatment_so_far, "心不全"):
        assert private not in unfolded


def test_an_in_person_consult_gives_the_hospitals_address(
    patient_hana, coordinator_sato, dr_tanaka
):
    case = factories.accepted_case(
        patient_hana, coordinator=coordinator_sato, specialist=dr_tanaka, mode="in_person"
    )
    slot = factories.free_slots(case, limit=1)
    offer = factories.offer(case, coordinator_sato, slot)
    booking = booking_create(
        case_id=case.pk, actor=coordinator_sato, offered_slot_id=held(offer)[0].pk
    )

    _, event = parse(booking_ics(fresh(booking)))
    assert "来院" in str(event["SUMMARY"])
    assert settings.HOSPITAL["address"] in str(event["LOCATION"])


def test_the_uid_stays_and_the_sequence_grows_with_each_change(
    booking, offered, patient_hana, coordinator_sato
):
    case, slots = offered
    first_uid = str(parse(booking_ics(fresh(booking)))[1]["UID"])

    second = booking_change(case_id=case.pk, actor=patient_hana, offered_slot_id=slots[1].pk)
    third = booking_change(
        case_id=case.pk, actor=coordinator_sato, offered_slot_id=slots[2].pk, reason="医師の都合"
    )

    for number, moved in enumerate([second, third], start=1):
        calendar, event = parse(booking_ics(fresh(moved)))
        assert str(event["UID"]) == first_uid
        assert event["SEQUENCE"] == number
        assert event.decoded("DTSTART") == moved.starts_at
        assert calendar["METHOD"] == "PUBLISH"
    # the file of the first booking is unchanged by what came after
    assert parse(booking_ics(fresh(booking)))[1]["SEQUENCE"] == 0


def test_a_cancellation_cancels_the_same_event(booking, offered, patient_hana):
    case, slots = offered
    moved = booking_change(case_id=case.pk, actor=patient_hana, offered_slot_id=slots[1].pk)
    booking_cancel(case_id=case.pk, actor=patient_hana)

    cancelled = fresh(moved)
    calendar, event = parse(booking_ics(cancelled, cancelled=True))

    assert calendar["METHOD"] == "CANCEL"
    assert event["STATUS"] == "CANCELLED"
    assert str(event["UID"]) == str(parse(booking_ics(fresh(booking)))[1]["UID"])
    assert event["SEQUENCE"] == 2  # after 0 (booked) and 1 (moved)
    assert event.decoded("DTSTART") == moved.starts_at
    assert event.decoded("DTSTAMP") == cancelled.cancelled_at.replace(microsecond=0)
    assert event.walk("VALARM") == []
    assert str(event["ORGANIZER"]) == "mailto:second-opinion@hospital.example.jp"


def test_two_cases_have_two_uids(booking, proxy_ken, coordinator_sato, dr_tanaka):
    other = factories.booked_case(
        proxy_ken,
        coordinator=coordinator_sato,
        specialist=dr_tanaka,
        slot=factories.free_slots(booking.case, limit=1)[0],
    )

    uids = {str(parse(booking_ics(fresh(b)))[1]["UID"]) for b in (booking, other)}
    assert len(uids) == 2


def test_calendar_times_must_be_aware():
    naive = datetime(2026, 12, 1, 14, 0)
    event = CalendarEvent(
        uid="x@example", sequence=0, starts_at=naive, ends_at=naive + timedelta(minutes=30),
        summary="s", description="d", location="l",
    )  # fmt: skip
    with pytest.raises(ValueError):
        calendar_file(event)


@pytest.mark.parametrize("zone", [UTC, ZoneInfo("America/Los_Angeles"), JST])
def test_any_aware_time_is_written_as_the_same_instant(zone):
    start = TUESDAY_14.astimezone(zone)
    data = calendar_file(
        CalendarEvent(
            uid="x@example", sequence=3, starts_at=start, ends_at=start + timedelta(minutes=30),
            summary="s", description="d", location="l", stamp=NOW,
        )
    )  # fmt: skip

    _, event = parse(data)
    assert event.decoded("DTSTART") == TUESDAY_14
    assert event.decoded("DTSTAMP") == NOW
    assert event.decoded("DTSTAMP").utcoffset() == timedelta(0)
