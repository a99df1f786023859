"""The audit log's append-only guard in SQLite (migration 0003 writes it; PostgreSQL's lives in
its own functions and triggers, which no ALTER TABLE drops).

SQLite rebuilds a table, and drops its triggers, when a migration alters it in a way SQLite
cannot do in place. The guard is therefore put back after every migration (`ensure_guard`,
connected to post_migrate), as the records guard is (records/retention.py).
"""

from typing import Any

TABLES = ["audit_auditevent", "audit_auditseal", "audit_auditcheckpoint"]
GUARD_MIGRATION = ("audit", "0003_keyed_sealed_log")

SQLITE_TABLE = {
    "{table}_no_update": """CREATE TRIGGER IF NOT EXISTS {table}_no_update BEFORE UPDATE ON {table}
       BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;""",
    # audit_flush_allowed() is registered on the app's own connections (audit.apps); a shell
    # without it cannot delete at all.
    "{table}_no_delete": """CREATE TRIGGER IF NOT EXISTS {table}_no_delete BEFORE DELETE ON {table}
       WHEN NOT audit_flush_allowed()
       BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;""",
}


def sqlite_statements(tables: list[str] = TABLES) -> list[str]:
    return [
        statement.format(table=table) for table in tables for statement in SQLITE_TABLE.values()
    ]


def sqlite_missing(connection: Any) -> list[str]:
    """The guard's SQLite triggers that are not in the database."""
    wanted = [name.format(table=table) for table in TABLES for name in SQLITE_TABLE]
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        present = {row[0] for row in cursor.fetchall()}
    return [name for name in wanted if name not in present]


def ensure_guard(using: str = "default", **kwargs: object) -> None:
    """Put back the guard's triggers that a table rebuild dropped (post_migrate, SQLite only;
    nothing to do before migration 0003 is in)."""
    from django.db import connections
    from django.db.migrations.recorder import MigrationRecorder

    connection = connections[using]
    if connection.vendor != "sqlite":
        return
    if GUARD_MIGRATION not in MigrationRecorder(connection).applied_migrations():
        return
    if sqlite_missing(connection):
        with connection.cursor() as cursor:
            for statement in sqlite_statements():
                cursor.execute(statement)
