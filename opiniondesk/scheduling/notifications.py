"""E-mails about dates and bookings, each to the applicant and the patient's own account.

The e-mails name the date, the time and how to join, never the illness or the department's
findings; a booking's mails carry its `.ics` file.
"""

from urllib.parse import urlsplit

from django.conf import settings
from django.urls import reverse
from django.utils import translation

from opiniondesk.cases.models import Case
from opiniondesk.cases.notifications import STAFF_LANGUAGE, coordinator_emails, to_patient_side
from opiniondesk.catalog.vocabulary import Mode
from opiniondesk.core.mail import email_message, queue_email
from opiniondesk.core.time import JST
from opiniondesk.scheduling.ics import CalendarEvent, calendar_file
from opiniondesk.scheduling.models import Booking, Offer, ReminderKind
from opiniondesk.scheduling.selectors import bookable_slots


def _to_patient_side(
    case: Case, template: str, context: dict[str, object], ics: bytes | None = None
) -> None:
    to_patient_side(case, f"scheduling/email/{template}", context, ics)


def _to_coordinators(case: Case, template: str, context: dict[str, object]) -> None:
    with translation.override(STAFF_LANGUAGE):
        emails = coordinator_emails()
        if emails:
            queue_email(
                email_message(f"scheduling/email/{template}", {"case": case, **context}, emails)
            )


def _case(case_id: int) -> Case:
    return Case.objects.select_related("applicant", "patient_account", "department").get(pk=case_id)


def calendar_event(booking: Booking, *, cancelled: bool = False) -> CalendarEvent:
    """The booking as a calendar event, written in Japanese (the hospital's language) for everyone:
    the file is the same whoever downloads it."""
    case = booking.case
    host = urlsplit(settings.SITE_URL).hostname or "opiniondesk"
    hospital = settings.HOSPITAL
    url = f"{settings.SITE_URL}{reverse('case-detail', args=[case.pk])}"
    online = booking.mode == Mode.ONLINE
    summary = f"セカンドオピニオン外来 ({'オンライン' if online else '来院'}) {hospital['name']}"
    if online:
        description = (
            f"受付番号 {case.reference}\n開始5分前から、この予定のURLで待合室に入れます。\n"
            f"お問い合わせ: {hospital['phone']} (平日 {hospital['phone_hours']})"
        )
        location = "オンライン (ビデオ通話)"
    else:
        description = (
            f"受付番号 {case.reference}\n受付: {hospital['desk']}\n"
            f"お問い合わせ: {hospital['phone']} (平日 {hospital['phone_hours']})"
        )
        location = (
            f"{hospital['name']} {hospital['desk']} "
            f"〒{hospital['postal_code']} {hospital['address']}"
        )
    return CalendarEvent(
        uid=f"case-{case.pk}@{host}",
        sequence=Booking.objects.filter(case=case, pk__lte=booking.pk).count()
        - 1
        + (1 if cancelled else 0),
        # Japan time, so the file says TZID=Asia/Tokyo (times read from the database are UTC).
        starts_at=booking.starts_at.astimezone(JST),
        ends_at=booking.ends_at.astimezone(JST),
        summary=summary,
        description=description,
        location=location,
        url=url,
        organizer=(settings.DEFAULT_FROM_EMAIL, hospital["name"]),
        stamp=booking.cancelled_at if cancelled else booking.booked_at,
        cancelled=cancelled,
    )


def booking_ics(booking: Booking, *, cancelled: bool = False) -> bytes:
    return calendar_file(calendar_event(booking, cancelled=cancelled))


def offer_made(offer_id: int) -> None:
    offer = Offer.objects.select_related("case").get(pk=offer_id)
    case = _case(offer.case_id)
    _to_patient_side(
        case,
        "offer_made",
        {
            "offer": offer,
            "slots": bookable_slots(offer),
            "url": reverse("case-detail", args=[case.pk]),
        },
    )


def offer_expired(offer_id: int) -> None:
    offer = Offer.objects.get(pk=offer_id)
    case = _case(offer.case_id)
    _to_coordinators(
        case,
        "coordinator_offer_expired",
        {"offer": offer, "url": reverse("staff-case", args=[case.pk])},
    )
    _to_patient_side(
        case, "offer_expired", {"offer": offer, "url": reverse("case-detail", args=[case.pk])}
    )


def _booking(booking_id: int) -> Booking:
    booking = Booking.objects.select_related("specialist", "department").get(pk=booking_id)
    booking.case = _case(booking.case_id)
    return booking


def booking_reminder(booking_id: int, kind: ReminderKind) -> None:
    """The confirmation on booking, the day before and the hour before."""
    booking = _booking(booking_id)
    _to_patient_side(
        booking.case,
        f"booking_{kind.value}",
        {"booking": booking, "url": reverse("case-detail", args=[booking.case_id])},
        ics=booking_ics(booking),
    )


def booking_changed(booking_id: int, *, by_staff: bool) -> None:
    booking = _booking(booking_id)
    context = {
        "booking": booking,
        "previous": booking.replaces,
        "by_staff": by_staff,
        "url": reverse("case-detail", args=[booking.case_id]),
    }
    _to_patient_side(booking.case, "booking_changed", context, ics=booking_ics(booking))
    if not by_staff:
        _to_coordinators(
            booking.case,
            "coordinator_booking_changed",
            {**context, "url": reverse("staff-case", args=[booking.case_id])},
        )


def booking_cancelled(booking_id: int, *, by_staff: bool) -> None:
    booking = _booking(booking_id)
    context = {
        "booking": booking,
        "by_staff": by_staff,
        "url": reverse("case-detail", args=[booking.case_id]),
    }
    _to_patient_side(
        booking.case, "booking_cancelled", context, ics=booking_ics(booking, cancelled=True)
    )
    if not by_staff:
        _to_coordinators(
            booking.case,
            "coordinator_booking_cancelled",
            {**context, "url": reverse("staff-case", args=[booking.case_id])},
        )
