"""E-mails about cases. Rendered now, sent by the task queue (core.mail)."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.urls import reverse
from django.utils import translation

from opiniondesk.accounts.models import Role, User
from opiniondesk.cases.models import Case, DocumentRequest
from opiniondesk.core.mail import email_message, queue_email

STAFF_LANGUAGE = "ja"


def _message(
    template: str, context: dict[str, object], to: list[str], *, name: str = ""
) -> EmailMultiAlternatives:
    return email_message(f"cases/email/{template}", context, to, name=name)


def name_in_mail(case: Case, person: User) -> str:
    """How a mail about `case` addresses `person`: the name on the application, else the
    account's own; never the user name."""
    return case.name_of(person.pk) or person.get_full_name()


def coordinator_emails() -> list[str]:
    """The addresses of the active coordinators, who hear of every case."""
    return list(
        User.objects.filter(role=Role.COORDINATOR, is_active=True)
        .exclude(email="")
        .values_list("email", flat=True)
    )


def case_submitted(case_id: int) -> None:
    case = Case.objects.select_related("department", "applicant").get(pk=case_id)
    context = {"case": case, "url": reverse("case-detail", args=[case.pk])}
    with translation.override(STAFF_LANGUAGE):
        coordinators = coordinator_emails()
        if coordinators:
            staff_context = {**context, "url": reverse("staff-case", args=[case.pk])}
            queue_email(_message("coordinator_case_submitted", staff_context, coordinators))
    if not case.applicant.email:  # a paper application, not yet handed to anyone's account
        return
    with translation.override(case.applicant.language or settings.LANGUAGE_CODE):
        queue_email(
            _message(
                "applicant_case_submitted",
                context,
                [case.applicant.email],
                name=name_in_mail(case, case.applicant),
            )
        )


def documents_complete(case_id: int) -> None:
    case = Case.objects.select_related("department").get(pk=case_id)
    with translation.override(STAFF_LANGUAGE):
        coordinators = coordinator_emails()
        if coordinators:
            context = {"case": case, "url": reverse("staff-case", args=[case.pk])}
            queue_email(_message("coordinator_documents_complete", context, coordinators))


def to_patient_side(
    case: Case, template: str, context: dict[str, object], ics: bytes | None = None
) -> None:
    """One e-mail each to the applicant and the patient's own linked account, in their language.
    `template` is the full prefix (e.g. "scheduling/email/booking_booked")."""
    people = [case.applicant]
    if case.patient_account is not None and case.patient_account_id != case.applicant_id:
        people.append(case.patient_account)
    for person in people:
        if not person.email:
            continue
        with translation.override(person.language or settings.LANGUAGE_CODE):
            message = email_message(
                template,
                {"case": case, **context},
                [person.email],
                name=name_in_mail(case, person),
            )
        if ics is not None:
            message.attach("second-opinion.ics", ics, "text/calendar")
        queue_email(message)


def _to_applicant(case: Case, template: str, context: dict[str, object]) -> None:
    with translation.override(case.applicant.language or settings.LANGUAGE_CODE):
        queue_email(
            _message(
                template,
                {"case": case, **context},
                [case.applicant.email],
                name=name_in_mail(case, case.applicant),
            )
        )


def documents_requested(request_id: int) -> None:
    """Tell the applicant what to send (and by when)."""
    document_request = DocumentRequest.objects.select_related("case__applicant").get(pk=request_id)
    _to_applicant(
        document_request.case,
        "applicant_documents_requested",
        {
            "document_request": document_request,
            "url": reverse("case-documents", args=[document_request.case_id]),
        },
    )


def document_reminder(request_id: int) -> None:
    """The due date is near and the documents have not all arrived: remind both sides."""
    document_request = DocumentRequest.objects.select_related("case__applicant").get(pk=request_id)
    case = document_request.case
    context = {
        "document_request": document_request,
        "url": reverse("case-documents", args=[case.pk]),
    }
    _to_applicant(case, "applicant_document_reminder", context)
    with translation.override(STAFF_LANGUAGE):
        coordinators = coordinator_emails()
        if coordinators:
            queue_email(
                _message(
                    "coordinator_document_reminder",
                    {"case": case, **context, "url": reverse("staff-case", args=[case.pk])},
                    coordinators,
                )
            )


def case_decided(case_id: int) -> None:
    """Rejected or declined: the applicant is asked to read the explanation on their page."""
    case = Case.objects.select_related("applicant").get(pk=case_id)
    _to_applicant(case, "applicant_case_update", {"url": reverse("case-detail", args=[case.pk])})


def case_accepted(case_id: int) -> None:
    case = Case.objects.select_related("applicant").get(pk=case_id)
    _to_applicant(case, "applicant_case_update", {"url": reverse("case-detail", args=[case.pk])})
    with translation.override(STAFF_LANGUAGE):
        coordinators = coordinator_emails()
        if coordinators:
            queue_email(
                _message(
                    "staff_case_update",
                    {"case": case, "url": reverse("staff-case", args=[case.pk])},
                    coordinators,
                )
            )


def case_referred(case_id: int) -> None:
    """The department's specialists are asked to look at the case."""
    case = Case.objects.select_related("department").get(pk=case_id)
    emails = list(
        User.objects.filter(role=Role.SPECIALIST, is_active=True, departments=case.department)
        .exclude(email="")
        .values_list("email", flat=True)
    )
    if emails:
        with translation.override(STAFF_LANGUAGE):
            queue_email(
                _message(
                    "staff_case_update",
                    {"case": case, "url": reverse("staff-case", args=[case.pk])},
                    emails,
                )
            )
