"""The task reconciler (SPEC §11.13): no task a committed change must cause is lost.

Tasks are enqueued in the transaction of their change (`core.tasks.enqueue_with_transaction`);
this catches the rest, every TASK_RECONCILE_MINUTES (a task that queues its own next run) and at
start (`manage.py reconcile_tasks`, run by bin/serve before the worker):
- a task RUNNING past TASK_RUNNING_TIMEOUT_MINUTES lost its worker: it is made READY again;
- what committed changes should have caused but is not queued: a live booking's reminders, a
  PENDING charge's send;
- finished task rows older than TASK_RESULT_DAYS are deleted.
It lives in desk because it spans scheduling and billing.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.tasks import TaskResultStatus, task
from django.utils import timezone

from opiniondesk.billing.tasks import sends_missing
from opiniondesk.core.tasks import enqueue_with_transaction, purge_finished, requeue_stuck
from opiniondesk.scheduling.tasks import reminders_missing


@dataclass(frozen=True)
class Reconciled:
    requeued: int
    reminders: int
    charges: int
    purged: int


def reconcile_now() -> Reconciled:
    now = timezone.now()
    with transaction.atomic():
        requeued = requeue_stuck(now)
        reminders = reminders_missing()
        charges = sends_missing()
        purged = purge_finished(now)
    return Reconciled(requeued, reminders, charges, purged)


def schedule_next() -> None:
    """Exactly one future run of the reconciler is queued (several starts add none)."""
    from django_tasks_db.models import DBTaskResult

    from opiniondesk.core.tasks import in_database_queue

    if not in_database_queue(reconcile):
        return  # the immediate backend would recurse for ever: no periodic run there
    with transaction.atomic():
        queued = DBTaskResult.objects.filter(
            task_path=reconcile.module_path, status=TaskResultStatus.READY
        )
        if not queued.exists():
            at = timezone.now() + timedelta(minutes=settings.TASK_RECONCILE_MINUTES)
            enqueue_with_transaction(reconcile, run_after=at)


@task()
def reconcile() -> dict[str, int]:
    done = reconcile_now()
    schedule_next()
    return done.__dict__.copy()
