"""E-mails of the steps before the consult."""

from django.conf import settings
from django.urls import reverse
from django.utils import translation

from opiniondesk.cases.notifications import to_patient_side
from opiniondesk.core.mail import email_message, queue_email
from opiniondesk.readiness.models import IdentityReview, PatientInvitation


def identity_rejected(review_id: int) -> None:
    review = IdentityReview.objects.select_related(
        "document__case__applicant", "document__case__patient_account"
    ).get(pk=review_id)
    case = review.document.case
    to_patient_side(
        case,
        "readiness/email/identity_rejected",
        {"review": review, "url": reverse("case-detail", args=[case.pk])},
    )


def patient_invited(invitation_id: int, token: str) -> None:
    invitation = PatientInvitation.objects.select_related("case", "created_by").get(
        pk=invitation_id
    )
    # The patient has no account yet, or one we cannot know: the applicant's language is the guess.
    with translation.override(invitation.created_by.language or settings.LANGUAGE_CODE):
        message = email_message(
            "readiness/email/patient_invited",
            {
                "case": invitation.case,
                "invitation": invitation,
                "days": settings.PATIENT_INVITATION_DAYS,
                "url": reverse("patient-invitation", args=[token]),
            },
            [invitation.email],
        )
    queue_email(message)


def case_handed_over(invitation_id: int, token: str) -> None:
    """The coordinator hands a paper application over: written in the hospital's language."""
    invitation = PatientInvitation.objects.select_related("case").get(pk=invitation_id)
    with translation.override(settings.LANGUAGE_CODE):
        message = email_message(
            "readiness/email/case_handed_over",
            {
                "case": invitation.case,
                "invitation": invitation,
                "days": settings.PATIENT_INVITATION_DAYS,
                "url": reverse("patient-invitation", args=[token]),
            },
            [invitation.email],
        )
    queue_email(message)
