"""Issue #14: keyed events without a global lock, sealed in a chain with signed checkpoints.

Existing events are keyed once, here, after their old unkeyed chain is checked: an upgrade needs
the MAC key (AUDIT_MAC_KEY_FILE) when the log is not empty. The guards in the database now refuse
UPDATE, DELETE and (PostgreSQL) TRUNCATE on the event, seal and checkpoint tables; the test
runner's flush passes only where the database or connection allows it (opiniondesk.audit_flush).
"""

import django.db.models.deletion
from django.db import migrations, models

from opiniondesk.audit.guard import TABLES, sqlite_statements

POSTGRES_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'TRUNCATE')
       AND coalesce(current_setting('opiniondesk.audit_flush', true), '') = 'on' THEN
        IF TG_LEVEL = 'ROW' THEN RETURN OLD; END IF;
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'the audit log is append-only';
END;
$$ LANGUAGE plpgsql;
"""
POSTGRES_TABLE = """
CREATE TRIGGER {table}_no_update BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
"""


def drop_old_guard(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute("DROP TRIGGER IF EXISTS audit_event_no_update ON audit_auditevent;")
        schema_editor.execute("DROP FUNCTION IF EXISTS audit_event_append_only();")
    elif vendor == "sqlite":
        schema_editor.execute("DROP TRIGGER IF EXISTS audit_event_no_update;")


def key_existing_events(apps, schema_editor):
    from opiniondesk.audit.chain import GENESIS, event_mac, legacy_event_hash
    from opiniondesk.audit.keys import mac_key
    from opiniondesk.audit.models import keyed_fields

    AuditEvent = apps.get_model("audit", "AuditEvent")
    events = AuditEvent.objects.order_by("sequence")
    if not events.exists():
        return
    key = mac_key()
    prev, expected = GENESIS, 1
    for event in events.iterator(chunk_size=2000):
        legacy = {
            "sequence": event.sequence,
            "at": event.at.isoformat(),
            "user_id": event.user_id,
            "username": event.username,
            "action": event.action,
            "case_id": event.case_id,
            "object_type": event.object_type,
            "object_id": event.object_id,
            "source_address": event.source_address,
            "detail": event.detail,
        }
        if (
            event.sequence != expected
            or event.prev_hash != prev
            or legacy_event_hash(prev, legacy) != event.hash
        ):
            raise RuntimeError(
                f"The audit log is broken at event {expected}; it is not keyed as it stands."
            )
        fields = keyed_fields(
            event.at,
            event.user_id,
            event.username,
            event.action,
            event.case_id,
            event.object_type,
            event.object_id,
            event.source_address,
            event.detail,
            nonce := f"legacy-{event.sequence}",
        )
        AuditEvent.objects.filter(pk=event.pk).update(nonce=nonce, mac=event_mac(key, fields))
        prev, expected = event.hash, expected + 1


def create_guard(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_FUNCTION)
        for table in TABLES:
            schema_editor.execute(POSTGRES_TABLE.format(table=table))
    elif vendor == "sqlite":
        for statement in sqlite_statements(TABLES):
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_append_only_triggers")]

    operations = [
        migrations.RunPython(drop_old_guard, migrations.RunPython.noop),
        migrations.AddField(
            model_name="auditevent",
            name="nonce",
            field=models.CharField(default="", max_length=32),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="auditevent",
            name="mac",
            field=models.CharField(max_length=64, null=True),
        ),
        migrations.RunPython(key_existing_events, migrations.RunPython.noop, elidable=False),
        migrations.RemoveField(model_name="auditevent", name="sequence"),
        migrations.RemoveField(model_name="auditevent", name="prev_hash"),
        migrations.RemoveField(model_name="auditevent", name="hash"),
        migrations.DeleteModel(name="AuditChainHead"),
        migrations.RenameField(model_name="auditevent", old_name="id", new_name="sequence"),
        migrations.AlterField(
            model_name="auditevent",
            name="sequence",
            field=models.BigAutoField(primary_key=True, serialize=False, verbose_name="sequence"),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="mac",
            field=models.CharField(max_length=64, unique=True),
        ),
        migrations.CreateModel(
            name="AuditCheckpoint",
            fields=[
                ("number", models.PositiveBigIntegerField(primary_key=True, serialize=False)),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("checkpoint", "checkpoint"),
                            ("restore", "acknowledged restore"),
                        ],
                        max_length=12,
                    ),
                ),
                ("last_position", models.PositiveBigIntegerField()),
                ("last_sequence", models.PositiveBigIntegerField()),
                ("sealed_through", models.PositiveBigIntegerField()),
                ("head_hash", models.CharField(max_length=64)),
                ("created_at", models.DateTimeField()),
                ("body", models.TextField()),
                ("signature", models.CharField(max_length=128)),
            ],
        ),
        migrations.CreateModel(
            name="AuditVerification",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("checkpoint_number", models.PositiveBigIntegerField()),
                ("verified_at", models.DateTimeField()),
                ("full", models.BooleanField(default=False)),
            ],
        ),
        migrations.CreateModel(
            name="AuditSeal",
            fields=[
                ("position", models.PositiveBigIntegerField(primary_key=True, serialize=False)),
                ("chain_hash", models.CharField(max_length=64)),
                (
                    "event",
                    models.OneToOneField(
                        db_column="event_sequence",
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="seal",
                        to="audit.auditevent",
                    ),
                ),
            ],
        ),
        migrations.RunPython(create_guard, migrations.RunPython.noop),
    ]
