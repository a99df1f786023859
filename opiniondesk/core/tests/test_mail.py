"""E-mail leaves through the task queue and is retried when the SMTP server is away."""

import socket
from datetime import timedelta

import pytest
import time_machine
from django.core.mail import EmailMultiAlternatives
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from opiniondesk.core.mail import MAX_ATTEMPTS, queue_email

pytestmark = pytest.mark.django_db


def _message():
    message = EmailMultiAlternatives("件名", "本文です。", to=["hana@example.jp"])
    message.attach_alternative("<p>本文です。</p>", "text/html")
    return message


def _closed_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_it_is_queued_in_the_transaction_and_delivered_by_the_worker(
    smtp_inbox, run_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        queue_email(_message())
        # The row is part of the transaction: a kill -9 after the commit cannot lose it.
        assert DBTaskResult.objects.count() == 1
    assert smtp_inbox.messages == []
    run_tasks()
    [received] = smtp_inbox.messages
    assert received["Subject"] == "件名" and received["To"] == "hana@example.jp"
    assert received.get_body(preferencelist=("html",)).get_content().strip() == "<p>本文です。</p>"


def test_it_retries_with_back_off_until_the_server_is_back(
    settings, smtp_inbox, run_tasks, django_capture_on_commit_callbacks
):
    working = settings.MAILERS
    settings.MAILERS = {
        "default": {
            **working["default"],
            "OPTIONS": {**working["default"]["OPTIONS"], "port": _closed_port(), "timeout": 2},
        }
    }
    start = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        queue_email(_message())
    run_tasks()  # attempt 1 fails and schedules attempt 2 a minute later
    assert smtp_inbox.messages == []
    retry = DBTaskResult.objects.order_by("-enqueued_at").first()
    assert retry.args_kwargs["args"][1] == 2
    assert retry.run_after >= start + timedelta(minutes=1)
    run_tasks()  # too early: nothing happens
    assert DBTaskResult.objects.count() == 2
    settings.MAILERS = working
    with time_machine.travel(timezone.now() + timedelta(minutes=2)):
        run_tasks()
    assert len(smtp_inbox.messages) == 1


def test_it_gives_up_after_the_last_attempt(settings, run_tasks):
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": _closed_port(), "timeout": 2},
        }
    }
    from opiniondesk.core.mail import message_to_data, send_email

    send_email.enqueue(message_to_data(_message()), MAX_ATTEMPTS)
    run_tasks()
    result = DBTaskResult.objects.get()
    assert result.status == "FAILED"
    assert DBTaskResult.objects.count() == 1  # no further retry


def test_make_run_links_mails_to_the_port_it_serves_on():
    """`make run PORT=8301`: the demo's mails link to 8301, not to the default 8000."""
    import subprocess
    from pathlib import Path

    root = Path(__file__).resolve().parents[3]
    planned = subprocess.run(
        ["make", "-n", "run", "PORT=8301"], cwd=root, capture_output=True, text=True, check=True
    ).stdout
    serve = [line for line in planned.splitlines() if "bin/serve" in line]
    assert serve and "SITE_URL=http://127.0.0.1:8301" in serve[0]
    chosen = subprocess.run(
        ["make", "-n", "run", "PORT=8301", "SITE_URL=https://so.example.jp"],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "SITE_URL=https://so.example.jp" in chosen and "SITE_URL=http://127.0.0.1" not in chosen
