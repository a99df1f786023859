"""The patient's side: the dashboard of their cases and a case's page, composed from the
application (`cases`), the dates (`scheduling.panels`) and the steps before the consult
(`readiness.panels`); and withdrawing an application."""

from dataclasses import dataclass
from datetime import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, prefetch_related_objects
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from opiniondesk.accounts.models import Role, User
from opiniondesk.audit.services import audit_read
from opiniondesk.billing.models import Charge
from opiniondesk.billing.panels import patient_fee_panel
from opiniondesk.cases.access import case_for_request
from opiniondesk.cases.applications import missing_answers
from opiniondesk.cases.eligibility import Reason
from opiniondesk.cases.lifecycle import InvalidTransition, actor_of
from opiniondesk.cases.models import Case, DocumentRequest
from opiniondesk.cases.selectors import (
    case_verdict,
    cases_visible_to,
    documents_visible_to,
    open_document_request,
)
from opiniondesk.cases.workflow import (
    BEFORE_REFERRAL_STATES,
    BOOKED_STATES,
    PREPARATION_STATES,
    WITHDRAWABLE_STATES,
    Actor,
    Status,
)
from opiniondesk.consults.panels import patient_consult_panel, room_door
from opiniondesk.core.time import JST
from opiniondesk.desk import services
from opiniondesk.interop.models import Delivery, Wanted
from opiniondesk.interop.selectors import disclosures_of_case
from opiniondesk.opinions.panels import patient_opinion_panel
from opiniondesk.public.wording import REASONS
from opiniondesk.readiness.panels import checklist_rows, next_step
from opiniondesk.readiness.selectors import Snapshot, snapshots
from opiniondesk.scheduling.models import Booking, CancelKind, Offer
from opiniondesk.scheduling.panels import booking_panel
from opiniondesk.scheduling.selectors import live_bookings_by_case, open_offers_by_case
from opiniondesk.scheduling.wording import day_text, slot_text


@dataclass(frozen=True)
class NextThing:
    text: str
    url: str


@dataclass(frozen=True)
class CaseReads:
    """What `next_thing` reads of one case, read for all the dashboard's cases at once."""

    offer: Offer | None
    booking: Booking | None
    readiness: Snapshot | None  # only for cases being prepared


def case_reads(cases: list[Case]) -> dict[int, CaseReads]:
    """The offers, bookings and checklists of `cases` in a fixed number of queries."""
    ids = [case.pk for case in cases]
    offers, bookings = open_offers_by_case(ids), live_bookings_by_case(ids)
    preparing = [case for case in cases if case.status in PREPARATION_STATES]
    readiness = snapshots(preparing)
    return {
        case.pk: CaseReads(offers.get(case.pk), bookings.get(case.pk), readiness.get(case.pk))
        for case in cases
    }


def next_thing(case: Case, user: User, reads: CaseReads | None = None) -> NextThing | None:
    """The one next thing the dashboard shows for a case being prepared, or None."""
    reads = reads or case_reads([case])[case.pk]
    page = reverse("case-detail", args=[case.pk])
    offer = reads.offer
    if case.status == Status.OFFERED and offer is not None and offer.hold_until > timezone.now():
        text = _("Next: choose a date by %(time)s on %(day)s") % {
            "day": day_text(offer.hold_until),
            "time": f"{offer.hold_until.astimezone(JST):%H:%M}",
        }
        return NextThing(text, f"{page}#dates")
    door = room_door(case, reads.booking, timezone.now())
    if door.get("room_open"):
        return NextThing(_("Now: enter the waiting room"), door["room_url"])
    if case.status not in PREPARATION_STATES:
        return None
    todo = next_step(case, user, reads.readiness)
    if todo is not None:
        return NextThing(_("Next: %(action)s") % {"action": todo.action}, todo.url or page)
    booking = reads.booking if case.status in BOOKED_STATES else None
    if booking is not None:
        when = slot_text(booking.starts_at, booking.ends_at)
        return NextThing(_("Consultation: %(when)s") % {"when": when}, f"{page}#booking")
    return None


def _remember_language(request: HttpRequest) -> None:
    language = (get_language() or "ja")[:2]
    if request.user.language != language:
        request.user.language = language
        request.user.save(update_fields=["language"])


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """The applicant's cases, each in plain words with what happens next."""
    if request.user.role != Role.PATIENT:
        return redirect("staff-home")
    _remember_language(request)
    open_requests = DocumentRequest.objects.filter(fulfilled_at__isnull=True)
    cases = list(
        cases_visible_to(request.user)
        .select_related("department", "disease")
        .prefetch_related(
            Prefetch("transitions"),
            Prefetch("document_requests", queryset=open_requests, to_attr="open_requests"),
        )
    )
    audit_read(request, page="dashboard")
    reads = case_reads(cases)
    for case in cases:
        case.next_thing = next_thing(case, request.user, reads[case.pk])
    return render(request, "cases/dashboard.html", {"cases": cases})


@dataclass(frozen=True)
class Ending:
    """How a case ended before its consult, for the "what happens next" box (issue #16 #10)."""

    status: Status
    at: datetime
    by_hospital: bool
    reason: str  # the hospital's reason for cancelling, as the e-mail told the patient
    fee_charged: bool


def ending(case: Case) -> Ending | None:
    """None unless the booking was cancelled or the application withdrawn."""
    if case.status not in (Status.CANCELLED, Status.WITHDRAWN):
        return None
    last = case.transitions.filter(to_status=case.status).order_by("-at", "-pk").first()
    if last is None:
        return None
    by_hospital = last.actor_role != Actor.APPLICANT
    reason = ""
    if case.status == Status.CANCELLED and by_hospital:
        cancelled = Booking.objects.filter(case=case, cancel_kind=CancelKind.CANCELLED)
        booking = cancelled.order_by("-cancelled_at", "-pk").first()
        reason = booking.cancel_reason if booking is not None else ""
    charged = Charge.objects.filter(case=case).exists()
    return Ending(Status(case.status), last.at, by_hospital, reason, charged)


@login_required
def case_detail(request: HttpRequest, case_id: int) -> HttpResponse:
    case = case_for_request(request, case_id)
    audit_read(request, case, page="detail")
    prefetch_related_objects([case], "proxies")  # read by the verdict and by the page
    verdict = None
    if case.status != Status.DRAFT and not missing_answers(case):
        verdict = case_verdict(case)
    documents = documents_visible_to(request.user, case).select_related("proxy")
    # A rejected case is explained by the reasons the coordinator chose, not by today's rules;
    # once the hospital has decided otherwise, the rules are no longer quoted.
    reasons: list[Reason] = []
    if case.status == Status.REJECTED:
        reasons = [Reason(code) for code in case.rejection_reasons]
    elif verdict is not None and case.status in BEFORE_REFERRAL_STATES:
        reasons = list(verdict.reasons)
    preparing = case.status in PREPARATION_STATES
    disclosures = disclosures_of_case(case)
    booking = booking_panel(case, request.user)
    return render(
        request,
        "cases/detail.html",
        {
            **booking,
            **patient_consult_panel(case, timezone.now(), booking.get("booking")),
            **patient_fee_panel(case),
            **patient_opinion_panel(case),
            "readiness": checklist_rows(case, request.user) if preparing else [],
            "case": case,
            "verdict": verdict,
            "documents": documents,
            "transitions": case.transitions.all(),
            "proxies": case.proxies.all(),
            "can_withdraw": case.applicant_id == request.user.pk
            and case.status in WITHDRAWABLE_STATES,
            "reason_explanations": [REASONS[reason] for reason in reasons],
            "show_missing": case.status in BEFORE_REFERRAL_STATES,
            "open_request": open_document_request(case),
            # Disclosure requests (開示請求): the patient's side asks for the record here.
            "disclosures": disclosures,
            "can_ask_disclosure": case.status != Status.DRAFT
            and actor_of(request.user, case) is Actor.APPLICANT
            and not any(row.request.is_open for row in disclosures),
            "disclosure_wanted": Wanted.choices,
            "disclosure_deliveries": Delivery.choices,
            "ending": ending(case),
            # Only the patient's side applies online (cases.views.case_new).
            "can_apply_again": request.user.role == Role.PATIENT,
        },
    )


@login_required
@require_POST
def case_withdraw(request: HttpRequest, case_id: int) -> HttpResponse:
    """The applicant withdraws their application; held dates are given back."""
    case = case_for_request(request, case_id)
    if case.applicant_id != request.user.pk:
        raise PermissionDenied
    if request.POST.get("confirm") != "1":  # it cannot be undone online, and ends any booking
        messages.error(request, _("To withdraw, please tick the box that confirms it."))
        return redirect(reverse("case-detail", args=[case.pk]) + "#withdraw")
    try:
        services.case_withdraw(
            case_id=case.pk,
            actor=request.user,
            request=request,
            reason=request.POST.get("reason", "")[:500],
        )
    except InvalidTransition:
        messages.error(
            request, _("This application can no longer be withdrawn online. Please call us.")
        )
        return redirect("case-detail", case.pk)
    messages.success(request, _("The application was withdrawn."))
    return redirect(reverse("dashboard"))
