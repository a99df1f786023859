"""Reads of the catalog, shaped for the pure rule modules and the public pages."""

from types import MappingProxyType

from django.conf import settings
from django.db.models import Prefetch, QuerySet

from opiniondesk.cases.eligibility import Catalog, DepartmentRules
from opiniondesk.catalog.cache import catalog_cached
from opiniondesk.catalog.closed_days import MonthDay, YearEndClosure
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
