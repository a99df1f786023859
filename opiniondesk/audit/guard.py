"""The audit log's append-only guard in SQLite (migration 0003 writes it; PostgreSQL's lives in
its own functions and triggers, which no ALTER TABLE drops).

SQLite rebuilds a table, and drops its triggers, when a migration alters it in a way SQLite
cannot do in place. The guard is therefore put back after every migration (`ensure_guard`,
connected to post_migrate), as the records guard is (records/retention.py) and the
signed opinion version's (opinions/guard.py); see core/sqlite_triggers.py.
"""

from typing import Any

from opiniondesk.core.sqlite_triggers import missing, put_back

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


def sqlite_triggers(tables: list[str] = TABLES) -> dict[str, str]:
    return {
        name.format(table=table): statement.format(table=table)
        for table in tables
        for name, statement in SQLITE_TABLE.items()
    }


def sqlite_statements(tables: list[str] = TABLES) -> list[str]:
    return list(sqlite_triggers(tables).values())


def sqlite_missing(connection: Any) -> list[str]:
    """The guard's SQLite triggers that are not in the database."""
    return missing(connection, list(sqlite_triggers()))


def ensure_guard(using: str = "default", **kwargs: object) -> None:
    """Put back the guard's triggers that a table rebuild dropped (post_migrate, SQLite only;
    nothing to do before migration 0003 is in)."""
    put_back(using, GUARD_MIGRATION, sqlite_triggers())
