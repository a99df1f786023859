"""Where staff land: the home page with the counts, and the coordinator's and specialist's work
queue with filters, counts per state and waiting times."""

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.translation import get_language

from opiniondesk.accounts.models import Role
from opiniondesk.accounts.permissions import role_required
from opiniondesk.audit.services import audit_read
from opiniondesk.cases import staff_forms
from opiniondesk.cases.keyset import cursor_decode, cursor_encode, keyset_page
from opiniondesk.cases.queue_rows import page_rows
from opiniondesk.cases.selectors import case_counts_by_status, case_queue, case_queue_count
from opiniondesk.cases.wording import STAFF_STATUS_LABELS
from opiniondesk.cases.workflow import OPEN_STATES, Status
from opiniondesk.catalog.cache import catalog_cached
from opiniondesk.catalog.models import Department
from opiniondesk.interop.selectors import open_disclosure_count

QUEUE_PAGE_SIZE = 50


@role_required(Role.COORDINATOR, Role.SPECIALIST, Role.BILLING_CLERK, Role.ADMIN)
def staff_home(request: HttpRequest) -> HttpResponse:
    """Where staff land after signing in: their role and the cases waiting for them."""
    return render(
        request,
        "accounts/staff_home.html",
        {
            "counts": case_counts_by_status(user=request.user),
            # The work queue is the coordinators' and the specialists'.
            "has_queue": request.user.role in (Role.COORDINATOR, Role.SPECIALIST),
            # The billing desk is the billing clerk's.
            "has_billing": request.user.role == Role.BILLING_CLERK,
            # Disclosure requests (開示請求) are the coordinators'.
            "has_disclosures": request.user.role == Role.COORDINATOR,
            "open_disclosures": open_disclosure_count(),
        },
    )


@role_required(Role.COORDINATOR, Role.SPECIALIST)
def queue(request: HttpRequest) -> HttpResponse:
    """The cases waiting for this user, with filters, counts per state and waiting times."""
    is_coordinator = request.user.role == Role.COORDINATOR
    departments = Department.objects.all() if is_coordinator else request.user.departments.all()
    form = staff_forms.QueueFilterForm(request.GET or None, departments=departments)
    filters = form.filters()
    filters_html = filter_form_html(request, form, is_coordinator)
    cases = case_queue(user=request.user, filters=filters)
    page = keyset_page(
        cases,
        key="waiting_since",
        descending=filters.newest_first,
        cursor=cursor_decode(request.GET.get("cursor")),
        size=QUEUE_PAGE_SIZE,
    )
    found, capped = case_queue_count(user=request.user, filters=filters)
    # A search says whom someone looked for: it is recorded with what it showed.
    searched = {"search": filters.search.kind.value} if filters.search.active else {}
    audit_read(request, page="staff queue", cases=[case.pk for case in page], **searched)
    counts = case_counts_by_status(user=request.user)
    # Automatic reloads say so, and the idle timeout does not count them as activity.
    query = request.GET.copy()
    query["auto"] = "1"
    return render(
        request,
        "cases/staff/queue.html",
        {
            "filters_html": filters_html,
            "page": page,
            "rows": page_rows(page),
            "is_coordinator": is_coordinator,
            "counts": [(s, STAFF_STATUS_LABELS[s], counts[s]) for s in Status if s in counts],
            "total": sum(counts.values()),
            "open_total": sum(n for s, n in counts.items() if s in OPEN_STATES),
            "current_state": request.GET.get("state") or staff_forms.OPEN,
            "refresh_url": f"{request.path}?{query.urlencode()}",
            "found": found,
            "found_capped": capped,
            "pages": None if capped else max(1, -(-found // QUEUE_PAGE_SIZE)),
            "next_cursor": cursor_encode(page.next) if page.next else "",
            "previous_cursor": cursor_encode(page.previous) if page.previous else "",
            "page_query": _without(request.GET, "cursor", "auto"),
        },
    )


# The query string of the queues most asked for: the landing queue, a state's tab, the next
# page and the automatic reload each minute. Their filter form is the same for everyone who
# sees the same departments: about a sixth of the request to print, kept per process (for the
# catalog's version: a department renamed shows at once). Any other filter, and above all a
# search (a patient's name), is printed afresh and never kept.
CACHED_QUERIES = frozenset({"state", "cursor", "auto"})


def filter_form_html(request: HttpRequest, form: Any, is_coordinator: bool) -> str:
    def build() -> str:
        context = {"form": form, "is_coordinator": is_coordinator, "queue_path": request.path}
        return render_to_string("cases/staff/_queue_filters.html", context)

    if not (set(request.GET) <= CACHED_QUERIES and (form.is_valid() or not form.is_bound)):
        return build()
    # A specialist's choice of departments is their own.
    choices = form.fields["department"].queryset
    seen = "all" if is_coordinator else ",".join(map(str, choices.values_list("pk", flat=True)))
    state = form.cleaned_data.get("state", "") if form.is_bound else "-"
    return catalog_cached(f"queue-filters:{get_language()}:{seen}:{state}", build)


def _without(query: Any, *names: str) -> str:
    query = query.copy()
    for name in names:
        query.pop(name, None)
    return query.urlencode()
