"""The periodic sweep of the upload spool, and of stored files no document points to: it runs
every few hours and enqueues its next run.

`manage.py sweep_uploads --schedule` (bin/serve runs it at start) sweeps at once and makes sure
one future run is queued; each run queues the next, so exactly one is pending at any time unless
a worker died mid-run (the next start queues it again).
"""

from datetime import timedelta

from django.tasks import task
from django.utils import timezone

from opiniondesk.core.tasks import in_database_queue, queue_once

SWEEP_EVERY = timedelta(hours=6)
TASK_PATH = "opiniondesk.documents.tasks.sweep_upload_spool"


def schedule_sweep(*, delay: timedelta = SWEEP_EVERY) -> bool:
    """Queue the next sweep unless one is already waiting; True if one was queued."""
    if not in_database_queue(sweep_upload_spool):
        return False
    return queue_once(sweep_upload_spool, run_after=timezone.now() + delay)


@task()
def sweep_upload_spool() -> int:
    from opiniondesk.documents.uploads import remove_orphan_files, remove_stale_upload_files

    removed = remove_stale_upload_files()
    # Also the stored files that no document points to (a process killed mid-upload).
    removed += remove_orphan_files()
    schedule_sweep()
    return removed
