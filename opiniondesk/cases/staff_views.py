"""A case's history: everything that happened to it, for staff and for the applicant.

The staff case page, its actions and the work queue are composed in `desk`."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from opiniondesk.accounts.models import Role
from opiniondesk.audit.services import audit_read
from opiniondesk.cases.access import case_for_request
from opiniondesk.cases.selectors import case_history

STAFF = (Role.COORDINATOR, Role.SPECIALIST)


@login_required
def history(request: HttpRequest, case_id: int) -> HttpResponse:
    """Everything that happened to a case in time order. The applicant sees their own case's
    changes of state, requests and documents; never the hospital's calls or internal notes."""
    case = case_for_request(request, case_id)
    own = case.applicant_id == request.user.pk
    if not own and request.user.role not in STAFF:
        raise PermissionDenied
    audit_read(request, case, page="history")
    entries = case_history(case, viewer=request.user, for_applicant=own)
    template = "cases/history.html" if own else "cases/staff/history.html"
    return render(request, template, {"case": case, "entries": entries})
