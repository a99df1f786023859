"""Offering candidate dates, booking, changing and cancelling (SPEC §5).

A consult lasts the case's planned length (30 or 60 minutes): each candidate date and booking
claims all of its consecutive slots of one specialist (`HeldSlot`, `BookedSlot` rows), and gives
them all back when it is released, moved or cancelled.

Every function locks the case, then the rows of the specialists whose free slots it checks
(always in that order, so two of them never wait on each other), checks, writes, records the audit
event and schedules its e-mails after commit. The partial unique constraints of `models` stand
behind the locks: a second live hold or booking of any slot, or a second live booking of a case, is
refused by the database too.

Booking a date held for the case, or moving to one, takes no specialist lock: the case's live
hold already claims the slots for every check of another case or of the calendar
(`slots_claimed`, `availability`), and only a service holding the case's lock can release it. So
patients booking the same specialist's dates do not wait on each other.
"""

from collections.abc import Sequence
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from opiniondesk.accounts.models import Role, User
from opiniondesk.audit.models import AuditAction
from opiniondesk.audit.services import audit_record
from opiniondesk.cases.lifecycle import actor_of, case_lock, case_transition
from opiniondesk.cases.models import Case
from opiniondesk.cases.workflow import BOOKED_STATES, Actor, Status
from opiniondesk.catalog.selectors import desk_answers_at, patient_deadline, phone_desk_hours
from opiniondesk.catalog.vocabulary import Mode
from opiniondesk.core.time import JST
from opiniondesk.readiness.services import case_check_ready
from opiniondesk.scheduling import notifications, tasks
from opiniondesk.scheduling.models import (
    BookedSlot,
    Booking,
    CancelKind,
    HeldSlot,
    Offer,
    OfferedSlot,
    ReleaseReason,
)
from opiniondesk.scheduling.selectors import Fit, consult_fit, earliest_offer_day, slots_claimed
from opiniondesk.scheduling.slots import change_deadline, may_patient_change, slot_starts
from opiniondesk.scheduling.wording import slot_text


class SchedulingError(Exception):
    """A request the rules refuse; `message` is for the person who made it."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(str(message))


class SlotTaken(SchedulingError):
    """Someone else got the slot first (or it is no longer held for this case)."""


class PastDeadline(SchedulingError):
    """The patient may no longer change or cancel online: they are told to call."""


def _lock_specialists(ids: Sequence[int]) -> dict[int, User]:
    # FOR NO KEY UPDATE: the lock-takers queue, but the inserts of slots that merely refer to the
    # specialist (a booking of a held date) need not wait for it.
    rows = (
        User.objects.select_for_update(no_key=True).filter(pk__in=sorted(set(ids))).order_by("pk")
    )
    return {user.pk: user for user in rows}


def _require_coordinator(actor: User) -> None:
    if actor.role != Role.COORDINATOR:
        raise SchedulingError(_("Only the second-opinion coordinators can do this."))


def _is_patient_side(actor: User, case: Case) -> bool:
    return actor_of(actor, case) is Actor.APPLICANT


def _minutes(case: Case) -> int:
    """The consult's planned length, set when the case was accepted."""
    if case.planned_minutes is None:
        raise SchedulingError(
            _("The consult's length has not been set. Please ask the specialist.")
        )
    return case.planned_minutes


def _check_department_consult(
    case: Case, specialist: User | None, starts_at: datetime, *, not_a_slot: str
) -> None:
    """The whole consult lies in consecutive slots of a specialist of the case's department, as
    the calendar generates them; `not_a_slot` says what is wrong when no slot starts then."""
    minutes = _minutes(case)
    fit = Fit.NO_SLOT
    if (
        specialist is not None
        and specialist.role == Role.SPECIALIST
        and specialist.is_active  # as the calendar (`specialists_of`) shows them
        and specialist.departments.filter(pk=case.department_id).exists()
    ):
        fit = consult_fit(
            department=case.department, specialist=specialist, starts_at=starts_at, minutes=minutes
        )
    if fit is Fit.NO_SLOT:
        raise SchedulingError(not_a_slot)
    if fit is Fit.TOO_LONG:
        when = slot_text(starts_at, starts_at + timedelta(minutes=minutes))
        raise SchedulingError(
            _(
                "The consult takes %(minutes)s minutes; at %(when)s they do not fit in the "
                "specialist's consult hours. Please choose another date."
            )
            % {"minutes": minutes, "when": when}
        )


def _release_offer(offer: Offer, reason: ReleaseReason) -> None:
    now = timezone.now()
    offer.slots.filter(released_at__isnull=True).update(released_at=now)
    HeldSlot.objects.filter(offered_slot__offer=offer, released_at__isnull=True).update(
        released_at=now
    )
    offer.released_at, offer.release_reason = now, reason
    offer.save(update_fields=["released_at", "release_reason"])


def _overlapping(wanted: Sequence[tuple[int, datetime]], minutes: int) -> bool:
    slots = [(s, moment) for s, starts_at in wanted for moment in slot_starts(starts_at, minutes)]
    return len(set(slots)) < len(slots)


def _hold(offer: Offer, case: Case, wanted: Sequence[tuple[int, datetime]], minutes: int) -> None:
    """Each candidate date, and a held row for each of its slots."""
    offered = OfferedSlot.objects.bulk_create(
        OfferedSlot(
            offer=offer,
            specialist_id=specialist_id,
            department_id=case.department_id,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(minutes=minutes),
        )
        for specialist_id, starts_at in wanted
    )
    HeldSlot.objects.bulk_create(
        HeldSlot(offered_slot=candidate, specialist_id=candidate.specialist_id, starts_at=moment)
        for candidate in offered
        for moment in slot_starts(candidate.starts_at, minutes)
    )


def desk_closed_message(moment: datetime) -> str:
    """Why a hold cannot end at `moment`, with the moment it could end at instead (SPEC §5)."""
    hours = phone_desk_hours()
    return _(
        "The patient could not call us at that moment. Please end the hold on an open day "
        "between %(opens)s and %(closes)s, for example %(suggestion)s."
    ) % {
        "opens": f"{hours.opens:%H:%M}",
        "closes": f"{hours.closes:%H:%M}",
        "suggestion": f"{patient_deadline(moment).astimezone(JST):%Y-%m-%d %H:%M}",
    }


@transaction.atomic
def offer_create(
    *,
    case_id: int,
    actor: User,
    slots: Sequence[tuple[int, datetime]],
    hold_until: datetime,
    message: str = "",
    request: HttpRequest | None = None,
) -> Offer:
    """accepted → offered: hold the chosen dates for the case until `hold_until`.

    `slots` names each date's first slot; a date holds as many consecutive slots as the case's
    planned length. Offering again while the case is `offered` replaces the open round: its
    slots are released.
    """
    _require_coordinator(actor)
    case = case_lock(case_id)
    if case.status not in (Status.ACCEPTED, Status.OFFERED):
        raise SchedulingError(_("Dates can be offered only to an accepted case."))
    if case.department is None or not slots:
        raise SchedulingError(_("Choose at least one date to offer."))
    if case.mode == Mode.ONLINE and not case.department.offers_online:
        raise SchedulingError(_("This department does not offer online consults."))
    if case.mode == Mode.IN_PERSON and not case.department.offers_in_person:
        raise SchedulingError(_("This department does not offer in-person consults."))
    minutes = _minutes(case)
    wanted = sorted(set(slots), key=lambda s: (s[1], s[0]))
    if _overlapping(wanted, minutes):
        raise SchedulingError(
            _("Two of the chosen dates overlap. Each date needs the whole %(minutes)s minutes.")
            % {"minutes": minutes}
        )
    now = timezone.now()
    first_day = earliest_offer_day(now.astimezone(JST).date())
    specialists = _lock_specialists([specialist_id for specialist_id, __ in wanted])
    for specialist_id, starts_at in wanted:
        _check_department_consult(
            case,
            specialists.get(specialist_id),
            starts_at,
            not_a_slot=_("One of the chosen dates is not a consult slot of the case."),
        )
        if starts_at.astimezone(JST).date() < first_day:
            raise SchedulingError(
                _("Candidate dates must leave the patient time to book and prepare.")
            )
        if slots_claimed(specialist_id, slot_starts(starts_at, minutes), case_id=case.pk):
            raise SlotTaken(_("One of the chosen dates was just taken. Please choose again."))
    latest_deadline = change_deadline(wanted[-1][1])
    if hold_until <= now:
        raise SchedulingError(_("The hold must end in the future."))
    if hold_until > latest_deadline:
        raise SchedulingError(_("The hold must end by the day before the last candidate date."))
    # The patient must be able to call us about the dates until the hold ends (SPEC §5).
    if not desk_answers_at(hold_until):
        raise SchedulingError(desk_closed_message(hold_until))
    replaced = Offer.objects.filter(case=case, released_at__isnull=True).first()
    if replaced is not None:
        _release_offer(replaced, ReleaseReason.REPLACED)
    offer = Offer.objects.create(
        case=case, offered_by=actor, hold_until=hold_until, message=message
    )
    try:
        with transaction.atomic():
            _hold(offer, case, wanted, minutes)
    except IntegrityError as exc:
        raise SlotTaken(_("One of the chosen dates was just taken. Please choose again.")) from exc
    if case.status == Status.ACCEPTED:
        case_transition(
            case=case,
            to=Status.OFFERED,
            actor=actor,
            request=request,
            detail={"slots": [f"{s}@{t.isoformat()}" for s, t in wanted]},
        )
    audit_record(
        action=AuditAction.CREATE,
        user=actor,
        request=request,
        case_id=case.pk,
        obj=offer,
        detail={
            "slots": [f"{s}@{t.isoformat()}" for s, t in wanted],
            "minutes": minutes,
            "hold_until": hold_until.isoformat(),
            "replaces": replaced.pk if replaced else None,
        },
    )
    tasks.schedule_offer_expiry(offer)
    notifications.offer_made(offer.pk)
    return offer


@transaction.atomic
def offer_withdraw(
    *, case_id: int, actor: User, reason: str = "", request: HttpRequest | None = None
) -> Case:
    """offered → accepted: the coordinator takes the dates back (e.g. to offer others)."""
    _require_coordinator(actor)
    case = case_lock(case_id)
    offer = Offer.objects.filter(case=case, released_at__isnull=True).first()
    case_transition(case=case, to=Status.ACCEPTED, actor=actor, request=request, reason=reason)
    if offer is not None:
        _release_offer(offer, ReleaseReason.REPLACED)
    return case


@transaction.atomic
def offer_expire(*, offer_id: int) -> Offer | None:
    """The hold ran out: release the slots; an unbooked case goes back to `accepted`."""
    offer = Offer.objects.filter(pk=offer_id).first()
    if offer is None:
        return None
    case = case_lock(offer.case_id)
    offer = Offer.objects.select_for_update().get(pk=offer_id)
    if offer.released_at is not None or offer.hold_until > timezone.now():
        return None
    _release_offer(offer, ReleaseReason.EXPIRED)
    audit_record(
        action=AuditAction.UPDATE,
        case_id=case.pk,
        obj=offer,
        detail={"released": "hold expired"},
    )
    if case.status == Status.OFFERED:
        case_transition(case=case, to=Status.ACCEPTED, actor=None, reason="offer expired")
        notifications.offer_expired(offer.pk)
    return offer


def _held_slot(case: Case, offered_slot_id: int) -> OfferedSlot:
    slot = (
        OfferedSlot.objects.select_related("offer")
        .filter(pk=offered_slot_id, offer__case=case)
        .first()
    )
    if slot is None or slot.released_at is not None or slot.offer.released_at is not None:
        raise SlotTaken(_("That date is no longer held for you. Please choose another."))
    if slot.offer.hold_until <= timezone.now():
        raise SlotTaken(_("The time to choose these dates has passed. Please call us."))
    return slot


def _create_booking(*, case: Case, starts_at: datetime, **fields: object) -> Booking:
    """The booking of the case's whole consult from `starts_at`, and a row for each slot."""
    minutes = _minutes(case)
    try:
        with transaction.atomic():
            booking = Booking.objects.create(
                case=case,
                mode=case.mode,
                starts_at=starts_at,
                ends_at=starts_at + timedelta(minutes=minutes),
                **fields,
            )
            BookedSlot.objects.bulk_create(
                BookedSlot(booking=booking, specialist_id=booking.specialist_id, starts_at=moment)
                for moment in slot_starts(starts_at, minutes)
            )
            return booking
    except IntegrityError as exc:
        raise SlotTaken(
            _("Someone else booked that date a moment ago. Please choose another.")
        ) from exc


@transaction.atomic
def booking_create(
    *, case_id: int, actor: User, offered_slot_id: int, request: HttpRequest | None = None
) -> Booking:
    """offered → booked: the patient (or the coordinator for them) books an offered slot."""
    case = case_lock(case_id)
    patient_side = _is_patient_side(actor, case)
    if not patient_side and actor.role != Role.COORDINATOR:
        raise SchedulingError(_("You cannot book for this case."))
    if case.status != Status.OFFERED:
        if case.status in BOOKED_STATES:
            raise SlotTaken(_("This consult is already booked."))
        raise SchedulingError(_("There are no dates to book for this case."))
    slot = _held_slot(case, offered_slot_id)
    if patient_side and not may_patient_change(slot.starts_at, timezone.now()):
        raise PastDeadline(_("This date can no longer be booked online. Please call us."))
    if slot.starts_at <= timezone.now():  # staff keep no deadline, but cannot book the past
        raise SchedulingError(_("That date has passed."))
    # No specialist lock (see the module's docstring): the hold checked above is the claim.
    booking = _create_booking(
        case=case,
        starts_at=slot.starts_at,
        specialist_id=slot.specialist_id,
        department_id=slot.department_id,
        offered_slot=slot,
        booked_by=actor,
    )
    case_transition(
        case=case,
        to=Status.BOOKED,
        actor=actor,
        request=request,
        detail={"booking": booking.pk, "starts_at": booking.starts_at.isoformat()},
    )
    audit_record(
        action=AuditAction.CREATE,
        user=actor,
        request=request,
        case_id=case.pk,
        obj=booking,
        detail={
            "starts_at": booking.starts_at.isoformat(),
            "ends_at": booking.ends_at.isoformat(),
            "specialist": slot.specialist_id,
        },
    )
    _after_booking(case, booking)
    return booking


def _after_booking(case: Case, booking: Booking) -> None:
    case_check_ready(case=case)
    tasks.schedule_reminders(booking)


def _cancel(booking: Booking, *, actor: User | None, kind: CancelKind, reason: str) -> None:
    booking.cancelled_at = timezone.now()
    booking.cancelled_by, booking.cancel_kind, booking.cancel_reason = actor, kind, reason
    booking.save(update_fields=["cancelled_at", "cancelled_by", "cancel_kind", "cancel_reason"])
    booking.booked_slots.filter(released_at__isnull=True).update(released_at=booking.cancelled_at)


def _live_booking_locked(case: Case) -> Booking:
    booking = (
        Booking.objects.select_for_update().filter(case=case, cancelled_at__isnull=True).first()
    )
    if booking is None or case.status not in BOOKED_STATES:
        raise SchedulingError(_("This case has no booking to change."))
    return booking


def _check_patient_deadline(actor: User, case: Case, booking: Booking) -> bool:
    """True for the patient's side (who must keep the deadline), False for staff."""
    if _is_patient_side(actor, case):
        if not may_patient_change(booking.starts_at, timezone.now()):
            raise PastDeadline(
                _("Changes and cancellations online end at 23:59 the day before the consult.")
            )
        return True
    if actor.role != Role.COORDINATOR:
        raise SchedulingError(_("You cannot change this booking."))
    return False


@transaction.atomic
def booking_change(
    *,
    case_id: int,
    actor: User,
    offered_slot_id: int | None = None,
    slot: tuple[int, datetime] | None = None,
    reason: str = "",
    request: HttpRequest | None = None,
) -> Booking:
    """Move the live booking to another start; the status stays.

    The patient's side moves only to another date still held for the case, until the deadline;
    a coordinator may move to any start of the department where the whole consult fits in free
    slots (its own slots count as free), at any time, with a reason.
    """
    case = case_lock(case_id)
    old = _live_booking_locked(case)
    patient_side = _check_patient_deadline(actor, case, old)
    if patient_side:
        if offered_slot_id is None:
            raise SchedulingError(_("Choose one of the dates offered to you."))
        held = _held_slot(case, offered_slot_id)
        if not may_patient_change(held.starts_at, timezone.now()):
            raise PastDeadline(_("This date can no longer be booked online. Please call us."))
        specialist_id, starts_at, offered = held.specialist_id, held.starts_at, held
    else:
        if not reason.strip():
            raise SchedulingError(_("Give the reason for the change."))
        if offered_slot_id is not None:
            held = _held_slot(case, offered_slot_id)
            specialist_id, starts_at, offered = held.specialist_id, held.starts_at, held
        elif slot is not None:
            (specialist_id, starts_at), offered = slot, None
        else:
            raise SchedulingError(_("Choose the new date."))
    if (specialist_id, starts_at) == (old.specialist_id, old.starts_at):
        raise SchedulingError(_("That is the date already booked."))
    if offered is None:  # a free start: the only move that must lock the calendar
        specialists = _lock_specialists([specialist_id])
        _check_department_consult(
            case,
            specialists.get(specialist_id),
            starts_at,
            not_a_slot=_("That is not a consult slot of this department."),
        )
        if starts_at <= timezone.now():
            raise SchedulingError(_("That date has passed."))
        if slots_claimed(specialist_id, slot_starts(starts_at, _minutes(case)), case_id=case.pk):
            raise SlotTaken(_("That date is taken. Please choose another."))
    elif starts_at <= timezone.now():  # an offered date that has passed (staff only get here)
        raise SchedulingError(_("That date has passed."))
    _cancel(old, actor=actor, kind=CancelKind.CHANGED, reason=reason)  # its slots first
    new = _create_booking(
        case=case,
        starts_at=starts_at,
        specialist_id=specialist_id,
        department_id=case.department_id,
        offered_slot=offered,
        booked_by=actor,
        reason=reason,
        replaces=old,
    )
    audit_record(
        action=AuditAction.UPDATE,
        user=actor,
        request=request,
        case_id=case.pk,
        obj=new,
        detail={
            "changed_from": old.starts_at.isoformat(),
            "changed_to": new.starts_at.isoformat(),
            "ends_at": new.ends_at.isoformat(),
            "specialist": specialist_id,
            "reason": reason,
        },
    )
    notifications.booking_changed(new.pk, by_staff=not patient_side)
    tasks.schedule_reminders(new, confirm=False)
    return new


@transaction.atomic
def booking_cancel(
    *, case_id: int, actor: User, reason: str = "", request: HttpRequest | None = None
) -> Case:
    """booked/ready → cancelled: the booking's slots are released; staff give a reason."""
    case = case_lock(case_id)
    booking = _live_booking_locked(case)
    patient_side = _check_patient_deadline(actor, case, booking)
    if not patient_side and not reason.strip():
        raise SchedulingError(_("Give the reason for cancelling."))
    _cancel(booking, actor=actor, kind=CancelKind.CANCELLED, reason=reason)
    case_transition(
        case=case,
        to=Status.CANCELLED,
        actor=actor,
        request=request,
        reason=reason,
        detail={"booking": booking.pk, "starts_at": booking.starts_at.isoformat()},
    )
    offer = Offer.objects.filter(case=case, released_at__isnull=True).first()
    if offer is not None:
        _release_offer(offer, ReleaseReason.CASE_CLOSED)
    notifications.booking_cancelled(booking.pk, by_staff=not patient_side)
    return case


def release_for_closed_case(*, case: Case, actor: User | None) -> None:
    """A case that ends another way (withdrawn, no-show) gives back its holds and booking.

    Call inside the transaction that holds the case's row lock."""
    booking = (
        Booking.objects.select_for_update().filter(case=case, cancelled_at__isnull=True).first()
    )
    if booking is not None:
        _cancel(booking, actor=actor, kind=CancelKind.CASE_CLOSED, reason="")
    offer = Offer.objects.filter(case=case, released_at__isnull=True).first()
    if offer is not None:
        _release_offer(offer, ReleaseReason.CASE_CLOSED)
