"""The sealer as a periodic task: it seals, then enqueues its next run AUDIT_SEAL_EVERY seconds
later (the worker `make run` starts runs it). Exactly one run waits at any time: every start of
the site runs `seal_audit_log --schedule`, which must not add a second self-repeating sealer."""

from datetime import timedelta

from django.conf import settings
from django.tasks import task
from django.utils import timezone

from opiniondesk.core.tasks import queue_once

TASK_PATH = "opiniondesk.audit.tasks.seal_audit_log"


def schedule_sealer(*, delay: timedelta | None = None) -> bool:
    """Queue the sealer's next run unless one is already waiting; True if one was queued."""
    if not seal_audit_log.get_backend().supports_defer:
        return False
    if delay is None:
        delay = timedelta(seconds=settings.AUDIT_SEAL_EVERY)
    return queue_once(seal_audit_log, run_after=timezone.now() + delay)


@task()
def seal_audit_log() -> int:
    from opiniondesk.audit.sealer import seal

    try:
        return seal().events
    finally:
        schedule_sealer()
