"""Nothing a committed change must cause is lost when a process dies (SPEC §11.13), with real
processes killed by SIGKILL on PostgreSQL:

- the server right after a booking commits (before its answer and before any on_commit work):
  after the restart the confirmation goes out once and the two reminders are queued once;
- the task worker in the middle of sending a mail to an SMTP server that never answers: the task
  is left RUNNING, the restart's reconciler takes it again and the mail goes out (at least once:
  a mail cut mid-send may be sent twice, never not at all).
"""

import email
import email.policy
import re
import signal
import socket
import threading
import time
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from aiosmtpd.controller import Controller
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.tasks import TaskResultStatus
from django.test import Client
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from opiniondesk.core.mail import queue_email, send_email
from opiniondesk.core.time import jst_today
from opiniondesk.scheduling.models import Booking, OfferedSlot, ReminderKind, ReminderSent
from opiniondesk.scheduling.services import offer_create
from opiniondesk.scheduling.tasks import send_reminder
from opiniondesk.scheduling.tests import factories
from opiniondesk.testing.browser import free_port
from opiniondesk.testing.processes import manage, site_env, start_server, stop, wait_until_up

pytestmark = [pytest.mark.postgresql, pytest.mark.django_db(transaction=True)]


class Inbox:
    """An SMTP server (aiosmtpd) that keeps what it receives."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(
            email.message_from_bytes(envelope.content, policy=email.policy.default)
        )
        return "250 OK"


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    handler, port = Inbox(), free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield handler, port
    controller.stop()


@pytest.fixture
def silent_smtp() -> Iterator[list[socket.socket]]:
    """A server that accepts SMTP connections and never says a word (not even its greeting)."""
    listener = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    yield accepted, listener.getsockname()[1]
    listener.close()
    for conn in accepted:
        conn.close()


def wait_for(condition, what: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def run(*args: str, env: dict[str, str]) -> None:
    process = manage(*args, env=env)
    assert process.wait(300) == 0, f"manage.py {' '.join(args)} failed"


def restart_and_work(env: dict[str, str]) -> None:
    """What bin/serve does at start (the reconciler), then a worker that runs what is due."""
    run("reconcile_tasks", env=env)
    run("db_worker", "--queue-name", "*", "--batch", "--no-startup-delay", env=env)


def rows(task, *args) -> list[DBTaskResult]:
    return [
        row
        for row in DBTaskResult.objects.filter(task_path=task.module_path)
        if list(row.args_kwargs["args"][: len(args)]) == list(args)
    ]


def test_a_server_killed_right_after_a_booking_commits_loses_no_mail_or_reminder(
    patient_hana, coordinator_sato, dr_tanaka, inbox, static_root
):
    handler, smtp_port = inbox
    case = factories.accepted_case(patient_hana, coordinator=coordinator_sato, specialist=dr_tanaka)
    # A week ahead: the deadlines hold whatever the hour the test runs at.
    slots = factories.free_slots(case, today=jst_today() + timedelta(days=7), limit=2)
    offer_create(
        case_id=case.pk,
        actor=coordinator_sato,
        slots=[(s.specialist_id, s.starts_at) for s in slots],
        hold_until=factories.hold_until_for(slots),
    )
    slot = OfferedSlot.objects.filter(offer__case=case).order_by("starts_at").first()
    env = site_env(EMAIL_HOST="127.0.0.1", EMAIL_PORT=str(smtp_port), STATIC_ROOT=str(static_root))

    server, url = start_server(
        env | {"KILL_AFTER_COMMIT_OF": "scheduling.Booking"},
        app="opiniondesk.testing.kill_after_commit:application",
    )
    try:
        wait_until_up(server, url)
        browser = Client()
        browser.force_login(patient_hana)
        cookies = {
            settings.SESSION_COOKIE_NAME: browser.cookies[settings.SESSION_COOKIE_NAME].value
        }
        with httpx.Client(base_url=url, cookies=cookies, timeout=30) as hana:
            page = hana.get(reverse("case-detail", args=[case.pk]))
            assert page.status_code == 200
            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
            assert token, "the case page has no form"
            with pytest.raises(httpx.TransportError):  # the process died before answering
                hana.post(
                    reverse("case-book", args=[case.pk]),
                    data={"csrfmiddlewaretoken": token[1], "slot": slot.pk},
                )
        assert server.wait(10) == -signal.SIGKILL
    finally:
        stop(server)

    booking = Booking.objects.get(case=case)  # committed
    for kind in ReminderKind:  # ... and so were its reminders, each once
        assert len(rows(send_reminder, booking.pk, kind.value)) == 1, kind

    restart_and_work(env)

    assert ReminderSent.objects.filter(booking=booking, kind=ReminderKind.BOOKED).count() == 1
    confirmations = [m for m in handler.messages if m.get_content_type() == "multipart/mixed"]
    confirmations = [
        m for m in confirmations if any(p.get_content_type() == "text/calendar" for p in m.walk())
    ]
    assert len(confirmations) == 1
    assert confirmations[0]["To"] == patient_hana.email
    for kind in (ReminderKind.DAY_BEFORE, ReminderKind.HOUR_BEFORE):  # still to come, once
        (row,) = rows(send_reminder, booking.pk, kind.value)
        assert row.status == TaskResultStatus.READY
    # A second restart adds nothing, and nothing is left RUNNING.
    restart_and_work(env)
    assert len(rows(send_reminder)) == len(ReminderKind)
    assert not DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING).exists()


def test_a_worker_killed_mid_send_leaves_the_mail_to_be_sent_again(
    patient_hana, inbox, silent_smtp
):
    handler, smtp_port = inbox
    accepted, silent_port = silent_smtp
    with transaction.atomic():
        queue_email(
            EmailMultiAlternatives(subject="ご予約の確認", body="本文", to=[patient_hana.email])
        )
    (row,) = rows(send_email)

    worker = manage(
        "db_worker",
        "--queue-name",
        "*",
        "--no-startup-delay",
        env=site_env(EMAIL_HOST="127.0.0.1", EMAIL_PORT=str(silent_port)),
    )
    try:
        wait_for(lambda: accepted, "the worker to connect to the SMTP server")
        row.refresh_from_db()
        assert row.status == TaskResultStatus.RUNNING
        worker.send_signal(signal.SIGKILL)
        assert worker.wait(10) == -signal.SIGKILL
    finally:
        stop(worker)
    row.refresh_from_db()
    assert row.status == TaskResultStatus.RUNNING  # its worker is gone: stuck until taken again

    # The restart comes after TASK_RUNNING_TIMEOUT_MINUTES (0 here: at once).
    restart_and_work(
        site_env(
            EMAIL_HOST="127.0.0.1", EMAIL_PORT=str(smtp_port), TASK_RUNNING_TIMEOUT_MINUTES="0"
        )
    )

    row.refresh_from_db()
    assert row.status == TaskResultStatus.SUCCESSFUL
    assert [m["To"] for m in handler.messages] == [patient_hana.email]
    assert "ご予約の確認" in handler.messages[0]["Subject"]
    assert not DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING).exists()
