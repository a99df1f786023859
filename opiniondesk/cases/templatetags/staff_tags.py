"""Words and small calculations for the staff consoles' templates."""

from datetime import date, datetime

from django import template
from django.utils import timezone
from django.utils.translation import gettext as _

from opiniondesk.cases import wording
from opiniondesk.cases.eligibility import Reason
from opiniondesk.cases.models import CaseTransition
from opiniondesk.cases.workflow import Status
from opiniondesk.core.time import jst_today
from opiniondesk.public.wording import REASONS

register = template.Library()


@register.filter
def staff_status(status: str) -> str:
    return str(wording.STAFF_STATUS_LABELS[Status(status)])


@register.filter
def waited(since: datetime | None) -> str:
    """How long ago, in the coarsest useful unit: "3 days", "5 hours", "12 minutes"."""
    return "" if since is None else wording.waited(since, timezone.now())


@register.filter
def is_past(day: date | None) -> bool:
    """A due date before today (JST): the request is overdue."""
    return day is not None and day < jst_today()


@register.filter
def reason_title(code: str) -> str:
    return str(REASONS[Reason(code)].title)


@register.filter
def actor_label(transition: CaseTransition) -> str:
    """Who made a change, as staff read it."""
    if transition.actor is None:
        return _("the system")
    name = transition.actor.get_full_name() or transition.actor.get_username()
    if transition.actor_role == "applicant":
        return _("%(name)s (applicant)") % {"name": name}
    return name


@register.filter
def person(user: object) -> str:
    if user is None:
        return _("the system")
    return user.get_full_name() or user.get_username()  # type: ignore[attr-defined]


@register.filter
def department_name(code: str) -> str:
    """A department code recorded in a transition, shown by its current name."""
    from opiniondesk.catalog.models import Department

    department = Department.objects.filter(code=code).first()
    return department.local_name if department else code
