from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from opiniondesk.accounts.models import Role
from opiniondesk.accounts.permissions import role_required
from opiniondesk.cases.selectors import case_counts_by_status


@role_required(Role.COORDINATOR, Role.SPECIALIST, Role.BILLING_CLERK, Role.ADMIN)
def staff_home(request: HttpRequest) -> HttpResponse:
    """Where staff land after signing in: their role and the cases waiting for them."""
    return render(
        request,
        "accounts/staff_home.html",
        {
            "counts": case_counts_by_status(user=request.user),
            # The work queue is the coordinators' and the specialists' (cases/staff_views.py).
            "has_queue": request.user.role in (Role.COORDINATOR, Role.SPECIALIST),
        },
    )
