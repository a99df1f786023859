"""E-mails of the steps before the consult."""

from django.conf import settings
from django.urls import reverse
from django.utils import translation

from opiniondesk.cases.notifications import name_in_mail, to_patient_side
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
                # Who applied, as they wrote their name on the form (not their user name).
                "applicant_name": name_in_mail(invitation.case, invitation.created_by),
                "days": settings.PATIENT_INVITATION_DAYS,
                "url": reverse("patient-invitation", args=[token]),
            },
            [invitation.email],
            name=invitation.case.patient_name,
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
            name=invitation.case.applicant_name,  # who applied on paper
        )
    queue_email(message)
