"""Reads of disclosure requests, with where each stands against the time limit."""

from dataclasses import dataclass

from django.conf import settings
from django.db.models import QuerySet

from opiniondesk.cases.models import Case
from opiniondesk.core.time import JST, jst_today
from opiniondesk.interop.deadline import Deadline, deadline
from opiniondesk.interop.models import DisclosureRequest

SOON_DAYS = 3  # "due soon": this many days before the due day, or fewer


@dataclass(frozen=True)
class DisclosureRow:
    request: DisclosureRequest
    deadline: Deadline


def disclosure_standing(disclosure: DisclosureRequest) -> Deadline:
    """Where the request stands today (JST) against `DISCLOSURE_DUE_DAYS`."""
    fulfilled = disclosure.fulfilled_at
    return deadline(
        requested_on=disclosure.requested_at.astimezone(JST).date(),
        today=jst_today(),
        due_days=settings.DISCLOSURE_DUE_DAYS,
        soon_days=SOON_DAYS,
        fulfilled_on=fulfilled.astimezone(JST).date() if fulfilled else None,
    )


def rows(requests: QuerySet[DisclosureRequest]) -> list[DisclosureRow]:
    return [DisclosureRow(r, disclosure_standing(r)) for r in requests]


def disclosures_for_staff(*, open_only: bool) -> list[DisclosureRow]:
    """Requests for the coordinators' list: open ones oldest first (the most urgent on top)."""
    requests = DisclosureRequest.objects.select_related("case", "requested_by", "fulfilled_by")
    if open_only:
        requests = requests.filter(fulfilled_at__isnull=True)
    else:
        requests = requests.order_by("-requested_at", "-pk")
    return rows(requests)


def disclosures_of_case(case: Case) -> list[DisclosureRow]:
    return rows(DisclosureRequest.objects.filter(case=case).order_by("-requested_at", "-pk"))


def open_disclosure_count() -> int:
    return DisclosureRequest.objects.filter(fulfilled_at__isnull=True).count()
