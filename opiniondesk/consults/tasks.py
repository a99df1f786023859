"""The server ends a call at its time limit even when no page is open to do it (the pages' own
timers usually get there first). Thin: load by id, check again, call the service."""

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.tasks import task

from opiniondesk.consults.errors import ConsultError
from opiniondesk.consults.models import Consult, EndReason
from opiniondesk.core.tasks import enqueue_with_transaction


def group_name(consult_id: int) -> str:
    """Both sides' connections of a consult."""
    return f"consult.{consult_id}"


def schedule_limit(consult: Consult) -> None:
    if consult.limit_at is not None:
        enqueue_with_transaction(end_at_limit, consult.pk, run_after=consult.limit_at)


def tell_both_sides(consult_id: int) -> None:
    """Ask every open page of the consult to reload its state (across server processes when the
    channel layer is Redis; within this process otherwise)."""
    async_to_sync(get_channel_layer().group_send)(group_name(consult_id), {"type": "refresh"})


@task()
def end_at_limit(consult_id: int) -> None:
    from opiniondesk.consults.services import call_end

    try:
        consult = call_end(consult_id=consult_id, user=None, reason=EndReason.LIMIT)
    except ConsultError:  # run early (a clock ahead of the database's): try again at the limit
        consult = Consult.objects.get(pk=consult_id)
        schedule_limit(consult)
        return
    tell_both_sides(consult.pk)
