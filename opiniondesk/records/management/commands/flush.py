"""Django's `flush`, with the records guard lifted on SQLite for its own statements (see
records/guard.py): emptying the whole database is a different act from deleting a case's rows,
and PostgreSQL's TRUNCATE fires no row trigger either."""

from typing import Any

from django.core.management.commands import flush

from opiniondesk.records.guard import whole_database_flush


class Command(flush.Command):
    def handle(self, **options: Any) -> None:
        with whole_database_flush():
            super().handle(**options)
