"""What the case pages show of dates and bookings: the patient's offered dates and booking,
and the coordinator's offer, move and cancel panels. Built from selectors; `desk` composes them
into the case pages, and `staff_views.case_slots` redraws the slot list alone for htmx."""

from datetime import date, timedelta
from itertools import islice
from typing import Any

from django import forms
from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone

from opiniondesk.accounts.models import Role, User
from opiniondesk.cases.lifecycle import actor_of
from opiniondesk.cases.models import Case
from opiniondesk.cases.workflow import BOOKED_STATES, OFFER_STATES, Actor, Status
from opiniondesk.core.time import JST, jst_today
from opiniondesk.scheduling import staff_forms as sf
from opiniondesk.scheduling.models import Booking, OfferedSlot
from opiniondesk.scheduling.selectors import (
    SlotView,
    bookable_slots,
    booking_history,
    choosable_slots,
    department_consults,
    earliest_offer_day,
    live_booking,
    open_offer,
    suggest_slots,
)
from opiniondesk.scheduling.slots import SLOT_MINUTES, change_deadline, may_patient_change

SUGGESTIONS = 12

# The patient's side.


def booking_panel(case: Case, user: User) -> dict[str, object]:
    """What the case page shows about dates: the offered slots, or the booking and its deadline."""
    now = timezone.now()
    panel: dict[str, object] = {
        "patient_side": actor_of(user, case) is Actor.APPLICANT,
        "minutes": case.planned_minutes,
    }
    if case.status == Status.OFFERED:
        offer = open_offer(case.pk)
        panel |= {"offer": offer, "offered_slots": choosable_slots(offer, now=now)}
    elif case.status in BOOKED_STATES:
        booking = live_booking(case.pk)
        if booking is not None:
            panel |= {
                "booking": booking,
                "change_deadline": change_deadline(booking.starts_at),
                "may_change": may_patient_change(booking.starts_at, now),
            }
    return panel


# The coordinator's side.


def staff_panel(request: HttpRequest, case: Case, bound: dict[str, forms.Form]) -> dict[str, Any]:
    """What the staff case page shows of dates and bookings: the coordinator offers, moves and
    cancels here. `bound` holds forms that failed, to show again with their errors."""
    if request.user.role != Role.COORDINATOR:
        return {"booking": live_booking(case.pk)}
    history = booking_history(case.pk)
    booking = next((b for b in history if b.is_live), None)  # one at most (a constraint)
    context: dict[str, Any] = {"booking": booking, "booking_history": history}
    if case.department is not None and case.status in OFFER_STATES:
        listed = _filtered(request) or "offer" in bound or case.status == Status.ACCEPTED
        context |= offer_panel(request, case, bound, list_slots=listed)
    if booking is not None and case.status in BOOKED_STATES:
        listed = _filtered(request) or "change" in bound
        context |= booking_change_panel(request, case, booking, bound, list_slots=listed)
    context["scheduling_shown"] = bool(case.status in OFFER_STATES | BOOKED_STATES or history)
    return context


def slot_choices(
    case: Case,
    filters: tuple[User | None, date | None],
    *,
    for_offer: bool,
    booking: Booking | None = None,
) -> list[SlotView]:
    """Where the case's whole consult fits in free slots of its department, earliest first.
    Candidate dates keep the lead time (`earliest_offer_day`); staff moving `booking` may use
    any start still ahead, the booking's own slots counting as free."""
    specialist, start = filters
    today = jst_today()
    minutes = case.planned_minutes or SLOT_MINUTES
    first = earliest_offer_day(today) if for_offer else today
    if for_offer and (start is None or start <= first):
        return suggest_slots(
            department=case.department,
            today=today,
            minutes=minutes,
            limit=SUGGESTIONS,
            specialist=specialist,
        )
    now = timezone.now()
    booked = (booking.specialist_id, booking.starts_at) if booking is not None else None
    free = (
        view
        for view in department_consults(
            department=case.department,
            start=max(start or first, first),
            end=today + timedelta(days=settings.SCHEDULING_HORIZON_DAYS),
            minutes=minutes,
            specialist=specialist,
            case_id=case.pk if booking is not None else None,
        )
        if view.starts_at > now and (view.specialist_id, view.starts_at) != booked
    )
    return list(islice(free, SUGGESTIONS))


def _filtered(request: HttpRequest) -> bool:
    """The free dates' filters were sent (their button, without JavaScript): list them."""
    return any(name in request.GET for name in sf.SlotFilterForm.base_fields)


def _filters(request: HttpRequest, case: Case) -> tuple[sf.SlotFilterForm, Any]:
    form = sf.SlotFilterForm(request.GET or None, department=case.department)
    return form, form.filters()


def offer_panel(
    request: HttpRequest, case: Case, bound: dict[str, forms.Form], *, list_slots: bool = True
) -> dict[str, Any]:
    """The candidate dates to offer (filtered by the query string) and the open offer. Without
    `list_slots` the free dates are not searched: the closed form loads them when opened."""
    filter_form, filters = _filters(request, case)
    suggestions = slot_choices(case, filters, for_offer=True) if list_slots else []
    offer = open_offer(case.pk)
    form = bound.get("offer") or sf.OfferForm(initial=_offer_initial(case, suggestions))
    context: dict[str, Any] = {
        "slot_filter": filter_form,
        "slots_deferred": not list_slots,
        "suggestions": suggestions,
        "offer_form": form,
        "checked": (form["slots"].value() or []) if form.is_bound else [],
        "offer": offer,
        "minutes": case.planned_minutes,
    }
    if offer is not None and case.status == Status.OFFERED:
        held = [s for s in offer.slots.all() if s.released_at is None]
        context["offered_slots"] = held
        # A new round may keep some of these dates: they are this case's to offer again.
        context["held_keys"] = [(_key_of(s), s) for s in held if s.starts_at > timezone.now()]
        context["withdraw_form"] = bound.get("offer_withdraw") or sf.OfferWithdrawForm(
            initial={"seen": offer.pk}
        )
    return context


def _key_of(slot: OfferedSlot) -> str:
    return f"{slot.specialist_id}@{slot.starts_at.astimezone(JST):%Y-%m-%dT%H:%M}"


def _offer_initial(case: Case, suggestions: list[SlotView]) -> dict[str, Any]:
    initial: dict[str, Any] = {"seen_status": case.status}
    if suggestions:
        initial["hold_until"] = sf.default_hold_until(
            suggestions[0].starts_at, settings.OFFER_HOLD_DAYS
        )
    return initial


def _held_choices(case: Case, booking: Booking) -> list[OfferedSlot]:
    """Dates still held for the case (minus the booked one) that can still be moved to."""
    offer = open_offer(case.pk)
    if offer is None or offer.hold_until <= timezone.now():
        return []
    now = timezone.now()
    return [s for s in bookable_slots(offer, exclude_booked=booking) if s.starts_at > now]


def booking_change_panel(
    request: HttpRequest,
    case: Case,
    booking: Booking,
    bound: dict[str, forms.Form],
    *,
    list_slots: bool = True,
) -> dict[str, Any]:
    """Where the coordinator may move the booking to, and the forms to move or cancel it.
    Without `list_slots` the free dates are not searched: the closed form loads them when
    opened."""
    filter_form, filters = _filters(request, case)
    seen = {"seen": booking.pk}
    change = bound.get("change") or sf.BookingChangeForm(initial=seen)
    return {
        "slot_filter": filter_form,
        "slots_deferred": not list_slots,
        "held_choices": (
            [(f"{sf.HELD_PREFIX}{s.pk}", s) for s in _held_choices(case, booking)]
            if list_slots
            else []
        ),
        "change_choices": (
            slot_choices(case, filters, for_offer=False, booking=booking) if list_slots else []
        ),
        "minutes": case.planned_minutes,
        "change_form": change,
        "change_target": change["target"].value() if change.is_bound else "",
        "cancel_form": bound.get("cancel") or sf.BookingCancelForm(initial=seen),
        "patient_deadline": change_deadline(booking.starts_at),
        "patient_deadline_passed": not may_patient_change(booking.starts_at, timezone.now()),
    }
