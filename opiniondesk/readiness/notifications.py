"""E-mails of the steps before the consult."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from opiniondesk.core.mail import queue_email
from opiniondesk.readiness.models import IdentityReview, PatientInvitation


def _render(template: str, context: dict[str, object]) -> tuple[str, str]:
    context = {**context, "hospital": settings.HOSPITAL, "site_url": settings.SITE_URL}
    subject = render_to_string(f"readiness/email/{template}_subject.txt", context).strip()
    body = render_to_string(f"readiness/email/{template}.txt", context)
    return f"[{settings.HOSPITAL['name']}] {' '.join(subject.splitlines())}", body


def identity_rejected(review_id: int) -> None:
    review = IdentityReview.objects.select_related(
        "document__case__applicant", "document__case__patient_account"
    ).get(pk=review_id)
    case = review.document.case
    people = {case.applicant}
    if case.patient_account is not None:
        people.add(case.patient_account)
    for person in people:
        if not person.email:
            continue
        with translation.override(person.language or settings.LANGUAGE_CODE):
            subject, body = _render(
                "identity_rejected",
                {"case": case, "review": review, "url": reverse("case-detail", args=[case.pk])},
            )
        queue_email(EmailMultiAlternatives(subject=subject, body=body, to=[person.email]))


def patient_invited(invitation_id: int, token: str) -> None:
    invitation = PatientInvitation.objects.select_related("case", "created_by").get(
        pk=invitation_id
    )
    # The patient has no account yet, or one we cannot know: the applicant's language is the guess.
    with translation.override(invitation.created_by.language or settings.LANGUAGE_CODE):
        subject, body = _render(
            "patient_invited",
            {
                "case": invitation.case,
                "invitation": invitation,
                "days": settings.PATIENT_INVITATION_DAYS,
                "url": reverse("patient-invitation", args=[token]),
            },
        )
    queue_email(EmailMultiAlternatives(subject=subject, body=body, to=[invitation.email]))
