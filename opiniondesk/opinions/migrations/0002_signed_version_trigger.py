"""A signed version of an opinion never changes, whatever issues the SQL: a trigger refuses an
UPDATE or DELETE of a row whose state is `signed` (SQLite and PostgreSQL)."""

from django.db import migrations

from opiniondesk.opinions.guard import SQLITE_TRIGGERS

SQLITE = [
    *SQLITE_TRIGGERS.values(),  # put back after every migration too (opinions/guard.py)
    """CREATE TRIGGER opinions_signed_version_no_delete
    BEFORE DELETE ON opinions_opinionversion WHEN OLD.state = 'signed'
    BEGIN SELECT RAISE(ABORT, 'a signed opinion version is never deleted'); END""",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS opinions_signed_version_no_update",
    "DROP TRIGGER IF EXISTS opinions_signed_version_no_delete",
]
POSTGRESQL = [
    """CREATE FUNCTION opinions_signed_version_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF OLD.state = 'signed' THEN
            RAISE EXCEPTION 'a signed opinion version never changes (%)', OLD.id
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
        RETURN NEW;
    END $$""",
    """CREATE TRIGGER opinions_signed_version_frozen
    BEFORE UPDATE OR DELETE ON opinions_opinionversion
    FOR EACH ROW EXECUTE FUNCTION opinions_signed_version_frozen()""",
]
POSTGRESQL_DROP = [
    "DROP TRIGGER IF EXISTS opinions_signed_version_frozen ON opinions_opinionversion",
    "DROP FUNCTION IF EXISTS opinions_signed_version_frozen()",
]


def _run(statements: dict[str, list[str]]):  # type: ignore[no-untyped-def]
    def run(apps, schema_editor):  # type: ignore[no-untyped-def]
        for sql in statements.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql, params=None)  # no placeholders: % is plpgsql's own

    return run


class Migration(migrations.Migration):
    dependencies = [("opinions", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE, "postgresql": POSTGRESQL}),
            _run({"sqlite": SQLITE_DROP, "postgresql": POSTGRESQL_DROP}),
        )
    ]
