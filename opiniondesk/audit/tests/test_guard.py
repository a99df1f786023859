"""The audit log's SQLite guard comes back after a migration that rebuilt its tables (SQLite
drops a table's triggers then): post_migrate puts back what is missing (audit/guard.py)."""

import pytest
from django.core.management.sql import emit_post_migrate_signal
from django.db import DatabaseError, connection, transaction

from opiniondesk.audit.guard import TABLES, sqlite_missing
from opiniondesk.audit.models import AuditAction
from opiniondesk.audit.services import audit_record

pytestmark = [pytest.mark.sqlite, pytest.mark.django_db]


def test_a_dropped_guard_is_put_back_after_the_next_migration(coordinator_sato, settings):
    settings.AUDIT_ALLOW_FLUSH = False  # as in production
    assert sqlite_missing(connection) == []
    event = audit_record(action=AuditAction.READ, user=coordinator_sato, case_id=1, detail={})
    with connection.cursor() as cursor:  # what a table rebuild does to the triggers
        for table in TABLES:
            cursor.execute(f"DROP TRIGGER {table}_no_update")
            cursor.execute(f"DROP TRIGGER {table}_no_delete")
    assert len(sqlite_missing(connection)) == 2 * len(TABLES)
    with connection.cursor() as cursor:  # unguarded now: an edit goes through
        cursor.execute(
            "UPDATE audit_auditevent SET action = 'read' WHERE sequence = %s", [event.sequence]
        )

    emit_post_migrate_signal(0, False, "default")

    assert sqlite_missing(connection) == []
    for sql in (
        "UPDATE audit_auditevent SET action = 'download' WHERE sequence = %s",
        "DELETE FROM audit_auditevent WHERE sequence = %s",
    ):
        with (
            pytest.raises(DatabaseError, match="the audit log is append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [event.sequence])
