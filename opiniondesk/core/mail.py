"""E-mail goes out through the task queue, retried with back-off when the SMTP server fails."""

import base64
import logging
import smtplib
from datetime import date, timedelta
from email.utils import formataddr
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, EmailMultiAlternatives, mailers
from django.tasks import task
from django.template.loader import render_to_string
from django.utils import timezone

from opiniondesk.catalog.closed_days import MonthDay
from opiniondesk.core.tasks import enqueue_with_transaction

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
RETRYABLE = (smtplib.SMTPException, OSError)


def _backoff(attempt: int) -> timedelta:
    """1, 2, 4, 8, 16 minutes between the six attempts."""
    return timedelta(minutes=2 ** (attempt - 1))


def message_to_data(message: EmailMessage) -> dict[str, Any]:
    """A JSON-serialisable form of a message, for the task queue."""
    alternatives = getattr(message, "alternatives", [])
    return {
        "subject": str(message.subject),
        "body": str(message.body),
        "from_email": message.from_email,
        "to": list(message.to),
        "cc": list(message.cc),
        "bcc": list(message.bcc),
        "reply_to": list(message.reply_to),
        "headers": dict(message.extra_headers),
        "html": next((str(a[0]) for a in alternatives if a[1] == "text/html"), None),
        # (file name, base64 content, MIME type): e.g. a booking's .ics
        "attachments": [
            [name, base64.b64encode(_bytes(content)).decode("ascii"), mimetype]
            for name, content, mimetype in message.attachments
        ],
    }


def _bytes(content: str | bytes) -> bytes:
    return content.encode() if isinstance(content, str) else content


def year_end_dates() -> dict[str, date]:
    """The first and last day of the year-end closure as the setting has them
    (CLOSURE_YEAR_END_START / _END), as dates of a leap year for the mails to print."""
    start, end = (MonthDay.parse(text) for text in settings.CLOSURE_YEAR_END)
    return {"start": date(2024, start.month, start.day), "end": date(2024, end.month, end.day)}


def from_address() -> str:
    """The hospital's name and our address: `OpinionDesk 大学病院 <second-opinion@…>`, the name
    as an RFC 2047 encoded word when it is not ASCII."""
    return formataddr((settings.HOSPITAL["name"], settings.DEFAULT_FROM_EMAIL))


def site_link(path: str) -> str:
    """An absolute link for a mail: on the address the site is served on (SITE_URL), never the
    host a request happened to come in by."""
    return f"{settings.SITE_URL}{path}"


def greeting(name: str) -> str:
    """The first line of a mail to a person whose name we know ("山田 花 様"); empty if we don't."""
    return render_to_string("core/email/_greeting.txt", {"name": name}).strip() if name else ""


def email_message(
    template: str, context: dict[str, Any], to: list[str], *, name: str = ""
) -> EmailMultiAlternatives:
    """A plain-text e-mail from `<template>_subject.txt` and `<template>.txt`, rendered in the
    active language, its subject prefixed with the hospital's name, from the hospital's name.
    `name`: the one recipient's name, if known, to address them by."""
    context = {
        **context,
        "hospital": settings.HOSPITAL,
        "site_url": settings.SITE_URL,
        "year_end": year_end_dates(),
    }
    subject = render_to_string(f"{template}_subject.txt", context).strip()
    body = render_to_string(f"{template}.txt", context)
    if name:
        body = f"{greeting(name)}\n\n{body}"
    return EmailMultiAlternatives(
        subject=f"[{settings.HOSPITAL['name']}] {' '.join(subject.splitlines())}",
        body=body,
        from_email=from_address(),
        to=to,
    )


def queue_email(message: EmailMessage) -> None:
    """Queue as part of the surrounding transaction: the mail goes out only if the change commits
    (no mail speaks of a rolled-back change), and a commit cannot leave it behind
    (`core.tasks.enqueue_with_transaction`). Delivery is at least once: a worker killed in the
    middle of the SMTP exchange leaves the task RUNNING, the reconciler takes it again and the
    mail is sent again — the recipient may get it twice, never not at all."""
    enqueue_with_transaction(send_email, message_to_data(message), 1)


@task(queue_name="email")
def send_email(data: dict[str, Any], attempt: int) -> None:
    message = EmailMultiAlternatives(
        subject=data["subject"],
        body=data["body"],
        from_email=data["from_email"],
        to=data["to"],
        cc=data["cc"],
        bcc=data["bcc"],
        reply_to=data["reply_to"],
        headers=data["headers"],
    )
    if data.get("html"):
        message.attach_alternative(data["html"], "text/html")
    for name, content, mimetype in data.get("attachments", []):
        message.attach(name, base64.b64decode(content), mimetype)
    try:
        mailers.default.send_messages([message])
    except RETRYABLE as exc:
        if attempt >= MAX_ATTEMPTS:
            logger.error("e-mail to %s failed %d times: %s", data["to"], attempt, exc)
            raise
        logger.warning("e-mail to %s failed (attempt %d): %s", data["to"], attempt, exc)
        enqueue_with_transaction(
            send_email, data, attempt + 1, run_after=timezone.now() + _backoff(attempt)
        )
