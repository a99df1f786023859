from typing import Any

from django.apps import AppConfig
from django.db import connections
from django.db.models.signals import post_migrate


def _case_count_triggers(*, using: str, **kwargs: Any) -> None:
    from opiniondesk.cases.state_counts import ensure_triggers

    connection = connections[using]
    if "cases_casestatecount" in connection.introspection.table_names():
        ensure_triggers(connection)


class CasesConfig(AppConfig):
    name = "opiniondesk.cases"
    label = "cases"

    def ready(self) -> None:
        post_migrate.connect(_case_count_triggers, sender=self)
