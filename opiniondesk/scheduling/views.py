"""The patient's side of scheduling: book an offered date, change or cancel it, the .ics file.

The applicant and the patient's own account act here. Every change goes through
`scheduling.services`, which also enforces the change deadline; the views refuse early too, so
nobody is offered a button that cannot work.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from opiniondesk.audit.services import audit_read
from opiniondesk.cases.access import patient_case_for_request
from opiniondesk.cases.models import Case
from opiniondesk.cases.workflow import BOOKED_STATES
from opiniondesk.scheduling import services
from opiniondesk.scheduling.forms import SlotForm
from opiniondesk.scheduling.models import Booking, OfferedSlot
from opiniondesk.scheduling.notifications import booking_ics
from opiniondesk.scheduling.selectors import choosable_slots, live_booking, open_offer
from opiniondesk.scheduling.slots import may_patient_change
from opiniondesk.scheduling.wording import slot_text

PAST_DEADLINE = gettext_lazy(
    "Changes and cancellations online end at 23:59 the day before the consult."
)
NOT_SHOWN = gettext_lazy("Please choose one of the dates shown.")


def _case_page(case: Case, anchor: str = "") -> str:
    return reverse("case-detail", args=[case.pk]) + (f"#{anchor}" if anchor else "")


@login_required
@require_POST
def case_book(request: HttpRequest, case_id: int) -> HttpResponse:
    case = patient_case_for_request(request, case_id)
    form = SlotForm(request.POST)
    if not form.is_valid():
        messages.error(request, NOT_SHOWN)
        return redirect(_case_page(case, "dates"))
    try:
        booking = services.booking_create(
            case_id=case.pk,
            actor=request.user,
            offered_slot_id=form.cleaned_data["slot"],
            request=request,
        )
    except services.SchedulingError as exc:
        # Lost a race, or the hold ended: the case page lists what is still held.
        messages.error(request, exc.message)
        return redirect(_case_page(case, "dates"))
    messages.success(
        request,
        _("Your consultation is booked: %(when)s.")
        % {"when": slot_text(booking.starts_at, booking.ends_at)},
    )
    return redirect(_case_page(case, "booking"))


def _changeable(request: HttpRequest, case_id: int) -> tuple[Case, Booking | None, str]:
    """The case and its live booking, or a reason (already told to the user) to go back."""
    case = patient_case_for_request(request, case_id)
    booking = live_booking(case.pk)
    if booking is None or case.status not in BOOKED_STATES:
        messages.info(request, _("This case has no booking to change."))
        return case, None, _case_page(case)
    if not may_patient_change(booking.starts_at, timezone.now()):
        messages.error(request, PAST_DEADLINE)
        return case, None, _case_page(case, "booking")
    return case, booking, ""


@login_required
@never_cache
def case_booking_change(request: HttpRequest, case_id: int) -> HttpResponse:
    """Step 1 lists the other held dates; step 2 confirms old → new; `confirm=1` moves it."""
    case, booking, back = _changeable(request, case_id)
    if booking is None:
        return redirect(back)
    slots = choosable_slots(open_offer(case.pk), now=timezone.now(), exclude=booking)
    if request.method == "POST":
        form = SlotForm(request.POST)
        chosen = next(
            (s for s in slots if form.is_valid() and s.pk == form.cleaned_data["slot"]), None
        )
        if chosen is None:
            messages.error(request, NOT_SHOWN)
        elif form.cleaned_data["confirm"]:
            return _change(request, case, chosen)
        else:
            audit_read(request, case, page="booking change: confirm")
            return render(
                request,
                "scheduling/booking_change_confirm.html",
                {"case": case, "booking": booking, "chosen": chosen},
            )
    audit_read(request, case, page="booking change")
    return render(
        request,
        "scheduling/booking_change.html",
        {"case": case, "booking": booking, "slots": slots},
    )


def _change(request: HttpRequest, case: Case, chosen: OfferedSlot) -> HttpResponse:
    try:
        booking = services.booking_change(
            case_id=case.pk, actor=request.user, offered_slot_id=chosen.pk, request=request
        )
    except services.PastDeadline as exc:
        messages.error(request, exc.message)
        return redirect(_case_page(case, "booking"))
    except services.SchedulingError as exc:
        messages.error(request, exc.message)
        return redirect("case-booking-change", case.pk)
    messages.success(
        request,
        _("Your booking was changed to %(when)s.")
        % {"when": slot_text(booking.starts_at, booking.ends_at)},
    )
    return redirect(_case_page(case, "booking"))


@login_required
@never_cache
def case_booking_cancel(request: HttpRequest, case_id: int) -> HttpResponse:
    """A confirmation page; only a POST with `confirm=1` cancels."""
    case, booking, back = _changeable(request, case_id)
    if booking is None:
        return redirect(back)
    if request.method == "POST" and request.POST.get("confirm") == "1":
        try:
            services.booking_cancel(
                case_id=case.pk,
                actor=request.user,
                reason=request.POST.get("reason", "").strip()[:500],
                request=request,
            )
        except services.SchedulingError as exc:
            messages.error(request, exc.message)
            return redirect(_case_page(case, "booking"))
        messages.success(request, _("Your booking was cancelled."))
        return redirect(_case_page(case))
    audit_read(request, case, page="booking cancel")
    return render(request, "scheduling/booking_cancel.html", {"case": case, "booking": booking})


@login_required
@require_safe
def case_booking_ics(request: HttpRequest, case_id: int) -> HttpResponse:
    """The live booking as a calendar file."""
    case = patient_case_for_request(request, case_id)
    booking = live_booking(case.pk)
    if booking is None:
        raise Http404("no live booking")
    booking.case = case
    audit_read(request, case, obj=booking, download=True, file="ics")
    response = HttpResponse(booking_ics(booking), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{case.reference}.ics"'
    response["Cache-Control"] = "private, no-store"
    return response
