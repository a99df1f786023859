"""The database refuses to delete a kept row before its case is released for purging, and to
move it to another case (records/guard.py). The tables are written out here, as they were when
this migration was made; a later kept table gets its own migration calling `guard.install`."""

from django.db import migrations

from opiniondesk.records.guard import Guarded, install, remove

TABLES = [
    Guarded("cases_case", "id"),
    Guarded("cases_proxy", "case_id", draft_free=True),
    Guarded("cases_casetransition", "case_id"),
    Guarded("records_caserevision", "case_id"),
    Guarded("records_legalhold", "case_id"),
    Guarded("documents_document", "case_id"),
    Guarded("consults_reviewsession", "case_id"),
    Guarded("consults_consult", "case_id"),
    Guarded("consults_consultevent", "consult_id", via_table="consults_consult"),
    Guarded("consults_chatmessage", "consult_id", via_table="consults_consult"),
    Guarded("billing_charge", "case_id"),
    Guarded("billing_refund", "charge_id", via_table="billing_charge"),
    Guarded("billing_receipt", "charge_id", via_table="billing_charge"),
]


def forwards(apps, schema_editor):
    install(schema_editor, TABLES)


def backwards(apps, schema_editor):
    remove(schema_editor, TABLES)


class Migration(migrations.Migration):
    dependencies = [
        ("records", "0001_initial"),
        ("cases", "0006_remove_typed_review_time"),
        ("documents", "0002_document_id_type_alter_document_kind"),
        ("consults", "0001_initial"),
        ("billing", "0002_charges_receipts"),
    ]
    operations = [migrations.RunPython(forwards, backwards)]
