# ruff: noqa: F811 (fixtures imported from test_tasks)
"""No task a committed change must cause is lost (SPEC §11.13): tasks are queued in the change's
transaction, the reconciler queues what is missing, takes again what a dead worker left RUNNING
and purges old finished rows; a reminder is sent once however often it is queued."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from opiniondesk.core.mail import send_email
from opiniondesk.core.tasks import enqueue_with_transaction
from opiniondesk.desk.reconcile import reconcile_now, schedule_next
from opiniondesk.scheduling.models import ReminderSent
from opiniondesk.scheduling.services import booking_create
from opiniondesk.scheduling.tasks import send_reminder
from opiniondesk.scheduling.tests.factories import held
from opiniondesk.scheduling.tests.test_tasks import (  # noqa: F401 (fixtures)
    booked,
    clock,
    deliver,
    offered,
    reminder_rows,
)

pytestmark = pytest.mark.django_db


def test_a_booking_queues_its_reminders_in_its_own_transaction(offered, patient_hana):
    """No after-commit callback is needed: the rows exist as soon as the booking does."""
    case, offer = offered
    booking = booking_create(case_id=case.pk, actor=patient_hana, offered_slot_id=held(offer)[0].pk)
    assert sorted(r.args_kwargs["args"][1] for r in reminder_rows(booking)) == [
        "booked",
        "day_before",
        "hour_before",
    ]


def test_a_rolled_back_change_leaves_no_task():
    with pytest.raises(RuntimeError), transaction.atomic():
        enqueue_with_transaction(send_email, {"subject": "x"}, 1)
        raise RuntimeError
    assert not DBTaskResult.objects.exists()


def test_the_reconciler_queues_lost_reminders_once(booked, deliver):
    booking, _mails = booked
    lost = DBTaskResult.objects.filter(
        status=TaskResultStatus.READY, task_path=send_reminder.module_path
    )
    assert lost.count() == 2  # the day before and the hour before
    lost.delete()
    assert reconcile_now().reminders == 2
    assert reconcile_now().reminders == 0
    kinds = [r.args_kwargs["args"][1] for r in reminder_rows(booking) if r.status == "READY"]
    assert sorted(kinds) == ["day_before", "hour_before"]
    # The confirmation went out already: it is not queued again.
    assert list(ReminderSent.objects.values_list("kind", flat=True)) == ["booked"]


def test_a_reminder_queued_twice_is_sent_once(booked, clock, deliver):
    booking, _mails = booked
    enqueue_with_transaction(send_reminder, booking.pk, "hour_before")  # a duplicate row
    clock.move_to(booking.starts_at - timedelta(minutes=59), tick=True)
    mails = deliver()
    assert mails
    assert ReminderSent.objects.filter(booking=booking, kind="hour_before").count() == 1
    assert len(mails) == len({m["To"] for m in mails})  # one mail per recipient, not two


def _row(status: str, **fields) -> DBTaskResult:
    return DBTaskResult.objects.create(
        status=status,
        args_kwargs={"args": [{"subject": "secret link"}, 1], "kwargs": {}},
        task_path=send_email.module_path,
        queue_name="email",
        backend_name="default",
        run_after=timezone.now(),
        **fields,
    )


def test_a_task_running_past_the_timeout_is_taken_again(settings):
    settings.TASK_RUNNING_TIMEOUT_MINUTES = 10
    now = timezone.now()
    dead = _row("RUNNING", started_at=now - timedelta(minutes=11))
    alive = _row("RUNNING", started_at=now - timedelta(minutes=2))
    assert reconcile_now().requeued == 1
    dead.refresh_from_db()
    alive.refresh_from_db()
    assert (dead.status, dead.started_at) == ("READY", None)
    assert alive.status == "RUNNING"


def test_finished_rows_are_purged_after_the_setting(settings):
    settings.TASK_RESULT_DAYS = 7
    now = timezone.now()
    old = _row("SUCCESSFUL", finished_at=now - timedelta(days=8))
    failed = _row("FAILED", finished_at=now - timedelta(days=8))
    recent = _row("SUCCESSFUL", finished_at=now - timedelta(days=6))
    ready = _row("READY")
    assert reconcile_now().purged == 2
    left = set(DBTaskResult.objects.values_list("pk", flat=True))
    assert left == {recent.pk, ready.pk}
    assert old.pk not in left and failed.pk not in left


def test_the_periodic_run_is_queued_once():
    schedule_next()
    schedule_next()
    assert (
        DBTaskResult.objects.filter(task_path="opiniondesk.desk.reconcile.reconcile").count() == 1
    )
