"""The card charge runs as a task enqueued in the consult's transaction. Thin: the service does
the work and is safe to run any number of times (the try's idempotency key is reused)."""

from datetime import timedelta

from django.tasks import task
from django.utils import timezone

from opiniondesk.core.tasks import enqueue_with_transaction


def enqueue_send(charge_id: int, delay_seconds: int = 0) -> None:
    run_after = timezone.now() + timedelta(seconds=delay_seconds) if delay_seconds else None
    enqueue_with_transaction(send_charge, charge_id, run_after=run_after)


@task()
def send_charge(charge_id: int) -> str:
    from opiniondesk.billing.services import charge_send

    return charge_send(charge_id)


def sends_missing() -> int:
    """For the reconciler: a charge PENDING with no send queued gets one (sending is safe to
    repeat: the try's idempotency key is reused)."""
    from opiniondesk.billing.models import Charge, ChargeState
    from opiniondesk.core.tasks import queued_args

    queued = {a[0] for a in queued_args(send_charge)}
    missing = Charge.objects.filter(state=ChargeState.PENDING).exclude(pk__in=queued)
    ids = list(missing.values_list("pk", flat=True))
    for charge_id in ids:
        enqueue_with_transaction(send_charge, charge_id)
    return len(ids)
