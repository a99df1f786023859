"""These rows are records kept (SPEC §11.16): the records guard refuses to delete them until
the case is released for purging."""

from django.db import migrations

from opiniondesk.records.guard import Guarded, install, remove

TABLES = [Guarded("interop_disclosurerequest", "case_id")]


def forwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    install(schema_editor, TABLES)


def backwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    remove(schema_editor, TABLES)


class Migration(migrations.Migration):
    dependencies = [("interop", "0001_disclosure_requests"), ("records", "0002_guard")]

    operations = [migrations.RunPython(forwards, backwards)]
