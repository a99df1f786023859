"""Accepted cases, offers and bookings for the scheduling and readiness tests (and their browser
tests). The accepted case is written directly (opiniondesk.testing.builders); offers, bookings and
links go through the real services."""

from datetime import date, datetime, time, timedelta

from opiniondesk.accounts.models import User
from opiniondesk.cases.models import Case
from opiniondesk.cases.workflow import Status
from opiniondesk.catalog.closed_days import is_open
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
) -> Case:
    """An application sent, screened, referred to the department and accepted there."""
    return case_in(
        Status.ACCEPTED,
        applicant=applicant,
        coordinator=coordinator,
        specialist=specialist,
        mode=mode,
        department=department,
        disease=disease,
        relation=relation,
    )


def free_slots(case: Case, today: date | None = None, limit: int = 6) -> list[SlotView]:
    today = today or datetime.now(JST).date()
    return suggest_slots(department=case.department, today=today, limit=limit)


def hold_until_for(slots: list[SlotView]) -> datetime:
    """A hold that ends the evening before the first candidate's day... or today + 1 open day."""
    first_day = slots[0].starts_at.astimezone(JST).date()
    return datetime.combine(first_day - timedelta(days=1), time(18, 0), tzinfo=JST)


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
) -> Case:
    """A family member's accepted application, with the patient's own account linked if given."""
    case = accepted_case(
        applicant, coordinator=coordinator, specialist=specialist, mode=mode, relation="child"
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
) -> Booking:
    """An accepted case offered one slot, which the applicant books."""
    case = accepted_case(applicant, coordinator=coordinator, specialist=specialist, mode=mode)
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
    from opiniondesk.scheduling.models import ReminderSent

    def rows(queryset: object, *fields: str) -> list[tuple[object, ...]]:
        return list(queryset.order_by("pk").values_list("pk", *fields))  # type: ignore[attr-defined]

    return {
        "cases": rows(Case.objects, "status", "patient_account_id", "updated_at"),
        "offers": rows(Offer.objects, "released_at", "release_reason", "hold_until"),
        "held": rows(OfferedSlot.objects, "released_at"),
        "bookings": rows(Booking.objects, "starts_at", "specialist_id", "cancelled_at"),
        "reminders": rows(ReminderSent.objects),
        "transitions": rows(CaseTransition.objects),
        "audit": rows(AuditEvent.objects),
        "reviews": rows(IdentityReview.objects),
        "signatures": rows(ConsentSignature.objects),
        "device_checks": rows(DeviceCheck.objects),
        "invitations": rows(PatientInvitation.objects, "accepted_at", "revoked_at"),
        "tasks": rows(DBTaskResult.objects),
    }
