"""The billing desk (SPEC §8): the queue of charges needing action, a charge with its tries,
refunds, receipts and the billing clerk's actions, the totals of a period and the CSV file for
accounting. Only the billing clerk acts; a coordinator may read a charge."""

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from opiniondesk.accounts.models import Role
from opiniondesk.accounts.permissions import role_required
from opiniondesk.audit.services import audit_read
from opiniondesk.billing import reports, services
from opiniondesk.billing import staff_forms as bf
from opiniondesk.billing.errors import BillingError
from opiniondesk.billing.export import charges_export, cp932_missing
from opiniondesk.billing.models import (
    SETTLED_STATES,
    Charge,
    ChargeState,
    Refund,
    RefundState,
)
from opiniondesk.cases.access import case_for_request
from opiniondesk.cases.wording import STAFF_NOT_CHANGED
from opiniondesk.core.time import jst_today

PAGE_SIZE = 50
BILLING = Role.BILLING_CLERK
# Which actions a charge in each state offers (the services check again).
OFFERED: dict[str, tuple[str, ...]] = {
    ChargeState.NEEDS_DECISION: ("bill_zero", "waive"),
    ChargeState.PENDING: ("retry", "to_desk", "waive"),
    ChargeState.PROCESSING: ("retry",),
    ChargeState.REQUIRES_ACTION: ("to_desk", "collect", "waive"),
    ChargeState.FAILED: ("retry", "to_desk", "collect", "waive"),
    ChargeState.AT_DESK: ("collect", "waive"),
    ChargeState.PAID: ("refund",),
    ChargeState.COLLECTED: ("refund",),
    ChargeState.WAIVED: (),
}
FORMS: dict[str, type[forms.Form]] = {
    "retry": bf.PlainForm,
    "to_desk": bf.ReasonForm,
    "collect": bf.CollectForm,
    "waive": bf.ConfirmedReasonForm,
    "bill_zero": bf.ReasonForm,
    "refund": bf.RefundForm,
}


@never_cache
@role_required(BILLING)
def billing_home(request: HttpRequest) -> HttpResponse:
    """The queue: charges needing action first, then the rest; consults without a charge."""
    form = bf.QueueFilterForm(request.GET or None, today=jst_today())
    rows = reports.queue(
        now=timezone.now(), state=form.chosen_state(), period=form.period_or_none()
    )
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    missing = list(reports.missing_charges())
    audit_read(
        request,
        page="billing queue",
        cases=[charge.case_id for charge in page] + [case.pk for case in missing],
    )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "desk/billing/home.html",
        {"form": form, "page": page, "missing": missing, "page_query": query.urlencode()},
    )


def _charge_for(request: HttpRequest, charge_id: int) -> Charge:
    """The charge, if its case is this user's to see (404 and audited otherwise)."""
    case_id = Charge.objects.filter(pk=charge_id).values_list("case_id", flat=True).first()
    if case_id is None:
        raise Http404("no such charge")
    case = case_for_request(request, case_id, charge=charge_id)
    charge = Charge.objects.select_related("schedule", "card").get(pk=charge_id)
    charge.case = case
    return charge


@never_cache
@role_required(BILLING, Role.COORDINATOR)
def billing_charge(request: HttpRequest, charge_id: int) -> HttpResponse:
    return _charge_page(request, _charge_for(request, charge_id))


def _charge_page(
    request: HttpRequest, charge: Charge, bound: dict[str, forms.Form] | None = None
) -> HttpResponse:
    audit_read(request, charge.case, obj=charge, page="charge")
    can_act = request.user.role == BILLING
    actions: dict[str, forms.Form] = {}
    if can_act:
        for name in OFFERED[charge.state]:
            if name == "refund" and services.refundable(charge) <= 0:
                continue
            actions[name] = (bound or {}).get(name) or FORMS[name](auto_id=f"id_{name}_%s")
        # A form that was refused stays in view with the reason, even when the charge has
        # moved on and no longer offers it.
        actions |= bound or {}
    receipts = charge.receipts.select_related("corrects").order_by("number")
    return render(
        request,
        "desk/billing/charge.html",
        {
            "charge": charge,
            "case": charge.case,
            "can_act": can_act,
            "actions": actions,
            "review": _min_sec(charge.review_seconds),
            "call": _min_sec(charge.call_seconds),
            "attempts": charge.attempts.all(),
            "refunds": charge.refunds.select_related("made_by"),
            "refundable": services.refundable(charge),
            "receipts": receipts,
            "receipts_downloadable": _receipts_downloadable(),
            "settled": charge.state in SETTLED_STATES,
            "refund_sent": RefundState.SENT,
        },
        status=400 if bound else 200,
    )


def _min_sec(seconds: int) -> str:
    minutes, rest = divmod(seconds, 60)
    return f"{minutes}:{rest:02d}"


def _receipts_downloadable() -> bool:
    """Whether the staff receipt download exists in this build (another page provides it)."""
    try:
        reverse("staff-receipt", args=[1])
    except NoReverseMatch:
        return False
    return True


def _act(
    request: HttpRequest,
    charge_id: int,
    name: str,
    change: Callable[[dict[str, Any]], Any],
    done: str,
) -> HttpResponse:
    """Validate the action's form and call one service; a refusal changes nothing and is said
    next to the form, the page shown again."""
    charge = _charge_for(request, charge_id)
    form = FORMS[name](request.POST, auto_id=f"id_{name}_%s")
    if form.is_valid():
        try:
            change(form.cleaned_data)
        except BillingError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, done)
            return redirect("billing-charge", charge_id)
    messages.error(request, STAFF_NOT_CHANGED)
    charge.refresh_from_db()
    return _charge_page(request, charge, {name: form})


@role_required(BILLING)
@require_POST
def charge_retry(request: HttpRequest, charge_id: int) -> HttpResponse:
    return _act(
        request,
        charge_id,
        "retry",
        lambda data: services.charge_retry(
            charge_id=charge_id, actor=request.user, request=request
        ),
        _("The charge is sent to the card company again."),
    )


@role_required(BILLING)
@require_POST
def charge_to_desk(request: HttpRequest, charge_id: int) -> HttpResponse:
    return _act(
        request,
        charge_id,
        "to_desk",
        lambda data: services.to_desk(
            charge_id=charge_id, actor=request.user, reason=data["reason"], request=request
        ),
        _("The fee is now to be paid at the hospital."),
    )


@role_required(BILLING)
@require_POST
def charge_collect(request: HttpRequest, charge_id: int) -> HttpResponse:
    return _act(
        request,
        charge_id,
        "collect",
        lambda data: services.collect(
            charge_id=charge_id, actor=request.user, method=data["method"], request=request
        ),
        _("The payment is recorded and the receipt issued."),
    )


@role_required(BILLING)
@require_POST
def charge_waive(request: HttpRequest, charge_id: int) -> HttpResponse:
    return _act(
        request,
        charge_id,
        "waive",
        lambda data: services.waive(
            charge_id=charge_id, actor=request.user, reason=data["reason"], request=request
        ),
        _("The fee is waived."),
    )


@role_required(BILLING)
@require_POST
def charge_bill_zero(request: HttpRequest, charge_id: int) -> HttpResponse:
    return _act(
        request,
        charge_id,
        "bill_zero",
        lambda data: services.bill_zero_minutes(
            charge_id=charge_id, actor=request.user, reason=data["reason"], request=request
        ),
        _("The first tier's fee is charged."),
    )


@role_required(BILLING)
@require_POST
def charge_refund(request: HttpRequest, charge_id: int) -> HttpResponse:
    def change(data: dict[str, Any]) -> None:
        made = services.refund(
            charge_id=charge_id,
            actor=request.user,
            amount=data["amount"],
            reason=data["reason"],
            request=request,
        )
        if made.state == RefundState.FAILED:
            raise BillingError(made.message)

    return _act(request, charge_id, "refund", change, _("The refund is made."))


@role_required(BILLING)
@require_POST
def refund_resend(request: HttpRequest, charge_id: int, refund_id: int) -> HttpResponse:
    charge = _charge_for(request, charge_id)
    pending = Refund.objects.filter(pk=refund_id, charge=charge).first()
    if pending is None:
        raise Http404("no such refund")
    try:
        sent = services.refund_resend(refund_id=pending.pk, actor=request.user, request=request)
    except BillingError as exc:
        messages.error(request, str(exc.message))
    else:
        if sent.state == RefundState.DONE:
            messages.success(request, _("The refund is made."))
        else:
            messages.error(request, sent.message or _("The card company refused the refund."))
    return redirect("billing-charge", charge.pk)


@role_required(BILLING)
@require_POST
def open_missing(request: HttpRequest, case_id: int) -> HttpResponse:
    """Open the charge of a completed consult that has none, now that a fee table is in force."""
    case = case_for_request(request, case_id)
    try:
        charge = services.charge_open_missing(case_id=case.pk, actor=request.user, request=request)
    except BillingError as exc:
        messages.error(request, str(exc.message))
        return redirect("billing-home")
    messages.success(request, _("The charge is opened."))
    return redirect("billing-charge", charge.pk)


@never_cache
@role_required(BILLING)
def billing_totals(request: HttpRequest) -> HttpResponse:
    """Fees received in a period, per day, month and department; charges made, per state."""
    form = bf.PeriodForm(request.GET or None, today=jst_today())
    period = form.period()
    names = reports.charges(period=period).values_list(
        "case__patient_family_name", "case__patient_given_name", "case__department__name"
    )
    by_state = reports.counts_by_state(period)
    return render(
        request,
        "desk/billing/totals.html",
        {
            "form": form,
            "period": period,
            "totals": reports.totals(period),
            "by_day": reports.totals_by_day(period),
            "by_month": reports.totals_by_month(period),
            "by_department": reports.totals_by_department(period),
            "by_state": [
                (label, by_state[value])
                for value, label in ChargeState.choices
                if value in by_state
            ],
            "sjis_missing": cp932_missing(part or "" for row in names for part in row),
            "period_query": f"date_from={period.first:%Y-%m-%d}&date_to={period.last:%Y-%m-%d}",
        },
    )


@never_cache
@role_required(BILLING)
def billing_export(request: HttpRequest) -> HttpResponse:
    """The charges made in a period as CSV (UTF-8 with BOM; `?encoding=sjis` for Shift_JIS)."""
    form = bf.PeriodForm(request.GET or None, today=jst_today())
    if form.is_bound and not form.is_valid():
        messages.error(request, " ".join(form.non_field_errors()) or STAFF_NOT_CHANGED)
        return redirect("billing-totals")
    period = form.period()
    sjis = request.GET.get("encoding") == "sjis"
    rows = list(reports.charges(period=period).order_by("created_at", "pk"))
    export = charges_export(rows, encoding="shift_jis" if sjis else "utf-8-sig")
    audit_read(
        request,
        download=True,
        page="billing export",
        period=[period.first.isoformat(), period.last.isoformat()],
        encoding="shift_jis" if sjis else "utf-8",
        cases=[charge.case_id for charge in rows],
    )
    response = HttpResponse(
        export.data, content_type=f"text/csv; charset={'Shift_JIS' if sjis else 'utf-8'}"
    )
    name = (
        f"charges-{period.first:%Y-%m}"
        if period.whole_month
        else f"charges-{period.first:%Y-%m-%d}_{period.last:%Y-%m-%d}"
    )
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    response["X-Replaced-Characters"] = str(export.replaced)
    return response
