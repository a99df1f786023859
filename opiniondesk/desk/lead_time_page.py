"""The lead-time page (issue #16 item 11): how many days each step of a case takes, per
department and month (median and 90th percentile), and the open cases waiting longest in each
step, so the hospital sees its bottlenecks.

The coordinator sees every department; a specialist who heads their departments (診療科長,
`User.is_department_head`) sees only those. The figures come from the recorded history: the
case's transitions and the opinion's deliveries (`lead_times.py` says which), read in a fixed
number of queries whatever the number of cases.
"""

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied
from django.db.models import Min, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from opiniondesk.accounts.models import Role, User
from opiniondesk.accounts.permissions import role_required
from opiniondesk.audit.services import audit_read
from opiniondesk.cases.models import Case, CaseTransition
from opiniondesk.cases.selectors import cases_visible_to
from opiniondesk.cases.workflow import Status
from opiniondesk.catalog.models import Department
from opiniondesk.core.time import JST, jst_today
from opiniondesk.desk.lead_times import (
    STEPS,
    CaseHistory,
    Milestone,
    Summary,
    Waiting,
    months_between,
    summarise,
    waiting_longest,
)
from opiniondesk.opinions.models import OpinionDelivery

# The transition that marks each milestone but the last (the opinion's first delivery).
MILESTONE_STATUS = {
    Status.SUBMITTED: Milestone.APPLIED,
    Status.SCREENING: Milestone.SCREENING,
    Status.ACCEPTED: Milestone.ACCEPTED,
    Status.BOOKED: Milestone.BOOKED,
    Status.IN_CONSULT: Milestone.CONSULTED,
}
# A case in these waits for nothing more.
ENDED = frozenset(
    {
        Status.REJECTED,
        Status.DECLINED,
        Status.WITHDRAWN,
        Status.CANCELLED,
        Status.NO_SHOW,
        Status.CLOSED,
    }
)
STEP_LABELS = {
    Milestone.APPLIED: _("Application → screening"),
    Milestone.SCREENING: _("Screening → acceptance"),
    Milestone.ACCEPTED: _("Acceptance → booking"),
    Milestone.BOOKED: _("Booking → consult"),
    Milestone.CONSULTED: _("Consult → opinion sent"),
}
DEFAULT_MONTHS = 12
MAX_MONTHS = 36
WAITING_LIMIT = 10


def lead_time_departments(user: User) -> QuerySet[Department]:
    """The departments whose lead times this user sees; none for anyone else."""
    if user.role == Role.COORDINATOR:
        return Department.objects.all()
    if user.role == Role.SPECIALIST and user.is_department_head:
        return user.departments.all()
    return Department.objects.none()


def may_see_lead_times(user: User) -> bool:
    return user.role == Role.COORDINATOR or (
        user.role == Role.SPECIALIST and user.is_department_head
    )


class MonthField(forms.DateField):
    """A month typed as 2026-04 (the browser's month picker sends that)."""

    widget = forms.DateInput(attrs={"type": "month"}, format="%Y-%m")
    input_formats = ["%Y-%m"]
    default_error_messages = {"invalid": _("Please enter a month as 2026-04.")}


class LeadTimeFilterForm(forms.Form):
    department = forms.ModelChoiceField(
        label=_("Department"),
        queryset=Department.objects.none(),
        required=False,
        empty_label=_("All departments"),
        error_messages={"invalid_choice": _("Please choose one of your departments.")},
    )
    start = MonthField(label=_("From (month)"), required=False)
    end = MonthField(label=_("To (month)"), required=False)

    def __init__(self, *args: Any, departments: QuerySet[Department], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = departments  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        this_month = jst_today().replace(day=1)
        end = data.get("end") or this_month
        start = data.get("start") or _months_before(end, DEFAULT_MONTHS - 1)
        if start > end:
            raise forms.ValidationError(_("The first month must not be after the last."))
        if len(months_between(start, end)) > MAX_MONTHS:
            raise forms.ValidationError(
                _("Please choose at most %(count)d months.") % {"count": MAX_MONTHS}
            )
        data["start"], data["end"] = start, end
        return data


def _months_before(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 - count
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Row:
    label: str
    month: date | None
    cells: list[tuple[Any, Summary | None]]  # the step's label, its figures


@dataclass(frozen=True)
class Table:
    department: Department | None  # None: every department shown
    rows: list[Row]


@dataclass(frozen=True)
class WaitingCase:
    waiting: Waiting
    case: Case
    visible: bool  # a department head sees a case's details once it was referred


def histories(cases: QuerySet[Case]) -> list[CaseHistory]:
    """The milestones of `cases`, read in three queries however many cases there are."""
    reached: dict[int, dict[Milestone, datetime]] = {}
    firsts = (
        CaseTransition.objects.filter(case__in=cases, to_status__in=list(MILESTONE_STATUS))
        .values_list("case_id", "to_status")
        .annotate(first=Min("at"))
        .order_by()
    )
    for case_id, to_status, first in firsts:
        reached.setdefault(case_id, {})[MILESTONE_STATUS[Status(to_status)]] = first
    sent = (
        OpinionDelivery.objects.filter(case__in=cases)
        .values_list("case_id")
        .annotate(first=Min("created_at"))
        .order_by()
    )
    for case_id, first in sent:
        reached.setdefault(case_id, {})[Milestone.OPINION_SENT] = first
    return [
        CaseHistory(pk, department_id, status in ENDED, reached.get(pk, {}))
        for pk, department_id, status in cases.values_list("pk", "department_id", "status")
    ]


@role_required(Role.COORDINATOR, Role.SPECIALIST)
def lead_times(request: HttpRequest) -> HttpResponse:
    """Median and 90th-percentile days of each step per department and month, and the cases
    waiting longest in each step."""
    user = request.user
    assert isinstance(user, User)
    if not may_see_lead_times(user):
        raise PermissionDenied
    departments = lead_time_departments(user).order_by("pk")
    # Always bound: no months given means the last 12, shown in the fields.
    query = request.GET.copy()
    if not query.get("start") and not query.get("end"):
        end = jst_today().replace(day=1)
        query["start"] = f"{_months_before(end, DEFAULT_MONTHS - 1):%Y-%m}"
        query["end"] = f"{end:%Y-%m}"
    form = LeadTimeFilterForm(query, departments=departments)
    context: dict[str, Any] = {"form": form, "step_labels": [STEP_LABELS[s] for s in STEPS]}
    if not form.is_valid():
        return render(request, "desk/lead_times.html", context)
    data = form.cleaned_data
    shown = [data["department"]] if data.get("department") else list(departments)
    months = months_between(data["start"], data["end"])
    first_moment = datetime.combine(months[0], datetime.min.time(), tzinfo=JST)
    # Cases with a step ending in the months (their status changed since), and the open ones.
    cases = Case.objects.filter(department__in=shown, submitted_at__isnull=False).filter(
        Q(status_changed_at__gte=first_moment) | ~Q(status__in=ENDED)
    )
    found = histories(cases)
    figures = summarise(found, months=months, zone=JST)
    tables = [_table(department, figures, months) for department in shown]
    if len(shown) > 1:
        tables.insert(0, _table(None, figures, months))
    waiting = waiting_longest(found, now=timezone.now(), limit=WAITING_LIMIT)
    longest = _waiting_cases(user, waiting)
    audit_read(
        request,
        page="lead times",
        cases=sorted({item.case.pk for items in longest.values() for item in items}),
    )
    context |= {
        "tables": tables,
        "first_month": months[0],
        "last_month": months[-1],
        "waiting": [(STEP_LABELS[step], longest[step]) for step in STEPS],
        "waiting_limit": WAITING_LIMIT,
    }
    return render(request, "desk/lead_times.html", context)


def _table(department: Department | None, figures: dict[Any, Summary], months: list[date]) -> Table:
    key = department.pk if department is not None else None
    rows = [
        Row(str(label), month, [(STEP_LABELS[s], figures.get((key, month, s))) for s in STEPS])
        for label, month in [(_("All months"), None)]
        + [(f"{month:%Y-%m}", month) for month in reversed(months)]
    ]
    return Table(department, rows)


def _waiting_cases(
    user: User, waiting: dict[Milestone, list[Waiting]]
) -> dict[Milestone, list[WaitingCase]]:
    """The waiting cases with their reference, department and patient's name; a department
    head sees a name and a link only for a case referred to them (`cases_visible_to`)."""
    ids = {item.case_id for items in waiting.values() for item in items}
    cases = Case.objects.filter(pk__in=ids).select_related("department").in_bulk()
    visible = set(cases_visible_to(user).filter(pk__in=ids).values_list("pk", flat=True))
    return {
        step: [WaitingCase(item, cases[item.case_id], item.case_id in visible) for item in items]
        for step, items in waiting.items()
    }
