"""Reads for the billing desk: the queue of charges needing action, charges by state and by JST
day, and the totals per day, month and department, summed by the database (never a loop over
every charge)."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Literal

from django.db import models
from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce, TruncDate, TruncMonth

from opiniondesk.billing.models import SETTLED_STATES, Charge, ChargeAttempt, ChargeState
from opiniondesk.cases.models import Case
from opiniondesk.cases.workflow import Status
from opiniondesk.core.time import JST

Basis = Literal["created", "settled"]
# A card try with no answer for this long is shown to billing staff (the provider is slow, or
# its answer was lost): they check it or send it again.
STALE_AFTER = timedelta(minutes=10)
# Money received: what the totals add up.
RECEIVED = (ChargeState.PAID, ChargeState.COLLECTED)
# Always a decision or a payment at the desk to record.
TO_HANDLE = (
    ChargeState.NEEDS_DECISION,
    ChargeState.FAILED,
    ChargeState.REQUIRES_ACTION,
    ChargeState.AT_DESK,
)


@dataclass(frozen=True)
class Period:
    """JST days, both ends included."""

    first: date
    last: date

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time.min, tzinfo=JST)

    @property
    def end(self) -> datetime:  # exclusive
        return datetime.combine(self.last + timedelta(days=1), time.min, tzinfo=JST)

    @classmethod
    def month_of(cls, day: date) -> "Period":
        first = day.replace(day=1)
        following = (first + timedelta(days=32)).replace(day=1)
        return cls(first, following - timedelta(days=1))

    @property
    def whole_month(self) -> bool:
        return self == Period.month_of(self.first)


def charges(
    *,
    states: Iterable[str] | None = None,
    period: Period | None = None,
    basis: Basis = "created",
) -> QuerySet[Charge]:
    """Charges in these states, made (or settled) on the period's JST days, with their case and
    department; newest first."""
    rows = Charge.objects.select_related("case", "case__department")
    if states is not None:
        rows = rows.filter(state__in=list(states))
    if period is not None:
        field = "created_at" if basis == "created" else "settled_at"
        rows = rows.filter(**{f"{field}__gte": period.start, f"{field}__lt": period.end})
    return rows.order_by("-created_at", "-pk")


def queue(*, now: datetime, state: str = "", period: Period | None = None) -> QuerySet[Charge]:
    """The billing queue: charges needing action first (`needs_action`), then the rest, newest
    first. `state` is a charge state, "action" for only those needing action, or "" for all.
    Each row carries `stale` (a card try unanswered for a while) and `last_try`."""
    last_try = (
        ChargeAttempt.objects.filter(charge=OuterRef("pk"))
        .order_by("-number")
        .values("started_at")[:1]
    )
    stale = Q(state=ChargeState.PROCESSING, last_try__lt=now - STALE_AFTER) | Q(
        state=ChargeState.PENDING, created_at__lt=now - STALE_AFTER
    )
    action = Q(state__in=TO_HANDLE) | stale | (Q(over_limit=True) & ~Q(state__in=SETTLED_STATES))
    rows = (
        charges(period=period)
        .annotate(last_try=Subquery(last_try))
        .annotate(
            stale=models.Case(
                models.When(stale, then=Value(True)),
                default=Value(False),
                output_field=models.BooleanField(),
            ),
            needs_action=models.Case(
                models.When(action, then=Value(True)),
                default=Value(False),
                output_field=models.BooleanField(),
            ),
        )
    )
    if state == "action":
        rows = rows.filter(needs_action=True)
    elif state:
        rows = rows.filter(state=state)
    return rows.order_by("-needs_action", "-created_at", "-pk")


def missing_charges() -> QuerySet[Case]:
    """Completed consults without a charge (no fee table was in force when they ended)."""
    return (
        Case.objects.filter(status=Status.COMPLETED, charge__isnull=True)
        .select_related("department")
        .order_by("status_changed_at", "pk")
    )


def _sums() -> dict[str, Any]:
    zero = Value(0)
    # `net` first: once `amount` names the sum, F("amount") would mean the sum.
    return {
        "net": Coalesce(Sum(F("amount") - F("refunded")), zero),
        "count": Count("pk"),
        "amount": Coalesce(Sum("amount"), zero),
        "tax": Coalesce(Sum("tax"), zero),
        "refunded": Coalesce(Sum("refunded"), zero),
    }


def received(period: Period) -> QuerySet[Charge]:
    """The fees received (by card or at the hospital) that were settled in the period."""
    return Charge.objects.filter(
        state__in=RECEIVED, settled_at__gte=period.start, settled_at__lt=period.end
    )


def totals(period: Period) -> dict[str, int]:
    """Count, amount, tax, refunded and net of the fees received in the period."""
    return received(period).aggregate(**_sums())


def totals_by_day(period: Period) -> list[dict[str, Any]]:
    """One row per JST day with fees received: `day` and the sums."""
    return list(
        received(period)
        .annotate(day=TruncDate("settled_at", tzinfo=JST))
        .values("day")
        .annotate(**_sums())
        .order_by("day")
    )


def totals_by_month(period: Period) -> list[dict[str, Any]]:
    """One row per JST month with fees received: `month` (its first day) and the sums."""
    return list(
        received(period)
        .annotate(month=TruncMonth("settled_at", tzinfo=JST, output_field=models.DateField()))
        .values("month")
        .annotate(**_sums())
        .order_by("month")
    )


def totals_by_department(period: Period) -> list[dict[str, Any]]:
    """One row per department with fees received: `code`, `name`, `name_en` and the sums."""
    return list(
        received(period)
        .values(
            code=F("case__department__code"),
            name=F("case__department__name"),
            name_en=F("case__department__name_en"),
        )
        .annotate(position=F("case__department__position"))
        .annotate(**_sums())
        .order_by("position", "code")
    )


def counts_by_state(period: Period) -> dict[str, dict[str, int]]:
    """Charges made in the period, per state: how many and their amounts."""
    rows = (
        Charge.objects.filter(created_at__gte=period.start, created_at__lt=period.end)
        .values("state")
        .annotate(count=Count("pk"), amount=Coalesce(Sum("amount"), Value(0)))
        .order_by()
    )
    return {row["state"]: {"count": row["count"], "amount": row["amount"]} for row in rows}
