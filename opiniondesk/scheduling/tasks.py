"""Background work for scheduling: holds that run out, and the reminders of a booking.

Every task is scheduled with `run_after` on the database task queue (the worker `make run` starts)
and checks when it runs that it still applies: a cancelled or moved booking gets no reminder.
"""

from datetime import datetime, time, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.tasks import task
from django.utils import timezone

from opiniondesk.cases.workflow import BOOKED_STATES
from opiniondesk.core.tasks import enqueue_with_transaction
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
    enqueue_with_transaction(expire_offer, offer.pk, run_after=offer.hold_until)


def schedule_reminders(booking: Booking, *, confirm: bool = True) -> None:
    """The confirmation now (unless the caller sends its own), then the day before and the hour
    before — each only if that moment is still ahead."""
    now = timezone.now()
    # One transaction: with the database queue, one write instead of three (SQLite has one writer).
    with transaction.atomic():
        if confirm:
            enqueue_with_transaction(send_reminder, booking.pk, ReminderKind.BOOKED.value)
        for kind, at in reminder_times(booking.starts_at).items():
            if at > now:
                enqueue_with_transaction(send_reminder, booking.pk, kind.value, run_after=at)


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


def reminders_missing() -> int:
    """For the reconciler: a live booking whose reminder is neither sent nor queued (the commit
    that booked it happened before the queue row could, or the row was lost) gets it now. A
    reminder whose task ran and decided not to send (its row kept TASK_RESULT_DAYS) is left alone,
    and so is one whose moment is past. The confirmation is owed only by a booking that does not
    replace another (a change sends its own notice) and only while it is recent."""
    from opiniondesk.core.tasks import queued_args

    now = timezone.now()
    recent = now - timedelta(days=settings.TASK_RESULT_DAYS)
    known = {(a[0], a[1]) for a in queued_args(send_reminder, finished_too=True)}
    sent = set(ReminderSent.objects.values_list("booking_id", "kind"))
    bookings = Booking.objects.filter(
        cancelled_at__isnull=True, case__status__in=BOOKED_STATES, starts_at__gt=now
    )
    enqueued = 0
    with transaction.atomic():
        for booking in bookings:
            wanted: dict[str, datetime | None] = {
                kind.value: at for kind, at in reminder_times(booking.starts_at).items() if at > now
            }
            if booking.replaces_id is None and booking.booked_at >= recent:
                wanted[ReminderKind.BOOKED.value] = None
            for kind, at in wanted.items():
                if (booking.pk, kind) in known or (booking.pk, kind) in sent:
                    continue
                enqueue_with_transaction(send_reminder, booking.pk, kind, run_after=at)
                enqueued += 1
    return enqueued
