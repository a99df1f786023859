"""Mark the IDs already sent and not yet checked (documents' identity_check_pending)."""

from django.db import migrations


def pending_from_reviews(apps, schema_editor):
    Document = apps.get_model("documents", "Document")
    Document.objects.filter(kind="patient_id", identity_review__isnull=True).update(
        identity_check_pending=True
    )


class Migration(migrations.Migration):
    dependencies = [
        ("documents", "0004_identity_check_pending"),
        ("readiness", "0003_patient_privacy_acceptance"),
    ]

    operations = [migrations.RunPython(pending_from_reviews, migrations.RunPython.noop)]
