"""The e-mail to the attending physician with the one-time link to the opinion. Written in
Japanese whatever the language of the staff member who sends it: it is a letter between
physicians in Japan. No patient data in the mail itself, only the case number."""

from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation

from opiniondesk.core.mail import email_message, queue_email
from opiniondesk.opinions.models import OpinionDelivery


def physician_link(delivery: OpinionDelivery, token: str) -> None:
    """Queued to go after the commit (core.mail)."""
    assert delivery.expires_at is not None
    with translation.override("ja"):
        message = email_message(
            "opinions/email/physician_link",
            {
                "delivery": delivery,
                "reference": delivery.case.reference,
                "department": delivery.case.department.name if delivery.case.department else "",
                "expires_at": timezone.localtime(delivery.expires_at),
                "days": settings.OPINION_LINK_DAYS,
                "url": reverse("opinion-link", args=[token]),
            },
            [delivery.recipient_email],
        )
    queue_email(message)
