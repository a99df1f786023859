"""The coordinator's side of scheduling (SPEC §5): the calendar of a department's slots with the
specialists' exceptions, and the case page's list of free dates redrawn for htmx (the case page
and its actions are composed in `desk`; this app's part of it is `panels`).

Views translate input and output; `services.py` and `availability.py` check and write.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from opiniondesk.accounts.models import Role
from opiniondesk.accounts.permissions import role_required
from opiniondesk.audit.services import audit_read
from opiniondesk.cases.access import case_for_request
from opiniondesk.cases.models import Case
from opiniondesk.cases.wording import STAFF_NOT_CHANGED
from opiniondesk.cases.workflow import BOOKED_STATES, OFFER_STATES
from opiniondesk.catalog.closed_days import ClosedReason, Closure, closure, holiday_name
from opiniondesk.catalog.models import Department
from opiniondesk.catalog.selectors import year_end_closure
from opiniondesk.core.time import JST, jst_today
from opiniondesk.scheduling import availability, panels, services
from opiniondesk.scheduling import staff_forms as sf
from opiniondesk.scheduling.models import Away, ExtraSession
from opiniondesk.scheduling.selectors import (
    SlotState,
    SlotView,
    department_slots,
    live_booking,
    specialists_of,
)

CLOSED_REASONS = {
    ClosedReason.SATURDAY: gettext_lazy("Saturday"),
    ClosedReason.SUNDAY: gettext_lazy("Sunday"),
    ClosedReason.NATIONAL_HOLIDAY: gettext_lazy("National holiday"),
    ClosedReason.SUBSTITUTE_HOLIDAY: gettext_lazy("Substitute holiday"),
    ClosedReason.CITIZENS_HOLIDAY: gettext_lazy("Citizens' holiday"),
    ClosedReason.YEAR_END: gettext_lazy("Year-end holidays"),
}


# The case page's list of free dates.


@role_required(Role.COORDINATOR)
@require_safe
def case_slots(request: HttpRequest, case_id: int) -> HttpResponse:
    """The list of free dates alone, for htmx when the filters change."""
    case = case_for_request(request, case_id)
    booking = live_booking(case.pk)
    if case.department is not None and case.status in OFFER_STATES:
        context = panels.offer_panel(request, case, {})
    elif booking is not None and case.status in BOOKED_STATES:
        context = panels.booking_change_panel(request, case, booking, {})
    else:
        raise Http404
    context |= {"case": case, "booking": booking}
    context["oob"] = request.headers.get("HX-Request") == "true"
    response = render(request, "scheduling/staff/_slot_choices.html", context)
    page = reverse("staff-case", args=[case.pk])
    response["HX-Push-Url"] = f"{page}?{request.GET.urlencode()}" if request.GET else page
    return response


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
        if self.closure.reason is not ClosedReason.NATIONAL_HOLIDAY:
            return label  # a substitute or citizens' holiday is named by its label
        # Closure.name is Japanese; an English page names the holiday in English.
        name = holiday_name(self.day, get_language() or "ja")
        # Japanese puts the name in full-width brackets: 祝日（元日）.
        return _("%(label)s (%(name)s)") % {"label": label, "name": name}

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
    audit_read(request, page="staff schedule", department=department.code, cases=shown)
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
