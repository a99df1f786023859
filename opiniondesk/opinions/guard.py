"""A signed opinion version never changes: in SQLite a trigger refuses an UPDATE of a signed row
(migration 0002; since 0003 its deletion is the records guard's to refuse). PostgreSQL's trigger
survives an ALTER TABLE; SQLite drops this one when a migration rebuilds the table, so it is put
back after every migration (`ensure_guard`, post_migrate; core/sqlite_triggers.py).
"""

from opiniondesk.core.sqlite_triggers import put_back

GUARD_MIGRATION = ("opinions", "0002_signed_version_trigger")
SQLITE_TRIGGERS = {
    "opinions_signed_version_no_update": """CREATE TRIGGER IF NOT EXISTS
    opinions_signed_version_no_update
    BEFORE UPDATE ON opinions_opinionversion WHEN OLD.state = 'signed'
    BEGIN SELECT RAISE(ABORT, 'a signed opinion version never changes'); END""",
}


def ensure_guard(using: str = "default", **kwargs: object) -> None:
    put_back(using, GUARD_MIGRATION, SQLITE_TRIGGERS)
