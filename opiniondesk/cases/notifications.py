"""E-mails about cases. Rendered now, sent by the task queue (core.mail)."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from opiniondesk.accounts.models import Role, User
from opiniondesk.cases.models import Case
from opiniondesk.core.mail import queue_email

STAFF_LANGUAGE = "ja"


def _message(template: str, context: dict[str, object], to: list[str]) -> EmailMultiAlternatives:
    context = {**context, "hospital": settings.HOSPITAL, "site_url": settings.SITE_URL}
    subject = render_to_string(f"cases/email/{template}_subject.txt", context).strip()
    body = render_to_string(f"cases/email/{template}.txt", context)
    return EmailMultiAlternatives(
        subject=f"[{settings.HOSPITAL['name']}] {' '.join(subject.splitlines())}",
        body=body,
        to=to,
    )


def _coordinator_emails() -> list[str]:
    return list(
        User.objects.filter(role=Role.COORDINATOR, is_active=True)
        .exclude(email="")
        .values_list("email", flat=True)
    )


def case_submitted(case_id: int) -> None:
    case = Case.objects.select_related("department", "applicant").get(pk=case_id)
    context = {"case": case, "url": reverse("case-detail", args=[case.pk])}
    with translation.override(STAFF_LANGUAGE):
        coordinators = _coordinator_emails()
        if coordinators:
            queue_email(_message("coordinator_case_submitted", context, coordinators))
    with translation.override(case.applicant.language or settings.LANGUAGE_CODE):
        queue_email(_message("applicant_case_submitted", context, [case.applicant.email]))


def documents_complete(case_id: int) -> None:
    case = Case.objects.select_related("department").get(pk=case_id)
    with translation.override(STAFF_LANGUAGE):
        coordinators = _coordinator_emails()
        if coordinators:
            context = {"case": case, "url": reverse("case-detail", args=[case.pk])}
            queue_email(_message("coordinator_documents_complete", context, coordinators))
