"""Accepted cases, offers and bookings for the scheduling and readiness tests (and their browser
tests). The accepted case is written directly (opiniondesk.testing.builders); offers, bookings and
links go through the real services."""

from datetime import date, datetime, time, timedelta

from opiniondesk.accounts.models import User
from opiniondesk.cases.models import Case
from opiniondesk.cases.workflow import Status
from opiniondesk.catalog.closed_days import is_open
from opiniondesk.catalog.desk_hours import last_desk_moment
from opiniondesk.core.time import JST
from opiniondesk.readiness.services import invitation_accept, invitation_create
from opiniondesk.scheduling.models import Booking, Offer, OfferedSlot
from opiniondesk.scheduling.selectors import SlotView, suggest_slots
from opiniondesk.scheduling.services import booking_create, offer_create
from opiniondesk.testing.builders import case_in


def accepted_case(
    applicant: User,
    *,
    coordinator: User,
    specialist: User,
    mode: str = "online",
    department: str = "cardiology",
    disease: str = "heart_failure",
    relation: str = "self",
    planned_minutes: int = 30,
) -> Case:
    """An application sent, screened, referred to the department and accepted there, for a
    consult of `planned_minutes`."""
    return case_in(
        Status.ACCEPTED,
        applicant=applicant,
        coordinator=coordinator,
        specialist=specialist,
        mode=mode,
        department=department,
        disease=disease,
        relation=relation,
        planned_minutes=planned_minutes,
    )


def free_slots(case: Case, today: date | None = None, limit: int = 6) -> list[SlotView]:
    """The earliest starts where the case's whole consult fits, as the coordinator sees them."""
    today = today or datetime.now(JST).date()
    return suggest_slots(
        department=case.department, today=today, minutes=case.planned_minutes, limit=limit
    )


def hold_until_for(slots: list[SlotView]) -> datetime:
    """The last moment the desk answers before the first candidate's day (SPEC §5)."""
    first_day = slots[0].starts_at.astimezone(JST).date()
    return last_desk_moment(datetime.combine(first_day - timedelta(days=1), time.max, tzinfo=JST))


def next_open(day: date) -> date:
    while not is_open(day):
        day += timedelta(days=1)
    return day


def slot_pairs(slots: list[SlotView]) -> list[tuple[int, datetime]]:
    return [(slot.specialist_id, slot.starts_at) for slot in slots]


def offer(
    case: Case, coordinator: User, slots: list[SlotView], hold_until: datetime | None = None
) -> Offer:
    """Candidate dates offered through the service (hold: the evening before the first)."""
    return offer_create(
        case_id=case.pk,
        actor=coordinator,
        slots=slot_pairs(slots),
        hold_until=hold_until or hold_until_for(slots),
    )


def held(offer: Offer) -> list[OfferedSlot]:
    """The slots of an offer, in time order."""
    return list(offer.slots.order_by("starts_at", "specialist_id"))


def link_patient(case: Case, applicant: User, patient: User) -> Case:
    """The patient accepts the applicant's invitation and links their own account."""
    token = invitation_create(case_id=case.pk, actor=applicant, email=patient.email)
    return invitation_accept(token=token, actor=patient)


def proxy_case(
    applicant: User,
    patient: User | None,
    *,
    coordinator: User,
    specialist: User,
    mode: str = "online",
    planned_minutes: int = 30,
) -> Case:
    """A family member's accepted application, with the patient's own account linked if given."""
    case = accepted_case(
        applicant,
        coordinator=coordinator,
        specialist=specialist,
        mode=mode,
        relation="child",
        planned_minutes=planned_minutes,
    )
    if patient is not None:
        case = link_patient(case, applicant, patient)
    return case


def booked_case(
    applicant: User,
    *,
    coordinator: User,
    specialist: User,
    slot: SlotView,
    mode: str = "online",
    planned_minutes: int = 30,
) -> Booking:
    """An accepted case offered one date, which the applicant books."""
    case = accepted_case(
        applicant,
        coordinator=coordinator,
        specialist=specialist,
        mode=mode,
        planned_minutes=planned_minutes,
    )
    [slot_held] = held(offer(case, coordinator, [slot]))
    return booking_create(case_id=case.pk, actor=applicant, offered_slot_id=slot_held.pk)


def snapshot() -> dict[str, object]:
    """What the scheduling and readiness services write: equal before and after a refusal."""
    from django_tasks_db.models import DBTaskResult

    from opiniondesk.audit.models import AuditEvent
    from opiniondesk.cases.models import CaseTransition
    from opiniondesk.readiness.models import (
        ConsentSignature,
        DeviceCheck,
        IdentityReview,
        PatientInvitation,
    )
    from opiniondesk.scheduling.models import BookedSlot, HeldSlot, ReminderSent

    def rows(queryset: object, *fields: str) -> list[tuple[object, ...]]:
        return list(queryset.order_by("pk").values_list("pk", *fields))  # type: ignore[attr-defined]

    return {
        "cases": rows(Case.objects, "status", "patient_account_id", "updated_at"),
        "offers": rows(Offer.objects, "released_at", "release_reason", "hold_until"),
        "held": rows(OfferedSlot.objects, "released_at"),
        "held_slots": rows(HeldSlot.objects, "starts_at", "released_at"),
        "bookings": rows(Booking.objects, "starts_at", "specialist_id", "cancelled_at"),
        "booked_slots": rows(BookedSlot.objects, "starts_at", "released_at"),
        "reminders": rows(ReminderSent.objects),
        "transitions": rows(CaseTransition.objects),
        "audit": rows(AuditEvent.objects),
        "reviews": rows(IdentityReview.objects),
        "signatures": rows(ConsentSignature.objects),
        "device_checks": rows(DeviceCheck.objects),
        "invitations": rows(PatientInvitation.objects, "accepted_at", "revoked_at"),
        "tasks": rows(DBTaskResult.objects),
    }


def slot_rows_match() -> None:
    """Every candidate date and booking has a row for each of its slots, live exactly while it
    is: the database's per-slot constraints see what the services promise."""
    from opiniondesk.scheduling.slots import slot_starts

    for offered in OfferedSlot.objects.prefetch_related("held_slots"):
        rows = sorted(
            (r.specialist_id, r.starts_at, r.released_at) for r in offered.held_slots.all()
        )
        assert rows == [
            (offered.specialist_id, moment, offered.released_at)
            for moment in slot_starts(offered.starts_at, offered.minutes)
        ], offered
    for booking in Booking.objects.prefetch_related("booked_slots"):
        rows = sorted(
            (r.specialist_id, r.starts_at, r.released_at) for r in booking.booked_slots.all()
        )
        assert rows == [
            (booking.specialist_id, moment, booking.cancelled_at)
            for moment in slot_starts(booking.starts_at, booking.minutes)
        ], booking
