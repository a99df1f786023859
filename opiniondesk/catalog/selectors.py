"""Reads of the catalog, shaped for the pure rule modules and the public pages."""

from datetime import date, datetime
from types import MappingProxyType

from django.conf import settings
from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from opiniondesk.cases.eligibility import Catalog, DepartmentRules
from opiniondesk.catalog.cache import catalog_cached
from opiniondesk.catalog.closed_days import MonthDay, YearEndClosure, is_open
from opiniondesk.catalog.desk_hours import DeskHours, desk_deadline, desk_due_date, desk_is_open
from opiniondesk.catalog.models import ConsultHours, Department, Disease, ExtraDocument
from opiniondesk.catalog.vocabulary import DocumentCode


def departments_public() -> QuerySet[Department]:
    """Active departments with everything the public pages and the API show, in 4 queries."""
    return Department.objects.filter(is_active=True).prefetch_related(
        Prefetch("diseases", queryset=Disease.objects.order_by("position", "code")),
        Prefetch("consult_hours", queryset=ConsultHours.objects.order_by("weekday", "starts_at")),
        Prefetch("extra_documents", queryset=ExtraDocument.objects.order_by("code")),
    )


def eligibility_catalog() -> Catalog:
    """The catalog as the eligibility rules see it: inactive departments cover nothing.

    Kept in memory until the next catalog edit (opiniondesk.catalog.cache): no query when warm.
    """
    return catalog_cached("eligibility", _eligibility_catalog_from_db)


def _eligibility_catalog_from_db() -> Catalog:
    # Read-only, as it is shared between requests and threads.
    return MappingProxyType(
        {
            dept.code: DepartmentRules(
                code=dept.code,
                modes=frozenset(dept.modes),
                diseases=frozenset(disease.code for disease in dept.diseases.all()),
                extra_documents=tuple(DocumentCode(doc.code) for doc in dept.extra_documents.all()),
            )
            for dept in departments_public()
        }
    )


def year_end_closure() -> YearEndClosure:
    """The year-end closure from settings (CLOSURE_YEAR_END_START / _END, as MM-DD)."""
    start, end = settings.CLOSURE_YEAR_END
    return YearEndClosure(MonthDay.parse(start), MonthDay.parse(end))


def phone_desk_hours() -> DeskHours:
    """The phone desk's hours, read from the words the pages show (HOSPITAL_PHONE_HOURS), so the
    rule and the wording cannot disagree."""
    return DeskHours.parse(settings.HOSPITAL["phone_hours"])


def patient_deadline(naive: datetime, *, now: datetime | None = None) -> datetime:
    """A deadline a patient is given, moved onto a moment the phone desk answers (SPEC §5)."""
    return desk_deadline(
        naive,
        not_before=now or timezone.now(),
        hours=phone_desk_hours(),
        year_end=year_end_closure(),
    )


def patient_due_date(day: date, *, today: date) -> date:
    """A "please send by" date on a day the phone desk answers (SPEC §5)."""
    return desk_due_date(day, today=today, hours=phone_desk_hours(), year_end=year_end_closure())


def desk_answers_at(moment: datetime) -> bool:
    """Whether a patient could call the desk at `moment`: open day, inside the hours."""
    return desk_is_open(moment, hours=phone_desk_hours(), year_end=year_end_closure())


def desk_answers_on(day: date) -> bool:
    """Whether the desk answers at all on `day` (an open day)."""
    return is_open(day, year_end=year_end_closure())
