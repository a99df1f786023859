from django.apps import AppConfig


def _register_sqlite_guard(sender, connection, **kwargs):  # type: ignore[no-untyped-def]
    """The SQLite DELETE triggers ask audit_flush_allowed(): only the test runner's flush (the
    AUDIT_ALLOW_FLUSH setting) may empty the audit tables."""
    if connection.vendor != "sqlite":
        return
    from django.conf import settings

    connection.connection.create_function(
        "audit_flush_allowed", 0, lambda: int(getattr(settings, "AUDIT_ALLOW_FLUSH", False))
    )


class AuditConfig(AppConfig):
    name = "opiniondesk.audit"
    label = "audit"
    verbose_name = "Audit log"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        connection_created.connect(_register_sqlite_guard, dispatch_uid="audit_sqlite_guard")

        from django.db.models.signals import post_migrate

        from opiniondesk.audit.guard import ensure_guard

        post_migrate.connect(ensure_guard, sender=self, dispatch_uid="audit-ensure-guard")
