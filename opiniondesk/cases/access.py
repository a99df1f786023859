"""Who may open a case: the permission-checked getters every case view starts with.

A case the user may not see is a 404, as if it did not exist, and the attempt is audited."""

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest

from opiniondesk.audit.services import audit_denied
from opiniondesk.cases.lifecycle import actor_of
from opiniondesk.cases.models import Case
from opiniondesk.cases.selectors import MAX_ID, case_get_for_user
from opiniondesk.cases.workflow import Actor


def case_for_request(request: HttpRequest, case_id: int, **denied: Any) -> Case:
    """The case if this user may see it; otherwise 404, and the attempt is audited (`denied`
    adds to what the audit event says)."""
    try:
        return case_get_for_user(user=request.user, case_id=case_id)
    except Http404:
        in_range = 0 < case_id <= MAX_ID
        audit_denied(
            request,
            case_id=case_id if in_range else None,
            path=request.path[:200],
            **denied,
        )
        raise


def patient_case_for_request(request: HttpRequest, case_id: int) -> Case:
    """The case, for its applicant or the patient's own account: 404 if not visible, else 403
    (staff see the case, but these pages are the patient's own)."""
    case = case_for_request(request, case_id)
    if actor_of(request.user, case) is not Actor.APPLICANT:
        raise PermissionDenied
    return case
