"""The hospital's consoles: the work queue, the case page of the coordinator and of the specialist,
their actions, and a case's history.

Views translate input and output. Every change goes through `screening.py` or `services.py`,
which check the lifecycle table and the actor and write the transition and the audit rows.
"""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from opiniondesk.accounts.models import Role
from opiniondesk.accounts.permissions import role_required
from opiniondesk.audit.models import AuditAction
from opiniondesk.audit.services import audit_record
from opiniondesk.cases import screening, services, staff_forms
from opiniondesk.cases.applications import checklist, missing_answers
from opiniondesk.cases.eligibility import Verdict
from opiniondesk.cases.models import Case
from opiniondesk.cases.selectors import (
    case_counts_by_status,
    case_history,
    case_queue,
    documents_visible_to,
    materials_reading,
)
from opiniondesk.cases.views import get_case
from opiniondesk.cases.wording import STAFF_CONFLICT, STAFF_NOT_CHANGED, STAFF_STATUS_LABELS
from opiniondesk.cases.workflow import OPEN_STATES, Actor, InvalidTransition, Status, next_states
from opiniondesk.catalog.models import Department
from opiniondesk.core.time import jst_today
from opiniondesk.public.wording import REASONS
from opiniondesk.scheduling.staff_views import case_page_context

STAFF = (Role.COORDINATOR, Role.SPECIALIST)
# Review time can still be corrected after acceptance, until the consult (screening.py).
REVIEW_STATES = frozenset({Status.ACCEPTED, Status.OFFERED, Status.BOOKED, Status.READY})
QUEUE_PAGE_SIZE = 50


# The queue.


@role_required(*STAFF)
def queue(request: HttpRequest) -> HttpResponse:
    """The cases waiting for this user, with filters, counts per state and waiting times."""
    is_coordinator = request.user.role == Role.COORDINATOR
    departments = Department.objects.all() if is_coordinator else request.user.departments.all()
    form = staff_forms.QueueFilterForm(request.GET or None, departments=departments)
    cases = case_queue(user=request.user, filters=form.filters())
    page = Paginator(cases, QUEUE_PAGE_SIZE).get_page(request.GET.get("page"))
    audit_record(
        action=AuditAction.READ,
        request=request,
        detail={"page": "staff queue", "cases": [case.pk for case in page]},
    )
    counts = case_counts_by_status(user=request.user)
    # Automatic reloads say so, and the idle timeout does not count them as activity.
    query = request.GET.copy()
    query["auto"] = "1"
    return render(
        request,
        "cases/staff/queue.html",
        {
            "form": form,
            "page": page,
            "is_coordinator": is_coordinator,
            "counts": [(s, STAFF_STATUS_LABELS[s], counts[s]) for s in Status if s in counts],
            "total": sum(counts.values()),
            "open_total": sum(n for s, n in counts.items() if s in OPEN_STATES),
            "current_state": request.GET.get("state") or staff_forms.OPEN,
            "refresh_url": f"{request.path}?{query.urlencode()}",
            "page_query": _without(request.GET, "page", "auto"),
        },
    )


def _without(query: Any, *names: str) -> str:
    query = query.copy()
    for name in names:
        query.pop(name, None)
    return query.urlencode()


# The case page.


@role_required(*STAFF)
def case_page(request: HttpRequest, case_id: int) -> HttpResponse:
    return _case_page(request, get_case(request, case_id))


def _case_page(
    request: HttpRequest, case: Case, bound: dict[str, forms.Form] | None = None
) -> HttpResponse:
    audit_record(
        action=AuditAction.READ,
        request=request,
        case_id=case.pk,
        obj=case,
        detail={"page": "staff case"},
    )
    documents = documents_visible_to(request.user, case).select_related("proxy", "superseded_by")
    context = {"case": case, "documents": documents, "proxies": case.proxies.all()}
    context |= case_page_context(request, case, bound or {})  # dates, booking, identity check
    if request.user.role == Role.COORDINATOR:
        context |= _coordinator_context(case, bound or {})
        context["jump"] = [
            ("eligibility", _("Eligibility")),
            ("actions", _("Actions")),
            *context["scheduling_jump"],
            ("calls", _("Phone calls")),
            ("documents", _("Documents")),
            ("application", _("Application")),
        ]
        return render(request, "cases/staff/case_coordinator.html", context)
    context |= _specialist_context(request, case, bound or {})
    context["jump"] = [
        ("decision", _("Decision and review time")),
        ("documents", _("Documents")),
        ("application", _("Application")),
    ]
    return render(request, "cases/staff/case_specialist.html", context)


def _verdict(case: Case) -> Verdict | None:
    """Recomputed on every view: documents may have arrived since the last look."""
    return None if missing_answers(case) else services.case_verdict(case)


def _coordinator_context(case: Case, bound: dict[str, forms.Form]) -> dict[str, Any]:
    verdict, items = _verdict(case), checklist(case)
    missing = verdict.missing_documents if verdict else [c for c, have in items if not have]
    allowed = set(next_states(Status(case.status), Actor.COORDINATOR))
    seen = {"seen_status": case.status}
    actions: dict[str, forms.Form] = {}
    if Status.SCREENING in allowed:
        actions["screen"] = staff_forms.CaseActionForm(initial=seen)
    if Status.AWAITING_DOCUMENTS in allowed:
        actions["request"] = staff_forms.RequestDocumentsForm(
            initial={
                **seen,
                "items": [code.value for code in missing],
                "due_date": jst_today() + timedelta(days=14),
            }
        )
    if Status.REJECTED in allowed:
        reasons = [r.value for r in verdict.reasons] if verdict else []
        actions["reject"] = staff_forms.RejectForm(initial={**seen, "reasons": reasons})
    if Status.REFERRED in allowed:
        actions["refer"] = staff_forms.ReferForm(
            initial={**seen, "department": case.department_id}, mode=case.mode
        )
    if Status.WITHDRAWN in allowed:
        actions["withdraw"] = staff_forms.WithdrawForm(initial=seen)
    phone = staff_forms.PhoneLogForm(initial=staff_forms.phone_log_initial(case.patient_phone))
    actions |= {key: form for key, form in bound.items() if key in actions}
    return {
        "verdict": verdict,
        "checklist": items,
        "reasons": [(code, REASONS[code]) for code in verdict.reasons] if verdict else [],
        "actions": actions,
        "suggested": _suggested(case, verdict),
        "phone_form": bound.get("phone", phone),
        "phone_logs": case.phone_logs.select_related("called_by"),
        "open_request": _open_request(case),
    }


def _suggested(case: Case, verdict: Verdict | None) -> str:
    """The action a coordinator most likely takes next, opened and marked on the page."""
    if case.status == Status.SUBMITTED:
        return "screen"
    if case.status != Status.SCREENING or verdict is None:
        return ""
    if verdict.refused:
        return "reject"
    return "request" if verdict.missing_documents else "refer"


def _open_request(case: Case) -> Any:
    if case.status != Status.AWAITING_DOCUMENTS:
        return None
    return case.document_requests.filter(fulfilled_at__isnull=True).last()


def _specialist_context(
    request: HttpRequest, case: Case, bound: dict[str, forms.Form]
) -> dict[str, Any]:
    allowed = set(next_states(Status(case.status), Actor.SPECIALIST))
    seen = {"seen_status": case.status}
    actions: dict[str, forms.Form] = {}
    if Status.ACCEPTED in allowed:
        actions["accept"] = staff_forms.AcceptForm(
            initial={**seen, "review_minutes": case.review_minutes}
        )
    if Status.DECLINED in allowed:
        actions["decline"] = staff_forms.DeclineForm(initial=seen)
    if case.status in REVIEW_STATES:
        actions["review"] = staff_forms.ReviewForm(initial={"minutes": case.review_minutes})
    actions |= {key: form for key, form in bound.items() if key in actions}
    return {"actions": actions, "reading": materials_reading(case=case, user=request.user)}


# The actions. Each validates its form, then calls one service.


class _Moved(Exception):
    """The case is no longer in the state the user saw when they clicked."""


def _apply(request: HttpRequest, case: Case, seen: str | None, change: Callable[[], Any]) -> bool:
    """Run one change; on a conflict say so clearly, and change nothing."""
    try:
        with transaction.atomic():
            if seen is not None:
                # Locked until the service has finished: nobody can move the case in between.
                locked = Case.objects.select_for_update().filter(pk=case.pk)
                if locked.values_list("status", flat=True).get() != seen:
                    raise _Moved
            change()
    except (_Moved, InvalidTransition, screening.NotAllowed):
        messages.error(request, STAFF_CONFLICT)
        return False
    return True


def _perform(
    request: HttpRequest,
    case: Case,
    form: forms.Form,
    *,
    key: str,
    change: Callable[[dict[str, Any]], Any],
    done: str,
) -> HttpResponse:
    if not form.is_valid():
        messages.error(request, STAFF_NOT_CHANGED)
        return _case_page(request, case, bound={key: form})
    data = form.cleaned_data
    if _apply(request, case, data.get("seen_status"), lambda: change(data)):
        messages.success(request, done)
    return redirect("staff-case", case.pk)


@role_required(Role.COORDINATOR)
@require_POST
def case_screen(request: HttpRequest, case_id: int) -> HttpResponse:
    case = get_case(request, case_id)
    return _perform(
        request,
        case,
        staff_forms.CaseActionForm(request.POST),
        key="screen",
        change=lambda data: screening.case_start_screening(
            case_id=case.pk, actor=request.user, request=request
        ),
        done=_("Screening started."),
    )


@role_required(Role.COORDINATOR)
@require_POST
def case_request_documents(request: HttpRequest, case_id: int) -> HttpResponse:
    case = get_case(request, case_id)
    return _perform(
        request,
        case,
        staff_forms.RequestDocumentsForm(request.POST),
        key="request",
        change=lambda data: screening.case_request_documents(
            case_id=case.pk,
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
    case = get_case(request, case_id)
    return _perform(
        request,
        case,
        staff_forms.PhoneLogForm(request.POST),
        key="phone",
        change=lambda data: screening.phone_log_create(
            case_id=case.pk,
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
    case = get_case(request, case_id)
    return _perform(
        request,
        case,
        staff_forms.RejectForm(request.POST),
        key="reject",
        change=lambda data: screening.case_reject(
            case_id=case.pk,
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
    case = get_case(request, case_id)
    return _perform(
        request,
        case,
        staff_forms.ReferForm(request.POST, mode=case.mode),
        key="refer",
        change=lambda data: screening.case_refer(
            case_id=case.pk, actor=request.user, department=data["department"], request=request
        ),
        done=_("The case was referred; the department's specialists have been told."),
    )


@role_required(Role.COORDINATOR)
@require_POST
def case_withdraw(request: HttpRequest, case_id: int) -> HttpResponse:
    case = get_case(request, case_id)
    return _perform(
        request,
        case,
        staff_forms.WithdrawForm(request.POST),
        key="withdraw",
        change=lambda data: services.case_withdraw(
            case_id=case.pk, actor=request.user, reason=data["reason"], request=request
        ),
        done=_("The application was withdrawn."),
    )


@role_required(Role.SPECIALIST)
@require_POST
def case_accept(request: HttpRequest, case_id: int) -> HttpResponse:
    case = get_case(request, case_id)
    return _perform(
        request,
        case,
        staff_forms.AcceptForm(request.POST),
        key="accept",
        change=lambda data: screening.case_accept(
            case_id=case.pk,
            actor=request.user,
            review_minutes=data["review_minutes"],
            request=request,
        ),
        done=_("You accepted the case; the coordinators will offer dates."),
    )


@role_required(Role.SPECIALIST)
@require_POST
def case_decline(request: HttpRequest, case_id: int) -> HttpResponse:
    case = get_case(request, case_id)
    return _perform(
        request,
        case,
        staff_forms.DeclineForm(request.POST),
        key="decline",
        change=lambda data: screening.case_decline(
            case_id=case.pk, actor=request.user, reason=data["reason"], request=request
        ),
        done=_("You declined the case; the applicant has been told."),
    )


@role_required(Role.SPECIALIST)
@require_POST
def case_review(request: HttpRequest, case_id: int) -> HttpResponse:
    case = get_case(request, case_id)
    return _perform(
        request,
        case,
        staff_forms.ReviewForm(request.POST),
        key="review",
        change=lambda data: screening.case_record_review(
            case_id=case.pk, actor=request.user, minutes=data["minutes"], request=request
        ),
        done=_("The review time was saved."),
    )


# The history.


@login_required
def history(request: HttpRequest, case_id: int) -> HttpResponse:
    """Everything that happened to a case in time order. The applicant sees their own case's
    changes of state, requests and documents; never the hospital's calls or internal notes."""
    case = get_case(request, case_id)
    own = case.applicant_id == request.user.pk
    if not own and request.user.role not in STAFF:
        raise PermissionDenied
    audit_record(
        action=AuditAction.READ,
        request=request,
        case_id=case.pk,
        obj=case,
        detail={"page": "history"},
    )
    entries = case_history(case, for_applicant=own)
    template = "cases/history.html" if own else "cases/staff/history.html"
    return render(request, template, {"case": case, "entries": entries})
