"""`/healthz`: is this worker able to serve, and is the task queue moving?

Each part answers "ok" or "fail" and nothing else of what went wrong: the answer is public (a load
balancer or a monitor asks without signing in), so error texts, host names and versions stay in
the log (one warning line per failed part). It is never cached, reads and writes no session and
sets no cookie, and costs a few milliseconds (README "What to monitor", docs/deploy.md):

- database: one `SELECT 1` on the connection the worker already has;
- cache: a set and a get of this process's own key (the rate limits depend on the cache);
- storage: an existence check of an object that is never written — a HEAD request to the bucket
  with the app's credentials, or a stat of the media directory, which must also be writable. A
  write, read and delete of a probe object every few seconds from every worker would cost three
  requests each time (billed ones, and a versioned bucket keeps a delete marker each time) or
  a synced write to the disk, for what the upload path reports anyway;
- tasks: the due READY tasks and the RUNNING ones of the database queue, and how long the oldest
  due one has waited. Too many, or waiting longer than HEALTHZ_TASK_MAX_AGE_SECONDS, means no
  worker is taking them.

`/healthz/web` checks only what a web worker itself needs (database, cache, storage): a load
balancer should take a web worker out of rotation for that, not because the task workers stopped.
"""

import logging
import os
import secrets
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.files.storage import FileSystemStorage, default_storage
from django.db import connection
from django.db.models import Count, Min, Q
from django.http import HttpRequest, JsonResponse
from django.tasks import TaskResultStatus, task_backends
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

logger = logging.getLogger(__name__)

# Never written: its absence is the expected answer of the store.
STORAGE_PROBE = "healthz-probe-never-written"
# This process's own cache key, so that two workers never read each other's value.
_CACHE_KEY = f"healthz:{secrets.token_hex(8)}"

Result = dict[str, Any]


def check_database() -> Result:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        if cursor.fetchone() != (1,):
            raise RuntimeError("SELECT 1 answered something else")
    return {}


def check_cache() -> Result:
    value = secrets.token_hex(8)
    cache.set(_CACHE_KEY, value, timeout=60)
    if cache.get(_CACHE_KEY) != value:
        raise RuntimeError("the cache did not give back what was set")
    return {}


def check_storage() -> Result:
    default_storage.exists(STORAGE_PROBE)  # raises when the store cannot be reached or refuses
    if isinstance(default_storage, FileSystemStorage):
        # A missing file's stat succeeds in a missing or read-only directory too.
        location = default_storage.location
        if not (os.path.isdir(location) and os.access(location, os.W_OK)):
            raise RuntimeError("the media directory is missing or not writable")
    return {}


def task_backlog(now: datetime) -> Result:
    """Counts and the oldest due task's wait, in one query on the queue's table."""
    from django_tasks_db.models import DBTaskResult, get_date_max

    ready = Q(status=TaskResultStatus.READY)
    # A task enqueued without a time has run_after at the largest date: it waits since it was
    # enqueued; a deferred one since its time came.
    immediate = ready & Q(run_after=get_date_max())
    due_deferred = ready & Q(run_after__lte=now)
    found = DBTaskResult.objects.filter(
        status__in=[TaskResultStatus.READY, TaskResultStatus.RUNNING]
    ).aggregate(
        ready=Count("pk", filter=immediate | due_deferred),
        running=Count("pk", filter=Q(status=TaskResultStatus.RUNNING)),
        enqueued=Min("enqueued_at", filter=immediate),
        due=Min("run_after", filter=due_deferred),
    )
    waiting_since = min((t for t in (found["enqueued"], found["due"]) if t), default=None)
    oldest = max(0, round((now - waiting_since).total_seconds())) if waiting_since else 0
    return {"ready": found["ready"], "running": found["running"], "oldest_ready_seconds": oldest}


def check_tasks() -> Result:
    from django_tasks_db.backend import DatabaseBackend

    if not isinstance(task_backends["default"], DatabaseBackend):
        return {}  # the immediate backend (tests, some demos) has no queue to fall behind
    backlog = task_backlog(timezone.now())
    backlog["ok"] = (
        backlog["oldest_ready_seconds"] <= settings.HEALTHZ_TASK_MAX_AGE_SECONDS
        and backlog["ready"] <= settings.HEALTHZ_TASK_MAX_READY
    )
    return backlog


CHECKS: dict[str, Callable[[], Result]] = {
    "database": check_database,
    "cache": check_cache,
    "storage": check_storage,
    "tasks": check_tasks,
}
WEB = ("database", "cache", "storage")


def run_checks(names: tuple[str, ...]) -> tuple[bool, dict[str, Result]]:
    results: dict[str, Result] = {}
    for name in names:
        if name == "tasks" and results.get("database", {}).get("status") == "fail":
            results[name] = {"status": "fail"}  # no database, no queue: not asked twice
            continue
        started = time.perf_counter()
        try:
            details = CHECKS[name]()
        except Exception:
            # The reason goes to the log only: the answer is public.
            logger.warning("Health check failed: %s", name, exc_info=True)
            details = {"ok": False}
        ok = details.pop("ok", True)
        if not ok and name == "tasks":
            logger.warning("Health check failed: the task backlog %s", details)
        results[name] = {
            "status": "ok" if ok else "fail",
            "ms": round((time.perf_counter() - started) * 1000, 1),
            **details,
        }
    return all(r["status"] == "ok" for r in results.values()), results


def _answer(names: tuple[str, ...]) -> JsonResponse:
    healthy, results = run_checks(names)
    return JsonResponse(
        {"status": "ok" if healthy else "fail", "checks": results},
        status=200 if healthy else 503,
    )


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    return _answer(tuple(CHECKS))


@never_cache
@require_safe
def healthz_web(request: HttpRequest) -> JsonResponse:
    return _answer(WEB)
