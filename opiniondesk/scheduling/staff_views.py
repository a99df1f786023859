"""The coordinator's side of scheduling (SPEC §5): the case page's dates and booking, their
actions, and the calendar of a department's slots with the specialists' exceptions.

Views translate input and output; `services.py` and `availability.py` check and write.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import islice
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST, require_safe

from opiniondesk.accounts.models import Role, User
from opiniondesk.accounts.permissions import role_required
from opiniondesk.audit.models import AuditAction
from opiniondesk.audit.services import audit_record
from opiniondesk.cases.models import Case
from opiniondesk.cases.views import get_case
from opiniondesk.cases.wording import STAFF_CONFLICT, STAFF_NOT_CHANGED
from opiniondesk.cases.workflow import BOOKED_STATES, InvalidTransition, Status
from opiniondesk.catalog.closed_days import ClosedReason, Closure, closure
from opiniondesk.catalog.models import Department
from opiniondesk.catalog.selectors import year_end_closure
from opiniondesk.core.time import JST, jst_today
from opiniondesk.readiness.staff_views import identity_context
from opiniondesk.scheduling import availability, services
from opiniondesk.scheduling import staff_forms as sf
from opiniondesk.scheduling.models import Away, Booking, ExtraSession, Offer, OfferedSlot
from opiniondesk.scheduling.selectors import (
    SlotState,
    SlotView,
    bookable_slots,
    department_slots,
    earliest_offer_day,
    live_booking,
    open_offer,
    specialists_of,
    suggest_slots,
)
from opiniondesk.scheduling.slots import change_deadline, may_patient_change

OFFER_STATES = frozenset({Status.ACCEPTED, Status.OFFERED})
SUGGESTIONS = 12
CLOSED_REASONS = {
    ClosedReason.SATURDAY: gettext_lazy("Saturday"),
    ClosedReason.SUNDAY: gettext_lazy("Sunday"),
    ClosedReason.NATIONAL_HOLIDAY: gettext_lazy("National holiday"),
    ClosedReason.SUBSTITUTE_HOLIDAY: gettext_lazy("Substitute holiday"),
    ClosedReason.CITIZENS_HOLIDAY: gettext_lazy("Citizens' holiday"),
    ClosedReason.YEAR_END: gettext_lazy("Year-end holidays"),
}


# The case page.


def case_page_context(
    request: HttpRequest, case: Case, bound: dict[str, forms.Form]
) -> dict[str, Any]:
    """What the staff case page shows of dates, bookings and, for coordinators, the identity
    check. `bound` holds forms that failed, to show again with their errors."""
    booking = live_booking(case.pk)
    if request.user.role != Role.COORDINATOR:
        return {"booking": booking}
    history = list(
        Booking.objects.filter(case=case)
        .select_related("specialist", "booked_by", "cancelled_by")
        .order_by("booked_at", "pk")
    )
    context: dict[str, Any] = {"booking": booking, "booking_history": history}
    if case.department is not None and case.status in OFFER_STATES:
        context |= _offer_context(request, case, bound)
    if booking is not None and case.status in BOOKED_STATES:
        context |= _booking_context(request, case, booking, bound)
    context |= identity_context(case, bound)
    shown = case.status in OFFER_STATES | BOOKED_STATES or history
    context["scheduling_shown"] = bool(shown)
    context["scheduling_jump"] = [
        *([("scheduling", _("Dates and booking"))] if shown else []),
        *([("identity", _("Identity check"))] if context["identity_shown"] else []),
    ]
    return context


def slot_choices(
    case: Case, filters: tuple[User | None, date | None], *, for_offer: bool
) -> list[SlotView]:
    """Free slots of the case's department, earliest first. Candidate dates keep the lead time
    (`earliest_offer_day`); staff moving a booking may use any free slot still ahead."""
    specialist, start = filters
    today = jst_today()
    first = earliest_offer_day(today) if for_offer else today
    if for_offer and (start is None or start <= first):
        return suggest_slots(
            department=case.department, today=today, limit=SUGGESTIONS, specialist=specialist
        )
    now = timezone.now()
    free = (
        view
        for view in department_slots(
            department=case.department,
            start=max(start or first, first),
            end=today + timedelta(days=settings.SCHEDULING_HORIZON_DAYS),
            specialist=specialist,
        )
        if view.state is SlotState.FREE and view.starts_at > now
    )
    return list(islice(free, SUGGESTIONS))


def _filters(request: HttpRequest, case: Case) -> tuple[sf.SlotFilterForm, Any]:
    form = sf.SlotFilterForm(request.GET or None, department=case.department)
    return form, form.filters()


def _offer_context(
    request: HttpRequest, case: Case, bound: dict[str, forms.Form]
) -> dict[str, Any]:
    filter_form, filters = _filters(request, case)
    suggestions = slot_choices(case, filters, for_offer=True)
    offer = open_offer(case.pk)
    form = bound.get("offer") or sf.OfferForm(initial=_offer_initial(case, suggestions))
    context: dict[str, Any] = {
        "slot_filter": filter_form,
        "suggestions": suggestions,
        "offer_form": form,
        "checked": (form["slots"].value() or []) if form.is_bound else [],
        "offer": offer,
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


def _booking_context(
    request: HttpRequest, case: Case, booking: Booking, bound: dict[str, forms.Form]
) -> dict[str, Any]:
    filter_form, filters = _filters(request, case)
    seen = {"seen": booking.pk}
    change = bound.get("change") or sf.BookingChangeForm(initial=seen)
    return {
        "slot_filter": filter_form,
        "held_choices": [(f"{sf.HELD_PREFIX}{s.pk}", s) for s in _held_choices(case, booking)],
        "change_choices": slot_choices(case, filters, for_offer=False),
        "change_form": change,
        "change_target": change["target"].value() if change.is_bound else "",
        "cancel_form": bound.get("cancel") or sf.BookingCancelForm(initial=seen),
        "patient_deadline": change_deadline(booking.starts_at),
        "patient_deadline_passed": not may_patient_change(booking.starts_at, timezone.now()),
    }


@role_required(Role.COORDINATOR)
@require_safe
def case_slots(request: HttpRequest, case_id: int) -> HttpResponse:
    """The list of free dates alone, for htmx when the filters change."""
    case = get_case(request, case_id)
    booking = live_booking(case.pk)
    if case.department is not None and case.status in OFFER_STATES:
        context = _offer_context(request, case, {})
    elif booking is not None and case.status in BOOKED_STATES:
        context = _booking_context(request, case, booking, {})
    else:
        raise Http404
    context |= {"case": case, "booking": booking}
    context["oob"] = request.headers.get("HX-Request") == "true"
    response = render(request, "scheduling/staff/_slot_choices.html", context)
    page = reverse("staff-case", args=[case.pk])
    response["HX-Push-Url"] = f"{page}?{request.GET.urlencode()}" if request.GET else page
    return response


# The case page's actions.


class _Moved(Exception):
    """The case, its offer or its booking changed since the page was shown."""


def _locked_status(case: Case) -> str:
    return (
        Case.objects.select_for_update().filter(pk=case.pk).values_list("status", flat=True).get()
    )


def _open_offer_id(case: Case) -> int | None:
    _locked_status(case)
    return (
        Offer.objects.filter(case=case, released_at__isnull=True)
        .values_list("pk", flat=True)
        .first()
    )


def _live_booking_id(case: Case) -> int | None:
    _locked_status(case)
    return (
        Booking.objects.filter(case=case, cancelled_at__isnull=True)
        .values_list("pk", flat=True)
        .first()
    )


def _act(
    request: HttpRequest,
    case: Case,
    form: forms.Form,
    *,
    unchanged: Callable[[dict[str, Any]], bool],
    change: Callable[[dict[str, Any]], Any],
    done: str,
) -> HttpResponse:
    """Validate, check nothing moved meanwhile, call one service; any refusal changes nothing
    and is shown on the page."""
    if not form.is_valid():
        messages.error(request, STAFF_NOT_CHANGED)
        return _case_page_again(request, case, form)
    try:
        with transaction.atomic():
            if not unchanged(form.cleaned_data):
                raise _Moved
            change(form.cleaned_data)
    except (_Moved, InvalidTransition):
        messages.error(request, STAFF_CONFLICT)
        return redirect(_section_url(case))
    except services.SchedulingError as exc:
        form.add_error(None, exc.message)
        messages.error(request, _("Nothing was changed."))
        return _case_page_again(request, case, form)
    messages.success(request, done)
    return redirect(_section_url(case))


def _section_url(case: Case) -> str:
    return f"{reverse('staff-case', args=[case.pk])}#scheduling"


def _case_page_again(request: HttpRequest, case: Case, form: forms.Form) -> HttpResponse:
    from opiniondesk.cases.staff_views import _case_page  # it imports this module

    return _case_page(request, case, bound={form.key: form})  # type: ignore[attr-defined]


@role_required(Role.COORDINATOR)
@require_POST
def offer_create(request: HttpRequest, case_id: int) -> HttpResponse:
    case = get_case(request, case_id)
    return _act(
        request,
        case,
        sf.OfferForm(request.POST),
        unchanged=lambda data: _locked_status(case) == data["seen_status"],
        change=lambda data: services.offer_create(
            case_id=case.pk,
            actor=request.user,
            slots=data["slots"],
            hold_until=data["hold_until"],
            message=data["message"],
            request=request,
        ),
        done=_("The dates were offered; the patient has been told by e-mail."),
    )


@role_required(Role.COORDINATOR)
@require_POST
def offer_withdraw(request: HttpRequest, case_id: int) -> HttpResponse:
    case = get_case(request, case_id)
    return _act(
        request,
        case,
        sf.OfferWithdrawForm(request.POST),
        unchanged=lambda data: _open_offer_id(case) == data["seen"],
        change=lambda data: services.offer_withdraw(
            case_id=case.pk, actor=request.user, reason=data["withdraw_reason"], request=request
        ),
        done=_("The dates were taken back and are free again."),
    )


@role_required(Role.COORDINATOR)
@require_POST
def booking_change(request: HttpRequest, case_id: int) -> HttpResponse:
    case = get_case(request, case_id)
    return _act(
        request,
        case,
        sf.BookingChangeForm(request.POST),
        unchanged=lambda data: _live_booking_id(case) == data["seen"],
        change=lambda data: services.booking_change(
            case_id=case.pk,
            actor=request.user,
            reason=data["change_reason"],
            request=request,
            **data["target"],
        ),
        done=_("The booking was moved; the patient has been told by e-mail."),
    )


@role_required(Role.COORDINATOR)
@require_POST
def booking_cancel(request: HttpRequest, case_id: int) -> HttpResponse:
    case = get_case(request, case_id)
    return _act(
        request,
        case,
        sf.BookingCancelForm(request.POST),
        unchanged=lambda data: _live_booking_id(case) == data["seen"],
        change=lambda data: services.booking_cancel(
            case_id=case.pk, actor=request.user, reason=data["cancel_reason"], request=request
        ),
        done=_("The booking was cancelled; the patient has been told by e-mail."),
    )


# The calendar.


@dataclass(frozen=True)
class SlotEntry:
    slot: SlotView
    reference: str = ""  # the case's number, for coordinators only


@dataclass
class CalendarDay:
    day: date
    closure: Closure | None
    entries: list[SlotEntry] = field(default_factory=list)
    in_month: bool = True
    is_today: bool = False
    week_query: str = ""  # the query string of this day's week

    @property
    def closed_reason(self) -> str:
        if self.closure is None:
            return ""
        label = str(CLOSED_REASONS[self.closure.reason])
        return f"{label} ({self.closure.name})" if self.closure.name else label

    @property
    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(SlotState, 0)
        for entry in self.entries:
            counts[entry.slot.state] += 1
        return {str(state): n for state, n in counts.items()}


def _span(view: str, anchor: date) -> tuple[date, date]:
    """Monday to Sunday of the week, or of the whole weeks covering the month."""
    if view == sf.MONTH:
        first = anchor.replace(day=1)
        last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        return first - timedelta(days=first.weekday()), last + timedelta(days=6 - last.weekday())
    monday = anchor - timedelta(days=anchor.weekday())
    return monday, monday + timedelta(days=6)


def _steps(view: str, anchor: date) -> tuple[date, date]:
    if view == sf.MONTH:
        first = anchor.replace(day=1)
        previous = (first - timedelta(days=1)).replace(day=1)
        return previous, (first + timedelta(days=32)).replace(day=1)
    return anchor - timedelta(days=7), anchor + timedelta(days=7)


def _calendar_days(
    choice: dict[str, Any], slots: Iterable[SlotView], *, with_references: bool
) -> list[CalendarDay]:
    start, end = _span(choice["view"], choice["date"])
    today, year_end = jst_today(), year_end_closure()
    days = {}
    for offset in range((end - start).days + 1):
        day = start + timedelta(days=offset)
        days[day] = CalendarDay(
            day,
            closure(day, year_end=year_end),
            in_month=choice["view"] != sf.MONTH or day.month == choice["date"].month,
            is_today=day == today,
            week_query=_query(choice, view=sf.WEEK, date=day.isoformat()),
        )
    for slot in slots:
        reference = ""
        if with_references and slot.case_id is not None:
            reference = Case(pk=slot.case_id).reference
        days[slot.starts_at.astimezone(JST).date()].entries.append(SlotEntry(slot, reference))
    return list(days.values())


def _query(choice: dict[str, Any], **overrides: Any) -> str:
    params = {"department": choice["department"].code, "view": choice["view"]}
    if choice["specialist"] is not None:
        params["specialist"] = choice["specialist"].pk
    params |= {"date": choice["date"].isoformat()} | overrides
    return urlencode({key: value for key, value in params.items() if value is not None})


def _navigation(choice: dict[str, Any]) -> dict[str, str]:
    previous, following = _steps(choice["view"], choice["date"])
    return {
        "previous": _query(choice, date=previous.isoformat()),
        "next": _query(choice, date=following.isoformat()),
        "today": _query(choice, date=None),
        "week": _query(choice, view=sf.WEEK),
        "month": _query(choice, view=sf.MONTH),
    }


@role_required(Role.COORDINATOR, Role.ADMIN)
@require_safe
def schedule(request: HttpRequest) -> HttpResponse:
    """A department's slots by week or month: free, held or booked, and the closed days."""
    return _schedule_page(request, {})


def _schedule_page(request: HttpRequest, bound: dict[str, forms.Form]) -> HttpResponse:
    form = sf.CalendarForm(request.GET or None)
    choice = form.choices()
    department = choice["department"]
    if department is None:
        return render(request, "scheduling/staff/schedule.html", {"form": form})
    is_coordinator = request.user.role == Role.COORDINATOR
    start, end = _span(choice["view"], choice["date"])
    slots = department_slots(
        department=department, start=start, end=end, specialist=choice["specialist"]
    )
    days = _calendar_days(choice, slots, with_references=is_coordinator)
    shown = sorted({s.case_id for s in slots if s.case_id is not None}) if is_coordinator else []
    audit_record(
        action=AuditAction.READ,
        request=request,
        detail={"page": "staff schedule", "department": department.code, "cases": shown},
    )
    shown_form = sf.CalendarForm(initial=choice)  # what is shown, whatever was asked
    shown_form.fields["specialist"].queryset = specialists_of(department)
    context = {
        "form": shown_form,
        "choice": choice,
        "days": days,
        "weeks": [days[i : i + 7] for i in range(0, len(days), 7)],
        "nav": _navigation(choice),
        "is_coordinator": is_coordinator,
        "query": _query(choice),
    }
    if is_coordinator:
        context |= _exceptions_context(department, bound)
    return render(request, "scheduling/staff/schedule.html", context)


def _exceptions_context(department: Department, bound: dict[str, forms.Form]) -> dict[str, Any]:
    today = jst_today()
    people = specialists_of(department)
    return {
        "away_form": bound.get("away") or sf.AwayForm(),
        "extra_form": bound.get("extra") or sf.ExtraSessionForm(initial={"department": department}),
        "upcoming_away": Away.objects.filter(specialist__in=people, day__gte=today)
        .select_related("specialist")
        .order_by("day", "starts_at", "pk")[:50],
        "upcoming_extra": ExtraSession.objects.filter(department=department, day__gte=today)
        .select_related("specialist")
        .order_by("day", "starts_at", "pk")[:50],
    }


def _back_to_schedule(request: HttpRequest) -> HttpResponse:
    url = reverse("staff-schedule")
    return redirect(f"{url}?{request.GET.urlencode()}#exceptions" if request.GET else url)


def _exception_write(
    request: HttpRequest, form: forms.Form, write: Callable[[dict[str, Any]], Any], done: str
) -> HttpResponse:
    if not form.is_valid():
        messages.error(request, STAFF_NOT_CHANGED)
        return _schedule_page(request, {form.key: form})  # type: ignore[attr-defined]
    try:
        write(form.cleaned_data)
    except services.SchedulingError as exc:
        form.add_error(None, exc.message)
        messages.error(request, _("Nothing was changed."))
        return _schedule_page(request, {form.key: form})  # type: ignore[attr-defined]
    messages.success(request, done)
    return _back_to_schedule(request)


@role_required(Role.COORDINATOR)
@require_POST
def away_create(request: HttpRequest) -> HttpResponse:
    return _exception_write(
        request,
        sf.AwayForm(request.POST),
        lambda data: availability.away_create(actor=request.user, request=request, **data),
        _("The absence was saved; its slots are no longer offered."),
    )


@role_required(Role.COORDINATOR)
@require_POST
def extra_session_create(request: HttpRequest) -> HttpResponse:
    return _exception_write(
        request,
        sf.ExtraSessionForm(request.POST),
        lambda data: availability.extra_session_create(actor=request.user, request=request, **data),
        _("The extra session was saved; its slots are free to offer."),
    )


@role_required(Role.COORDINATOR)
@require_POST
def exception_delete(request: HttpRequest) -> HttpResponse:
    form = sf.ExceptionDeleteForm(request.POST)
    if not form.is_valid():
        raise Http404
    model = Away if form.cleaned_data["kind"] == sf.AWAY else ExtraSession
    exception = (
        model.objects.filter(pk=form.cleaned_data["pk"], day__gte=jst_today())
        .select_related("specialist")
        .first()
    )
    if exception is None:
        raise Http404
    try:
        availability.exception_delete(actor=request.user, exception=exception, request=request)
    except services.SchedulingError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Removed."))
    return _back_to_schedule(request)
