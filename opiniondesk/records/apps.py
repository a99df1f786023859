from django.apps import AppConfig


class RecordsConfig(AppConfig):
    name = "opiniondesk.records"
    label = "records"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created
        from django.db.models.signals import post_migrate

        from opiniondesk.records.guard import register_sqlite_function
        from opiniondesk.records.retention import ensure_guard

        connection_created.connect(register_sqlite_function, dispatch_uid="records-guard")
        post_migrate.connect(ensure_guard, sender=self, dispatch_uid="records-ensure-guard")
