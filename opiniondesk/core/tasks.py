"""Enqueueing a task so that it is never lost (SPEC §11.13).

With the database queue (`django_tasks_db`), enqueueing is an INSERT: done inside the caller's
transaction, the task row commits or rolls back with the change that causes it, and a server killed
right after the commit still leaves the task behind. `transaction.on_commit` would lose it: the
callback runs in the process, after the commit, and a kill -9 in between drops it.

Other backends (the immediate one, in some settings) would run the task at once, before the
change is committed: there the task is enqueued after the commit, as before.
"""

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.tasks import Task, TaskResultStatus


def in_database_queue(task: Task[Any, Any]) -> bool:
    from django_tasks_db.backend import DatabaseBackend

    return isinstance(task.get_backend(), DatabaseBackend)


def enqueue_with_transaction(
    task: Task[Any, Any], *args: Any, run_after: datetime | None = None, **kwargs: Any
) -> None:
    """Enqueue `task` as part of the current transaction (database queue), or after it commits
    (any other backend). Outside a transaction the task is enqueued at once either way."""
    if run_after is not None:
        task = task.using(run_after=run_after)
    if in_database_queue(task):
        task.enqueue(*args, **kwargs)
    else:
        transaction.on_commit(lambda: task.enqueue(*args, **kwargs))


def queue_once(task: Task[Any, Any], *, run_after: datetime) -> bool:
    """Queue a periodic task's next run unless one already waits (database queue): each run
    queues the next, and every start of the site asks again. True if one was queued."""
    from django_tasks_db.models import DBTaskResult

    waiting = DBTaskResult.objects.filter(task_path=task_path(task), status=TaskResultStatus.READY)
    if in_database_queue(task) and waiting.exists():
        return False
    task.using(run_after=run_after).enqueue()
    return True


# The reconciler's generic half (the domains say what is missing: desk.reconcile).


def task_path(task: Task[Any, Any]) -> str:
    return task.module_path


def queued_args(task: Task[Any, Any], *, finished_too: bool = False) -> list[list[Any]]:
    """The positional arguments of every row of `task` still to run (READY or RUNNING), or of
    every row at all with `finished_too`."""
    from django_tasks_db.models import DBTaskResult

    rows = DBTaskResult.objects.filter(task_path=task_path(task))
    if not finished_too:
        rows = rows.filter(status__in=[TaskResultStatus.READY, TaskResultStatus.RUNNING])
    return [list(r["args"]) for r in rows.values_list("args_kwargs", flat=True)]


def requeue_stuck(now: datetime) -> int:
    """Tasks RUNNING for longer than TASK_RUNNING_TIMEOUT_MINUTES: their worker died (kill -9,
    power loss) — `django_tasks_db` has no heartbeat, so the time since the claim is the only
    sign. They are made READY again and the next worker takes them; every task is safe to run
    twice (a task that really runs that long would run twice: the timeout is far above any of
    ours, which take seconds)."""
    from django_tasks_db.models import DBTaskResult

    cutoff = now - timedelta(minutes=settings.TASK_RUNNING_TIMEOUT_MINUTES)
    stuck = DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING, started_at__lt=cutoff)
    return stuck.update(status=TaskResultStatus.READY, started_at=None)


def purge_finished(now: datetime) -> int:
    """Finished rows (their arguments hold whole e-mails, reset links included) are deleted after
    TASK_RESULT_DAYS."""
    from django_tasks_db.models import DBTaskResult

    cutoff = now - timedelta(days=settings.TASK_RESULT_DAYS)
    finished = DBTaskResult.objects.filter(
        status__in=[TaskResultStatus.SUCCESSFUL, TaskResultStatus.FAILED], finished_at__lt=cutoff
    )
    return finished.delete()[0]
