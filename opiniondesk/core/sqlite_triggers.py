"""Guards kept in SQLite triggers, put back after every migration.

SQLite drops a table's triggers when a migration rebuilds the table (an ALTER TABLE it cannot do
in place). PostgreSQL's triggers survive an ALTER TABLE, so only SQLite needs this; each guard
connects its own `ensure_guard` to post_migrate and calls `put_back`.
"""

from typing import Any


def missing(connection: Any, names: list[str]) -> list[str]:
    """Which of the named triggers are not in the database."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        present = {row[0] for row in cursor.fetchall()}
    return [name for name in names if name not in present]


def put_back(using: str, migration: tuple[str, str], triggers: dict[str, str]) -> None:
    """Create the triggers (name → CREATE TRIGGER IF NOT EXISTS …) that are missing, on SQLite
    and once the migration that first wrote them is applied (before it they do not belong)."""
    from django.db import connections
    from django.db.migrations.recorder import MigrationRecorder

    connection = connections[using]
    if connection.vendor != "sqlite":
        return
    if migration not in MigrationRecorder(connection).applied_migrations():
        return
    if missing(connection, list(triggers)):
        with connection.cursor() as cursor:
            for statement in triggers.values():
                cursor.execute(statement)
