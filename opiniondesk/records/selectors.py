"""Reads of the records kept: when each ended case may go, its holds, its corrections."""

from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import Exists, OuterRef, QuerySet, Subquery

from opiniondesk.cases.models import Case, CaseTransition
from opiniondesk.records.models import CaseRevision, LegalHold
from opiniondesk.records.rules import FINAL_STATES, kept_until


@dataclass(frozen=True)
class Ending:
    """An ended case, and until when it is kept."""

    case_id: int
    reference: str
    status: str
    ended_at: datetime
    kept_until: date
    on_hold: bool

    def purgeable(self, today: date) -> bool:
        return today > self.kept_until and not self.on_hold


def ended_at_of() -> Subquery:
    """When the case reached the state it is in (its last transition into it)."""
    return Subquery(
        CaseTransition.objects.filter(case=OuterRef("pk"), to_status=OuterRef("status"))
        .order_by("-at", "-pk")
        .values("at")[:1]
    )


def active_holds() -> QuerySet[LegalHold]:
    return LegalHold.objects.filter(lifted_at__isnull=True)


def endings(*, years: int, case_ids: list[int] | None = None) -> list[Ending]:
    """Every ended case with its retention date, oldest end first. A case whose transition
    into its final state is missing counts from its last change of status."""
    cases = Case.objects.filter(status__in=FINAL_STATES)
    if case_ids is not None:
        cases = cases.filter(pk__in=case_ids)
    rows = cases.annotate(
        ended=ended_at_of(), held=Exists(active_holds().filter(case=OuterRef("pk")))
    ).values_list("pk", "status", "ended", "status_changed_at", "held")
    found = []
    for pk, status, ended, changed, held in rows:
        end = ended or changed
        until = kept_until(status, end, years)
        if until is None:  # no time at all: kept (cannot be said to have ended)
            continue
        found.append(Ending(pk, Case(pk=pk).reference, status, end, until, held))
    return sorted(found, key=lambda e: (e.ended_at, e.case_id))


def holds_of(case: Case) -> QuerySet[LegalHold]:
    return case.legal_holds.select_related("placed_by", "lifted_by")


def revisions_of(case: Case) -> QuerySet[CaseRevision]:
    return case.revisions.select_related("author").order_by("-number")
