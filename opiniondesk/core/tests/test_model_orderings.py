"""A model's default ordering names columns of its own table, never a relation.

Ordering by a foreign key ("case") makes Django join the related table and sort by *its*
ordering (Case's created_at), so reading one case's documents, transitions or family members
joined cases_case on every page. "case_id" groups the rows the same way without the join."""

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext

from opiniondesk.cases.models import Case
from opiniondesk.documents.models import Document

# Catalog rows are listed across departments in the departments' own order (a few dozen rows).
GROUPED_BY_THE_RELATIONS_ORDER = {
    "catalog.Disease: department",
    "catalog.ConsultHours: department",
    "catalog.ExtraDocument: department",
}


def relations_in_default_orderings() -> list[str]:
    found = []
    for model in apps.get_models():
        if not model.__module__.startswith("opiniondesk."):
            continue
        for entry in model._meta.ordering:
            if not isinstance(entry, str):
                continue
            name = entry.lstrip("-").split("__")[0]
            if name == "pk" or name == "?":
                continue
            field = model._meta.get_field(name)
            if field.is_relation and entry.lstrip("-") != field.attname:
                found.append(f"{model._meta.label}: {entry}")
    return found


def test_no_default_ordering_follows_a_relation() -> None:
    assert set(relations_in_default_orderings()) == GROUPED_BY_THE_RELATIONS_ORDER


@pytest.mark.django_db
def test_one_cases_documents_are_read_without_the_cases_table() -> None:
    case = Case(pk=1)
    with CaptureQueriesContext(connection) as queries:
        list(Document.objects.filter(case=case))
    (query,) = queries.captured_queries
    assert "cases_case" not in query["sql"]
