"""The coordinator's and the specialist's case page and its actions.

The page is composed from each domain's panel (`cases.panels`, `scheduling.panels`,
`readiness.panels`); every action validates its form and calls one service through `act`.
"""

from typing import Any

from django import forms
from django.db.models import prefetch_related_objects
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from opiniondesk.accounts.models import Role
from opiniondesk.accounts.permissions import role_required
from opiniondesk.audit.services import audit_read
from opiniondesk.billing.models import Charge
from opiniondesk.cases import panels as case_panels
from opiniondesk.cases import screening, staff_forms
from opiniondesk.cases.access import case_for_request
from opiniondesk.cases.models import Case
from opiniondesk.cases.selectors import documents_visible_to
from opiniondesk.cases.workflow import OPEN_STATES
from opiniondesk.consults import panels as consult_panels
from opiniondesk.consults import services as consults
from opiniondesk.consults.errors import ConsultError
from opiniondesk.consults.forms import ReviewCorrectForm
from opiniondesk.consults.models import ReviewSession
from opiniondesk.core.converters import MAX_ID
from opiniondesk.desk import corrections, services
from opiniondesk.desk.acting import Data, act, locked_status, status_unchanged
from opiniondesk.opinions import panels as opinion_panels
from opiniondesk.readiness import panels as readiness_panels
from opiniondesk.readiness.selectors import id_documents
from opiniondesk.readiness.services import identity_review
from opiniondesk.readiness.staff_forms import VERIFY, IdentityReviewForm
from opiniondesk.referrals.selectors import is_paper_case
from opiniondesk.scheduling import panels as scheduling_panels
from opiniondesk.scheduling import services as scheduling
from opiniondesk.scheduling import staff_forms as sf
from opiniondesk.scheduling.selectors import live_booking_id, open_offer_id

STAFF = (Role.COORDINATOR, Role.SPECIALIST)


@role_required(*STAFF)
def case_page(request: HttpRequest, case_id: int) -> HttpResponse:
    return staff_case_page(request, case_for_request(request, case_id))


def staff_case_page(
    request: HttpRequest, case: Case, bound: dict[str, forms.Form] | None = None
) -> HttpResponse:
    """The case page of the signed-in coordinator or specialist; `bound` holds a form that
    failed, shown again with its errors."""
    bound = bound or {}
    audit_read(request, case, page="staff case")
    # Read once here: the eligibility, its checklist and the page each look at them.
    prefetch_related_objects([case], "documents", "proxies")
    documents = documents_visible_to(request.user, case).select_related("proxy", "superseded_by")
    context = {"case": case, "documents": documents, "proxies": case.proxies.all()}
    context |= scheduling_panels.staff_panel(request, case, bound)
    context |= consult_panels.review_panel(case, request.user, bound)
    context |= consult_panels.staff_consult_panel(
        case, request.user, timezone.now(), context["booking"]
    )
    context |= opinion_panels.staff_opinion_panel(case, request.user)
    context |= corrections.panel(case, request.user, bound)
    if request.user.role == Role.COORDINATOR:
        context |= readiness_panels.identity_panel(case, bound)
        context |= case_panels.coordinator_panel(case, bound)
        context["charge"] = Charge.objects.filter(case=case).first()
        # An eReferral file fills the blanks of an open case (referrals.views).
        context["referral_importable"] = case.status in OPEN_STATES
        # A case opened from a referral letter, still the hospital's: its paper application.
        context["paper_case"] = is_paper_case(case)
        context["jump"] = [
            ("eligibility", _("Eligibility")),
            ("actions", _("Actions")),
            *([("scheduling", _("Dates and booking"))] if context["scheduling_shown"] else []),
            *([("identity", _("Identity check"))] if context["identity_shown"] else []),
            *([("consult", _("The consult"))] if context["consult_shown"] else []),
            *([("charge", _("Fee"))] if context["charge"] else []),
            *([("opinion", _("Opinion"))] if context["opinion_shown"] else []),
            ("calls", _("Phone calls")),
            ("documents", _("Documents")),
            ("application", _("Application")),
            ("corrections", _("Corrections")),
        ]
        return render(request, "cases/staff/case_coordinator.html", context)
    context |= case_panels.specialist_panel(case, request.user, bound)
    context["jump"] = [
        ("decision", _("Decision")),
        *([("review", _("Review time"))] if context["review_shown"] else []),
        *([("consult", _("The consult"))] if context["consult_shown"] else []),
        *([("opinion", _("Opinion"))] if context["opinion_shown"] else []),
        ("documents", _("Documents")),
        ("application", _("Application")),
        ("corrections", _("Corrections")),
    ]
    return render(request, "cases/staff/case_specialist.html", context)


def _act(
    request: HttpRequest, case_id: int, make_form: Any, *, anchor: str = "", **how: Any
) -> HttpResponse:
    """Find the case (404 and audited if not this user's), then run the action on it."""
    case = case_for_request(request, case_id)
    return act(
        request,
        case,
        make_form(case),
        redraw=lambda bound: staff_case_page(request, case, bound),
        anchor=anchor,
        **how,
    )


# Screening and the department's decision (cases.screening).


@role_required(Role.COORDINATOR)
@require_POST
def case_screen(request: HttpRequest, case_id: int) -> HttpResponse:
    return _act(
        request,
        case_id,
        lambda case: staff_forms.CaseActionForm(request.POST),
        unchanged=status_unchanged,
        change=lambda data: screening.case_start_screening(
            case_id=case_id, actor=request.user, request=request
        ),
        done=_("Screening started."),
    )


@role_required(Role.COORDINATOR)
@require_POST
def case_request_documents(request: HttpRequest, case_id: int) -> HttpResponse:
    return _act(
        request,
        case_id,
        lambda case: staff_forms.RequestDocumentsForm(request.POST),
        unchanged=status_unchanged,
        change=lambda data: screening.case_request_documents(
            case_id=case_id,
            actor=request.user,
            items=data["items"],
            message=data["message"],
            due_date=data["due_date"],
            request=request,
        ),
        done=_("The request was sent to the applicant."),
    )


@role_required(Role.COORDINATOR)
@require_POST
def case_phone_log(request: HttpRequest, case_id: int) -> HttpResponse:
    return _act(
        request,
        case_id,
        lambda case: staff_forms.PhoneLogForm(request.POST),
        change=lambda data: screening.phone_log_create(
            case_id=case_id,
            actor=request.user,
            called_at=data["called_at"],
            number=data["number"],
            outcome=data["outcome"],
            notes=data["notes"],
            request=request,
        ),
        done=_("The call was recorded."),
    )


@role_required(Role.COORDINATOR)
@require_POST
def case_reject(request: HttpRequest, case_id: int) -> HttpResponse:
    return _act(
        request,
        case_id,
        lambda case: staff_forms.RejectForm(request.POST),
        unchanged=status_unchanged,
        change=lambda data: screening.case_reject(
            case_id=case_id,
            actor=request.user,
            reasons=data["reasons"],
            note=data["note"],
            request=request,
        ),
        done=_("The application was rejected; the applicant has been told."),
    )


@role_required(Role.COORDINATOR)
@require_POST
def case_refer(request: HttpRequest, case_id: int) -> HttpResponse:
    return _act(
        request,
        case_id,
        lambda case: staff_forms.ReferForm(request.POST, mode=case.mode),
        unchanged=status_unchanged,
        change=lambda data: screening.case_refer(
            case_id=case_id,
            actor=request.user,
            department=data["department"],
            disease=data["disease"],
            request=request,
        ),
        done=_("The case was referred; the department's specialists have been told."),
    )


@role_required(Role.COORDINATOR)
@require_POST
def case_withdraw(request: HttpRequest, case_id: int) -> HttpResponse:
    return _act(
        request,
        case_id,
        lambda case: staff_forms.WithdrawForm(request.POST),
        unchanged=status_unchanged,
        change=lambda data: services.case_withdraw(
            case_id=case_id, actor=request.user, reason=data["reason"], request=request
        ),
        done=_("The application was withdrawn."),
    )


@role_required(Role.SPECIALIST)
@require_POST
def case_accept(request: HttpRequest, case_id: int) -> HttpResponse:
    return _act(
        request,
        case_id,
        lambda case: staff_forms.AcceptForm(request.POST),
        unchanged=status_unchanged,
        change=lambda data: screening.case_accept(
            case_id=case_id,
            actor=request.user,
            planned_minutes=data["planned_minutes"],
            request=request,
        ),
        done=_("You accepted the case; the coordinators will offer dates."),
    )


@role_required(Role.SPECIALIST)
@require_POST
def case_decline(request: HttpRequest, case_id: int) -> HttpResponse:
    return _act(
        request,
        case_id,
        lambda case: staff_forms.DeclineForm(request.POST),
        unchanged=status_unchanged,
        change=lambda data: screening.case_decline(
            case_id=case_id, actor=request.user, reason=data["reason"], request=request
        ),
        done=_("You declined the case; the applicant has been told."),
    )


# The review of the materials and the consult (consults.services).


class _Button(forms.Form):
    """An action without fields: a button on the page."""

    key = "button"


@role_required(Role.SPECIALIST)
@require_POST
def review_start(request: HttpRequest, case_id: int) -> HttpResponse:
    return _act(
        request,
        case_id,
        lambda case: _Button(request.POST),
        anchor="review",
        change=lambda data: consults.review_start(
            case_id=case_id, actor=request.user, request=request
        ),
        done=_("The review time is running. Stop it when you are done."),
    )


@role_required(Role.SPECIALIST)
@require_POST
def review_stop(request: HttpRequest, case_id: int) -> HttpResponse:
    return _act(
        request,
        case_id,
        lambda case: _Button(request.POST),
        anchor="review",
        change=lambda data: consults.review_stop(
            case_id=case_id, actor=request.user, request=request
        ),
        done=_("The review time was stopped and saved."),
    )


@role_required(Role.SPECIALIST)
@require_POST
def review_correct(request: HttpRequest, case_id: int) -> HttpResponse:
    def form(case: Case) -> ReviewCorrectForm:
        bound = ReviewCorrectForm(request.POST)
        bound.key = f"review-{request.POST.get('session', '')}"
        return bound

    return _act(
        request,
        case_id,
        form,
        anchor="review",
        change=lambda data: consults.review_correct(
            session_id=_session_of(case_id, data["session"]),
            actor=request.user,
            minutes=data["minutes"],
            reason=data["reason"],
            request=request,
        ),
        done=_("The correction was saved."),
    )


def _session_of(case_id: int, session_id: int) -> int:
    """The session, if it is one of this case's (a forged id of another case is no session)."""
    if not ReviewSession.objects.filter(pk=session_id, case_id=case_id).exists():
        raise ConsultError(_("No such review."))
    return session_id


@role_required(Role.SPECIALIST)
@require_POST
def visit_start(request: HttpRequest, case_id: int) -> HttpResponse:
    return _act(
        request,
        case_id,
        lambda case: _Button(request.POST),
        anchor="consult",
        change=lambda data: consults.visit_start(
            case_id=case_id, actor=request.user, request=request
        ),
        done=_("The consult at the hospital has started; its time is counted."),
    )


@role_required(Role.SPECIALIST)
@require_POST
def visit_end(request: HttpRequest, case_id: int) -> HttpResponse:
    return _act(
        request,
        case_id,
        lambda case: _Button(request.POST),
        anchor="consult",
        change=lambda data: consults.visit_end(
            case_id=case_id, actor=request.user, request=request
        ),
        done=_("The consult at the hospital has ended."),
    )


@role_required(Role.COORDINATOR)
@require_POST
def no_show(request: HttpRequest, case_id: int) -> HttpResponse:
    return _act(
        request,
        case_id,
        lambda case: _Button(request.POST),
        anchor="consult",
        change=lambda data: consults.no_show(case_id=case_id, actor=request.user, request=request),
        done=_("Recorded: the patient did not attend. The booking was released."),
    )


# Candidate dates and the booking (scheduling.services).


def _offer_unchanged(case: Case, data: Data) -> bool:
    locked_status(case)
    return open_offer_id(case.pk) == data["seen"]


def _booking_unchanged(case: Case, data: Data) -> bool:
    locked_status(case)
    return live_booking_id(case.pk) == data["seen"]


@role_required(Role.COORDINATOR)
@require_POST
def offer_create(request: HttpRequest, case_id: int) -> HttpResponse:
    return _act(
        request,
        case_id,
        lambda case: sf.OfferForm(request.POST),
        anchor="scheduling",
        unchanged=status_unchanged,
        change=lambda data: scheduling.offer_create(
            case_id=case_id,
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
    return _act(
        request,
        case_id,
        lambda case: sf.OfferWithdrawForm(request.POST),
        anchor="scheduling",
        unchanged=_offer_unchanged,
        change=lambda data: scheduling.offer_withdraw(
            case_id=case_id, actor=request.user, reason=data["withdraw_reason"], request=request
        ),
        done=_("The dates were taken back and are free again."),
    )


@role_required(Role.COORDINATOR)
@require_POST
def booking_change(request: HttpRequest, case_id: int) -> HttpResponse:
    return _act(
        request,
        case_id,
        lambda case: sf.BookingChangeForm(request.POST),
        anchor="scheduling",
        unchanged=_booking_unchanged,
        change=lambda data: scheduling.booking_change(
            case_id=case_id,
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
    return _act(
        request,
        case_id,
        lambda case: sf.BookingCancelForm(request.POST),
        anchor="scheduling",
        unchanged=_booking_unchanged,
        change=lambda data: scheduling.booking_cancel(
            case_id=case_id, actor=request.user, reason=data["cancel_reason"], request=request
        ),
        done=_("The booking was cancelled; the patient has been told by e-mail."),
    )


# The identity check (readiness.services).


@role_required(Role.COORDINATOR)
@require_POST
def identity_check(request: HttpRequest, case_id: int, document_id: int) -> HttpResponse:
    """Verify or reject one uploaded ID of the case."""
    case = case_for_request(request, case_id)
    if not 0 < document_id <= MAX_ID or not id_documents(case).filter(pk=document_id).exists():
        raise Http404

    def done(data: Data) -> str:
        if data["decision"] == VERIFY:
            return _("The ID was accepted.")
        return _("The ID was not accepted; the patient has been told by e-mail.")

    return act(
        request,
        case,
        IdentityReviewForm(request.POST, document_id=document_id),
        redraw=lambda bound: staff_case_page(request, case, bound),
        anchor="identity",
        change=lambda data: identity_review(
            document_id=document_id,
            actor=request.user,
            verified=data["decision"] == VERIFY,
            reason=data["reject_reason"],
            request=request,
        ),
        done=done,
    )
