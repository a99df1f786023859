"""E-mails about dates and bookings, each to the applicant and the patient's own account.

The e-mails name the date, the time and how to join, never the illness or the department's
findings; a booking's mails carry its `.ics` file.
"""

from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from opiniondesk.accounts.models import User
from opiniondesk.cases.models import Case
from opiniondesk.cases.notifications import STAFF_LANGUAGE, _coordinator_emails
from opiniondesk.catalog.vocabulary import Mode
from opiniondesk.core.mail import queue_email
from opiniondesk.core.time import JST
from opiniondesk.scheduling.ics import CalendarEvent, calendar_file
from opiniondesk.scheduling.models import Booking, Offer, ReminderKind
from opiniondesk.scheduling.selectors import bookable_slots


def _recipients(case: Case) -> list[User]:
    people = [case.applicant]
    if case.patient_account is not None and case.patient_account_id != case.applicant_id:
        people.append(case.patient_account)
    return [person for person in people if person.email]


def _render(template: str, context: dict[str, object]) -> tuple[str, str]:
    context = {**context, "hospital": settings.HOSPITAL, "site_url": settings.SITE_URL}
    subject = render_to_string(f"scheduling/email/{template}_subject.txt", context).strip()
    body = render_to_string(f"scheduling/email/{template}.txt", context)
    return f"[{settings.HOSPITAL['name']}] {' '.join(subject.splitlines())}", body


def _to_patient_side(
    case: Case, template: str, context: dict[str, object], ics: bytes | None = None
) -> None:
    for person in _recipients(case):
        with translation.override(person.language or settings.LANGUAGE_CODE):
            subject, body = _render(template, {"case": case, **context})
        message = EmailMultiAlternatives(subject=subject, body=body, to=[person.email])
        if ics is not None:
            message.attach("second-opinion.ics", ics, "text/calendar")
        queue_email(message)


def _to_coordinators(case: Case, template: str, context: dict[str, object]) -> None:
    with translation.override(STAFF_LANGUAGE):
        emails = _coordinator_emails()
        if emails:
            subject, body = _render(template, {"case": case, **context})
            queue_email(EmailMultiAlternatives(subject=subject, body=body, to=emails))


def _case(case_id: int) -> Case:
    return Case.objects.select_related("applicant", "patient_account", "department").get(pk=case_id)


def calendar_event(booking: Booking, *, cancelled: bool = False) -> CalendarEvent:
    """The booking as a calendar event; in the hospital's language (Japanese) for everyone."""
    case = booking.case
    host = urlsplit(settings.SITE_URL).hostname or "opiniondesk"
    hospital = settings.HOSPITAL
    url = f"{settings.SITE_URL}{reverse('case-detail', args=[case.pk])}"
    with translation.override("ja"):
        online = booking.mode == Mode.ONLINE
        summary = (
            f"セカンドオピニオン外来 ({'オンライン' if online else '来院'}) {hospital['name']}"
        )
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
