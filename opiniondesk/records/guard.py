"""The database's own guard over the records kept (SPEC §11.16): triggers, on SQLite and on
PostgreSQL, that refuse to delete a kept row unless its case has been released for purging
(a `records_retentionrelease` row, written by `manage.py retention --purge` after checking the
period and the holds) and is on no active legal hold; and that refuse to move a kept row to
another case (an UPDATE of the column that leads to its case). They hold against raw SQL too.

Not guarded, on purpose: emptying the whole database (`manage.py flush`: TRUNCATE on
PostgreSQL, which fires no row trigger; on SQLite our `flush` command lifts the guard for its
own statements, see `whole_database_flush`), and anyone who drops the triggers themselves.

SQLite rebuilds a table (and drops its triggers) when a migration alters it, so the triggers
are also put back after every migration (`ensure_guard`, connected to post_migrate).
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

REFUSAL = "records kept: rows of a case are kept until it is released for purging"
RELEASES = "records_retentionrelease"
HOLDS = "records_legalhold"
CASES = "cases_case"

_lifted: ContextVar[bool] = ContextVar("records_guard_lifted", default=False)


@dataclass(frozen=True)
class Guarded:
    """One kept table: `link` is its column that leads to the case; through `via_table` (its
    `case_id`) when the row belongs to a row of the case rather than to the case itself."""

    table: str
    link: str
    via_table: str = ""
    # An applicant's draft may still drop these rows (the draft's family members).
    draft_free: bool = False


# The SQL below is built from table and column names written in the code (the migrations and
# the KEPT registry), never from input: hence the S608 exemptions.


def _case_of(guarded: Guarded, row: str) -> str:
    column = f'{row}."{guarded.link}"'
    if guarded.via_table:
        return f'(SELECT v.case_id FROM "{guarded.via_table}" v WHERE v.id = {column})'  # noqa: S608
    return column


def _refused(guarded: Guarded) -> str:
    """When a DELETE of the OLD row is refused: its case is not released, or is on hold."""
    case = _case_of(guarded, "OLD")
    refused = (
        f"(NOT EXISTS (SELECT 1 FROM {RELEASES} r WHERE r.case_id = {case})"  # noqa: S608
        f" OR EXISTS (SELECT 1 FROM {HOLDS} h WHERE h.case_id = {case}"
        " AND h.lifted_at IS NULL))"
    )
    if guarded.draft_free:
        draft = f"EXISTS (SELECT 1 FROM {CASES} c WHERE c.id = {case} AND c.status = 'draft')"  # noqa: S608
        refused = f"(NOT {draft} AND {refused})"
    return refused


def _message(guarded: Guarded) -> str:
    return f"{REFUSAL} ({guarded.table})"


def sqlite_install(guarded: Guarded) -> list[str]:
    keep, link = f"records_keep_{guarded.table}", f"records_link_{guarded.table}"
    return [
        f'CREATE TRIGGER IF NOT EXISTS {keep} BEFORE DELETE ON "{guarded.table}" FOR EACH ROW'
        f" WHEN records_guard_lifted() = 0 AND {_refused(guarded)}"
        f" BEGIN SELECT RAISE(ABORT, '{_message(guarded)}'); END;",
        f'CREATE TRIGGER IF NOT EXISTS {link} BEFORE UPDATE OF "{guarded.link}"'
        f' ON "{guarded.table}" FOR EACH ROW'
        f' WHEN NEW."{guarded.link}" IS NOT OLD."{guarded.link}"'
        f" BEGIN SELECT RAISE(ABORT, '{_message(guarded)}'); END;",
    ]


def sqlite_remove(guarded: Guarded) -> list[str]:
    return [
        f"DROP TRIGGER IF EXISTS records_keep_{guarded.table};",
        f"DROP TRIGGER IF EXISTS records_link_{guarded.table};",
    ]


def postgresql_install(guarded: Guarded) -> list[str]:
    function = f"records_keep_{guarded.table}"
    raise_ = f"RAISE EXCEPTION USING ERRCODE = '23000', MESSAGE = '{_message(guarded)}';"
    return [
        f"""CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF NEW."{guarded.link}" IS DISTINCT FROM OLD."{guarded.link}" THEN {raise_} END IF;
        RETURN NEW;
    END IF;
    IF {_refused(guarded)} THEN {raise_} END IF;
    RETURN OLD;
END;
$$;""",
        f"""CREATE OR REPLACE TRIGGER records_keep BEFORE DELETE OR UPDATE OF "{guarded.link}"
    ON "{guarded.table}" FOR EACH ROW EXECUTE FUNCTION {function}();""",
    ]


def postgresql_remove(guarded: Guarded) -> list[str]:
    return [
        f'DROP TRIGGER IF EXISTS records_keep ON "{guarded.table}";',
        f"DROP FUNCTION IF EXISTS records_keep_{guarded.table}();",
    ]


def install_statements(vendor: str, tables: list[Guarded]) -> list[str]:
    if vendor == "postgresql":
        return [sql for guarded in tables for sql in postgresql_install(guarded)]
    if vendor == "sqlite":
        return [sql for guarded in tables for sql in sqlite_install(guarded)]
    raise NotImplementedError(f"no records guard for {vendor}")


def install(schema_editor: Any, tables: list[Guarded]) -> None:
    for statement in install_statements(schema_editor.connection.vendor, tables):
        schema_editor.execute(statement)


def remove(schema_editor: Any, tables: list[Guarded]) -> None:
    vendor = schema_editor.connection.vendor
    for guarded in tables:
        statements = (
            postgresql_remove(guarded) if vendor == "postgresql" else sqlite_remove(guarded)
        )
        for statement in statements:
            schema_editor.execute(statement)


def installed(connection: Any) -> set[str]:
    """The kept tables whose DELETE guard is in the database now."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
                " WHERE t.tgname = 'records_keep' AND t.tgenabled <> 'D'"
            )
            return {row[0] for row in cursor.fetchall()}
        cursor.execute(
            "SELECT tbl_name FROM sqlite_master WHERE type = 'trigger'"
            " AND name = 'records_keep_' || tbl_name"
        )
        return {row[0] for row in cursor.fetchall()}


def register_sqlite_function(sender: Any, connection: Any, **kwargs: Any) -> None:
    """The SQLite triggers ask `records_guard_lifted()`; a connection without it (the sqlite3
    shell) cannot delete a kept row at all."""
    if connection.vendor == "sqlite":
        connection.connection.create_function(
            "records_guard_lifted", 0, lambda: 1 if _lifted.get() else 0
        )


@contextmanager
def whole_database_flush() -> Iterator[None]:
    """Lift the SQLite guard for this thread while the whole database is emptied (`flush`, as
    the test runner does after each transactional test): PostgreSQL's TRUNCATE is not guarded
    either."""
    token = _lifted.set(True)
    try:
        yield
    finally:
        _lifted.reset(token)
