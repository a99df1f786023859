"""Background work for scheduling: holds that run out, and the reminders of a booking.

Every task is scheduled with `run_after` on the database task queue (the worker `make run` starts)
and checks when it runs that it still applies: a cancelled or moved booking gets no reminder.
"""

from datetime import datetime, time, timedelta

from django.db import IntegrityError, transaction
from django.tasks import task
from django.utils import timezone

from opiniondesk.cases.workflow import BOOKED_STATES
from opiniondesk.core.time import JST
from opiniondesk.scheduling import notifications
from opiniondesk.scheduling.models import Booking, Offer, ReminderKind, ReminderSent

DAY_BEFORE_AT = time(10, 0)  # JST, on the day before the consult
HOUR_BEFORE = timedelta(hours=1)


def reminder_times(starts_at: datetime) -> dict[ReminderKind, datetime]:
    day_before = starts_at.astimezone(JST).date() - timedelta(days=1)
    return {
        ReminderKind.DAY_BEFORE: datetime.combine(day_before, DAY_BEFORE_AT, tzinfo=JST),
        ReminderKind.HOUR_BEFORE: starts_at - HOUR_BEFORE,
    }


def schedule_offer_expiry(offer: Offer) -> None:
    expire_offer.using(run_after=offer.hold_until).enqueue(offer.pk)


def schedule_reminders(booking: Booking, *, confirm: bool = True) -> None:
    """The confirmation now (unless the caller sends its own), then the day before and the hour
    before — each only if that moment is still ahead."""
    now = timezone.now()
    # One transaction: with the database queue, one write instead of three (SQLite has one writer).
    with transaction.atomic():
        if confirm:
            send_reminder.enqueue(booking.pk, ReminderKind.BOOKED.value)
        for kind, at in reminder_times(booking.starts_at).items():
            if at > now:
                send_reminder.using(run_after=at).enqueue(booking.pk, kind.value)


@task()
def expire_offer(offer_id: int) -> None:
    from opiniondesk.scheduling.services import offer_expire

    offer_expire(offer_id=offer_id)


@task()
def send_reminder(booking_id: int, kind: str) -> None:
    booking = Booking.objects.select_related("case").filter(pk=booking_id).first()
    if (
        booking is None
        or booking.cancelled_at is not None
        or booking.case.status not in BOOKED_STATES
        or (kind != ReminderKind.BOOKED and booking.starts_at <= timezone.now())
        # Run late (the worker was down): "tomorrow" would be wrong on the day itself.
        or (
            kind == ReminderKind.DAY_BEFORE
            and timezone.now().astimezone(JST).date() >= booking.starts_at.astimezone(JST).date()
        )
    ):
        return
    try:
        with transaction.atomic():
            ReminderSent.objects.create(booking=booking, kind=kind)
            notifications.booking_reminder(booking.pk, ReminderKind(kind))
    except IntegrityError:  # already sent: a task run twice sends once
        return
