"""The card charge runs as a task after the consult's commit. Thin: the service does the work
and is safe to run any number of times (the try's idempotency key is reused)."""

from datetime import timedelta

from django.tasks import task
from django.utils import timezone


def enqueue_send(charge_id: int, delay_seconds: int = 0) -> None:
    if delay_seconds:
        send_charge.using(run_after=timezone.now() + timedelta(seconds=delay_seconds)).enqueue(
            charge_id
        )
    else:
        send_charge.enqueue(charge_id)


@task()
def send_charge(charge_id: int) -> str:
    from opiniondesk.billing.services import charge_send

    return charge_send(charge_id)
