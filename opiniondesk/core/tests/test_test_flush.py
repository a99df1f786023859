"""The test run's flush after a transactional test (opiniondesk/testing/flush.py): it empties
every table but the content types and permissions, kept rows and the audit log included, and
leaves the database's guards on for what comes next. On PostgreSQL it deletes, not truncates,
when the role may turn the triggers off for the flush's transaction."""

import pytest
from django.apps import apps
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.core.management.color import no_style
from django.db import IntegrityError, connection, transaction

from opiniondesk.audit.models import AuditAction, AuditEvent
from opiniondesk.audit.services import audit_record
from opiniondesk.cases.models import Case
from opiniondesk.cases.workflow import Status
from opiniondesk.documents.models import Document
from opiniondesk.testing.builders import case_in
from opiniondesk.testing.flush import KEPT, may_skip_triggers, postgresql_deletes
from opiniondesk.testing.seed import ensure_seeded, is_seeded


def rows_left() -> dict[str, int]:
    """Every model's table that still holds rows."""
    left = {}
    for model in apps.get_models(include_auto_created=True):
        if not model._meta.managed or model._meta.proxy:
            continue
        count = model._base_manager.count()
        if count:
            left[model._meta.db_table] = count
    return left


@pytest.mark.django_db(transaction=True)
def test_the_flush_empties_all_but_the_content_types_and_keeps_the_guards():
    case = case_in(Status.SCREENING)  # a case with kept rows: transitions, documents
    audit_record(action=AuditAction.READ, user=None, case_id=case.pk, detail={})
    assert Document.objects.exists() and AuditEvent.objects.exists()
    types = dict(ContentType.objects.values_list("pk", "model"))
    permissions = Permission.objects.count()

    call_command("flush", interactive=False, verbosity=0)

    assert rows_left() == {"django_content_type": len(types), "auth_permission": permissions}
    assert dict(ContentType.objects.values_list("pk", "model")) == types  # the same ids
    assert not is_seeded()

    # The guards are on again: a kept row of a new case cannot be deleted.
    ensure_seeded()
    case = case_in(Status.SCREENING)
    with pytest.raises(IntegrityError, match="records kept"), transaction.atomic():
        Document.objects.filter(case=case).delete()
    assert Case.objects.filter(pk=case.pk).exists()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('session_replication_role')")
            assert cursor.fetchone()[0] == "origin"


@pytest.mark.django_db
def test_what_the_flush_runs():
    tables = ["cases_case", "django_content_type", "auth_permission", "audit_auditevent"]
    statements = connection.ops.sql_flush(no_style(), tables)
    joined = " ".join(statements)
    for table in KEPT:
        assert table not in joined
    if connection.vendor == "postgresql" and may_skip_triggers(connection):
        assert statements == postgresql_deletes(
            connection.ops.quote_name, ["cases_case", "audit_auditevent"]
        )
    else:
        assert "cases_case" in joined and "audit_auditevent" in joined
    # Sequences reset: Django's own statements (on PostgreSQL, TRUNCATE … RESTART IDENTITY).
    reset = " ".join(connection.ops.sql_flush(no_style(), tables, reset_sequences=True))
    assert "django_content_type" not in reset
    if connection.vendor == "postgresql":
        assert reset.startswith("TRUNCATE") and "RESTART IDENTITY" in reset


def test_postgresql_deletes_turn_the_triggers_off_for_the_flush_only():
    assert postgresql_deletes(lambda name: f'"{name}"', ["a", "b"]) == [
        "SET LOCAL session_replication_role = replica;",
        'DELETE FROM "a";',
        'DELETE FROM "b";',
        "SET LOCAL session_replication_role = origin;",
    ]
