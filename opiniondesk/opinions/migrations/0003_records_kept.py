"""The opinion's rows are records kept (SPEC §11.16): the records guard refuses to delete them
until the case is released for purging. A signed version still never changes (0002), but its
deletion is now the records guard's to decide, so `manage.py retention --purge` can remove an
expired case whole."""

from django.db import migrations

from opiniondesk.records.guard import Guarded, install, remove

TABLES = [
    Guarded("opinions_opinion", "case_id"),
    Guarded("opinions_opinionversion", "opinion_id", via_table="opinions_opinion"),
    Guarded("opinions_opiniondelivery", "case_id"),
    Guarded("opinions_disclosure", "case_id"),
]

SQLITE = ["DROP TRIGGER IF EXISTS opinions_signed_version_no_delete"]
SQLITE_BACK = [
    """CREATE TRIGGER opinions_signed_version_no_delete
    BEFORE DELETE ON opinions_opinionversion WHEN OLD.state = 'signed'
    BEGIN SELECT RAISE(ABORT, 'a signed opinion version is never deleted'); END"""
]
POSTGRESQL = [
    "DROP TRIGGER IF EXISTS opinions_signed_version_frozen ON opinions_opinionversion",
    """CREATE TRIGGER opinions_signed_version_frozen
    BEFORE UPDATE ON opinions_opinionversion
    FOR EACH ROW EXECUTE FUNCTION opinions_signed_version_frozen()""",
]
POSTGRESQL_BACK = [
    "DROP TRIGGER IF EXISTS opinions_signed_version_frozen ON opinions_opinionversion",
    """CREATE TRIGGER opinions_signed_version_frozen
    BEFORE UPDATE OR DELETE ON opinions_opinionversion
    FOR EACH ROW EXECUTE FUNCTION opinions_signed_version_frozen()""",
]


def forwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    vendor = schema_editor.connection.vendor
    for sql in {"sqlite": SQLITE, "postgresql": POSTGRESQL}.get(vendor, []):
        schema_editor.execute(sql)
    install(schema_editor, TABLES)


def backwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    remove(schema_editor, TABLES)
    vendor = schema_editor.connection.vendor
    for sql in {"sqlite": SQLITE_BACK, "postgresql": POSTGRESQL_BACK}.get(vendor, []):
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("opinions", "0002_signed_version_trigger"), ("records", "0002_guard")]

    operations = [migrations.RunPython(forwards, backwards)]
