"""The sealer as a periodic task: it seals, then enqueues itself again AUDIT_SEAL_EVERY seconds
later (the worker `make run` starts runs it)."""

from datetime import timedelta

from django.conf import settings
from django.tasks import task
from django.utils import timezone


@task()
def seal_audit_log() -> int:
    from opiniondesk.audit.sealer import seal

    try:
        return seal().events
    finally:
        if seal_audit_log.get_backend().supports_defer:
            seal_audit_log.using(
                run_after=timezone.now() + timedelta(seconds=settings.AUDIT_SEAL_EVERY)
            ).enqueue()
