"""Take again the tasks whose worker died, queue what committed changes are missing, purge old
finished rows; and make sure the periodic reconciler is queued (bin/serve runs this at start)."""

from typing import Any

from django.core.management.base import BaseCommand

from opiniondesk.desk.reconcile import reconcile_now, schedule_next


class Command(BaseCommand):
    help = "Reconcile the task queue: stuck tasks, missing reminders and charges, old rows."

    def handle(self, *args: Any, **options: Any) -> None:
        done = reconcile_now()
        schedule_next()
        self.stdout.write(
            f"Tasks taken again: {done.requeued}; reminders queued: {done.reminders}; "
            f"charge sends queued: {done.charges}; finished rows purged: {done.purged}."
        )
