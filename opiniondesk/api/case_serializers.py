"""Input and output shapes of the authenticated case endpoints (issue #4)."""

import re
from datetime import date, timedelta
from typing import Any

from django.core.validators import RegexValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from opiniondesk.api.fields import (
    StrictCharField,
    StrictChoiceField,
    StrictDateField,
    StrictDateTimeField,
)
from opiniondesk.api.serializers import StrictSerializer, VerdictSerializer
from opiniondesk.cases.eligibility import Consent, Reason
from opiniondesk.cases.keyset import Cursor, cursor_decode
from opiniondesk.cases.kinship import Relation
from opiniondesk.cases.models import PhoneOutcome, Sex
from opiniondesk.cases.staff_forms import due_date_closed_message
from opiniondesk.cases.workflow import Actor, Status
from opiniondesk.catalog.selectors import desk_answers_on
from opiniondesk.catalog.vocabulary import DocumentCode, Mode
from opiniondesk.core.serializer_fields import PHONE_AS_TYPED
from opiniondesk.core.time import JST
from opiniondesk.core.typed import Kind
from opiniondesk.documents.models import DocumentKind, TestDataKind, UploadSource

# The transitions a person may ask for through the API, each backed by one named service.
TARGETS = [
    Status.SCREENING,
    Status.AWAITING_DOCUMENTS,
    Status.REJECTED,
    Status.REFERRED,
    Status.ACCEPTED,
    Status.DECLINED,
    Status.WITHDRAWN,
]
# Either width (０３（１２３４）５６７８), as the document says; stored as the forms store it.
PHONE_NUMBER = RegexValidator(PHONE_AS_TYPED, _("Must be a phone number."))
PHONE_STORED = re.compile(r"\+?[0-9]+(-[0-9]+)*")
# A call is logged after it happened; a little slack for clocks that disagree.
CLOCK_SLACK = timedelta(minutes=5)


def _choices(values: Any) -> list[str]:
    return [str(value) for value in values]


# One enum in the OpenAPI document for status, from_status and to_status (ENUM_NAME_OVERRIDES).
STATUS_VALUES = _choices(Status)


# Reading -----------------------------------------------------------------------------------


class CaseSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    reference = serializers.CharField(help_text="The number a patient quotes on the phone.")
    status = serializers.ChoiceField(choices=STATUS_VALUES)
    status_changed_at = serializers.DateTimeField(allow_null=True)
    department = serializers.CharField(source="department.code", allow_null=True)
    disease = serializers.CharField(source="disease.code", allow_null=True)
    mode = serializers.ChoiceField(choices=_choices(Mode), allow_blank=True)
    submitted_at = serializers.DateTimeField(allow_null=True)
    days_waiting = serializers.SerializerMethodField(
        help_text="Whole days (Asia/Tokyo calendar) since the application was sent; "
        "null for a draft."
    )

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_days_waiting(self, case: Any) -> int | None:
        if case.submitted_at is None:
            return None
        today: date = self.context["today"]
        return (today - case.submitted_at.astimezone(JST).date()).days


class ApplicantSerializer(serializers.Serializer):
    relation = serializers.ChoiceField(
        choices=_choices(Relation),
        allow_blank=True,
        source="applicant_relation",
        help_text="The applicant's relation to the patient (self when the patient applies).",
    )
    family_name = serializers.CharField(source="applicant_family_name")
    given_name = serializers.CharField(source="applicant_given_name")
    phone = serializers.CharField(source="applicant_phone")
    lives_with_patient = serializers.BooleanField(
        source="applicant_lives_with_patient", allow_null=True
    )


class CasePatientSerializer(serializers.Serializer):
    family_name = serializers.CharField(source="patient_family_name")
    given_name = serializers.CharField(source="patient_given_name")
    family_name_kana = serializers.CharField(source="patient_family_name_kana")
    given_name_kana = serializers.CharField(source="patient_given_name_kana")
    birth_date = serializers.DateField(source="patient_birth_date", allow_null=True)
    sex = serializers.ChoiceField(choices=Sex.values, source="patient_sex", allow_blank=True)
    postal_code = serializers.CharField(source="patient_postal_code")
    address = serializers.CharField(source="patient_address")
    phone = serializers.CharField(source="patient_phone")
    email = serializers.CharField(source="patient_email")
    deceased = serializers.BooleanField(source="patient_deceased")
    resides_in_japan = serializers.BooleanField(source="patient_resides_in_japan", allow_null=True)
    has_japanese_insurance = serializers.BooleanField(
        source="patient_has_japanese_insurance", allow_null=True
    )
    patient_consent = serializers.ChoiceField(
        choices=_choices(Consent), help_text="The patient's consent to a proxy applying."
    )


class ConsultationSheetSerializer(serializers.Serializer):
    current_diagnosis = serializers.CharField()
    treatment_so_far = serializers.CharField()
    wants_opinion_on_current = serializers.BooleanField()
    wants_opinion_on_future = serializers.BooleanField()
    questions = serializers.CharField()


class CaseDeclarationsSerializer(serializers.Serializer):
    # null: not answered yet (a draft).
    attending_physician_agrees = serializers.BooleanField(allow_null=True)
    wants_tests_or_treatment_here = serializers.BooleanField(allow_null=True)
    wants_transfer = serializers.BooleanField(allow_null=True)
    complaint_or_litigation = serializers.BooleanField(allow_null=True)
    fee_or_benefit_question = serializers.BooleanField(allow_null=True)
    can_provide_materials = serializers.BooleanField(allow_null=True)


class AttendingPhysicianSerializer(serializers.Serializer):
    name = serializers.CharField(source="physician_name")
    institution = serializers.CharField(source="physician_institution")
    department = serializers.CharField(source="physician_department")
    phone = serializers.CharField(source="physician_phone")


class ProxySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    family_name = serializers.CharField()
    given_name = serializers.CharField()
    family_name_kana = serializers.CharField()
    given_name_kana = serializers.CharField()
    relation = serializers.ChoiceField(choices=_choices(Relation))
    phone = serializers.CharField()


class RequestForDocumentsSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    items = serializers.ListField(child=serializers.ChoiceField(choices=_choices(DocumentCode)))
    message = serializers.CharField()
    due_date = serializers.DateField(allow_null=True)
    requested_at = serializers.DateTimeField()


class CaseDetailSerializer(CaseSummarySerializer):
    created_at = serializers.DateTimeField()
    joining_from_japan = serializers.BooleanField(allow_null=True)
    applicant = ApplicantSerializer(source="*")
    patient = CasePatientSerializer(source="*")
    consultation_sheet = ConsultationSheetSerializer(source="*")
    declarations = CaseDeclarationsSerializer(source="*")
    attending_physician = AttendingPhysicianSerializer(source="*")
    proxies = ProxySerializer(many=True, help_text="Family members attending the consult.")
    privacy_policy = serializers.CharField(
        source="privacy_policy.version", allow_null=True, help_text="The version accepted."
    )
    privacy_accepted_at = serializers.DateTimeField(allow_null=True)
    incomplete_steps = serializers.SerializerMethodField(
        help_text="Steps of the application with an unanswered question; empty when complete."
    )
    eligibility = serializers.SerializerMethodField(
        help_text="The rules of SPEC §3 applied now, with the uploaded documents; "
        "null while the application is incomplete."
    )
    open_document_request = serializers.SerializerMethodField(
        help_text="What the hospital asked for and has not received yet."
    )
    rejection_reasons = serializers.ListField(
        child=serializers.ChoiceField(choices=_choices(Reason))
    )
    rejection_note = serializers.CharField()
    decline_reason = serializers.CharField()
    review_seconds = serializers.SerializerMethodField(
        help_text="The specialist's review of the materials so far, measured by the server "
        "(stopped sessions, corrections applied); it counts toward the fee."
    )
    planned_minutes = serializers.IntegerField(
        allow_null=True, help_text="The consult's planned length, set on acceptance: 30 or 60."
    )
    allowed_transitions = serializers.SerializerMethodField(
        help_text="The values of `to` this user may post to the transitions endpoint now."
    )

    def get_review_seconds(self, case: Any) -> int:
        return int(self.context["review_seconds"])

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_incomplete_steps(self, case: Any) -> list[str]:
        return list(self.context["incomplete_steps"])

    @extend_schema_field(VerdictSerializer(allow_null=True))
    def get_eligibility(self, case: Any) -> dict[str, Any] | None:
        verdict = self.context["verdict"]
        if verdict is None:
            return None
        return {
            "eligible": verdict.eligible,
            "reasons": [r.value for r in verdict.reasons],
            "missing_documents": [d.value for d in verdict.missing_documents],
        }

    @extend_schema_field(RequestForDocumentsSerializer(allow_null=True))
    def get_open_document_request(self, case: Any) -> dict[str, Any] | None:
        open_request = self.context["open_document_request"]
        return None if open_request is None else RequestForDocumentsSerializer(open_request).data

    @extend_schema_field(
        serializers.ListField(child=serializers.ChoiceField(choices=_choices(TARGETS)))
    )
    def get_allowed_transitions(self, case: Any) -> list[str]:
        return [target.value for target in self.context["allowed_transitions"]]


class DocumentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=DocumentKind.values)
    test_data_kind = serializers.ChoiceField(choices=TestDataKind.values, allow_blank=True)
    original_name = serializers.CharField()
    file_kind = serializers.CharField(help_text="The type found by reading the content.")
    content_type = serializers.CharField()
    size = serializers.IntegerField(help_text="Bytes.")
    sha256 = serializers.CharField()
    uploaded_at = serializers.DateTimeField()
    source = serializers.ChoiceField(choices=UploadSource.values)
    supersedes = serializers.IntegerField(
        source="supersedes_id", allow_null=True, help_text="The document this one corrects."
    )
    url = serializers.SerializerMethodField(
        help_text="The file itself (session login; checked and audited like this endpoint)."
    )

    @extend_schema_field(serializers.URLField())
    def get_url(self, document: Any) -> str:
        return self.context["file_url"](document)


class TransitionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    from_status = serializers.ChoiceField(choices=STATUS_VALUES)
    to_status = serializers.ChoiceField(choices=STATUS_VALUES)
    at = serializers.DateTimeField()
    actor = serializers.SerializerMethodField(
        help_text="The user name, shown to hospital staff and to the actor; otherwise null."
    )
    actor_role = serializers.ChoiceField(choices=_choices(Actor))
    reason = serializers.CharField()
    detail = serializers.DictField(help_text="e.g. the reason codes or the department.")

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_actor(self, transition: Any) -> str | None:
        return self.context["show_user"](transition.actor)


class PhoneLogSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    called_at = serializers.DateTimeField()
    number = serializers.CharField()
    outcome = serializers.ChoiceField(choices=PhoneOutcome.values)
    notes = serializers.CharField()
    called_by = serializers.CharField(source="called_by.username")
    recorded_at = serializers.DateTimeField()


class CasePageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = CaseSummarySerializer(many=True)


class ConflictSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField(
        help_text="status_changed (the case is no longer in `expected_status`), "
        "invalid_transition or not_allowed"
    )
    status = serializers.CharField(help_text="The case's status now.")
    to = serializers.CharField(help_text="The status that was asked for.")


class PreconditionFailedSerializer(ConflictSerializer):
    etag = serializers.CharField(help_text="The case's ETag now.")


# Query parameters ----------------------------------------------------------------------------


class CaseListQuerySerializer(StrictSerializer):
    status = serializers.ChoiceField(choices=STATUS_VALUES, required=False)
    department = serializers.SlugField(max_length=50, required=False, help_text="A code.")
    mode = serializers.ChoiceField(choices=_choices(Mode), required=False)
    cursor = serializers.RegexField(
        r"^[A-Za-z0-9_-]+$",
        max_length=200,
        required=False,
        help_text="Where a page starts, as given in `next` and `previous`: read at the same "
        "speed however far down the list. Not together with `page`.",
    )
    page = serializers.IntegerField(
        min_value=1,
        max_value=1_000_000,
        required=False,
        help_text="A page by its number; the links in `next` and `previous` use `cursor` "
        "instead, which is faster far down the list.",
    )
    page_size = serializers.IntegerField(
        min_value=1, max_value=100, required=False, help_text="25 unless given."
    )

    def validate_cursor(self, value: str) -> Cursor:
        cursor = cursor_decode(value)
        if cursor is None:
            raise serializers.ValidationError(_("This is not a cursor from this list."))
        return cursor

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "cursor" in attrs and "page" in attrs:
            raise serializers.ValidationError({"page": _("Give a page or a cursor, not both.")})
        return attrs


# Writing ------------------------------------------------------------------------------------


class TargetField(StrictChoiceField):
    """The `to` of one kind of transition body: a single allowed value."""

    def __init__(self, target: Status, **kwargs: Any) -> None:
        super().__init__(choices=[target.value], **kwargs)


class TransitionToSerializer(serializers.Serializer):
    # Read first, to know which body to expect; unknown keys are left to that body.
    to = StrictChoiceField(choices=_choices(TARGETS))


class TransitionBody(StrictSerializer):
    # The state the caller saw: if the case moved meanwhile, 409 and nothing changes.
    expected_status = StrictChoiceField(
        choices=_choices(Status),
        required=False,
        help_text="The case's status as the caller last saw it: if another user moved the case "
        "meanwhile the answer is 409 (code status_changed) and nothing is changed. "
        "Recommended; an If-Match header with the case's ETag does the same.",
    )


class StartScreeningSerializer(TransitionBody):
    to = TargetField(Status.SCREENING)


class RequestDocumentsSerializer(TransitionBody):
    to = TargetField(Status.AWAITING_DOCUMENTS)
    items = serializers.ListField(
        child=StrictChoiceField(choices=_choices(DocumentCode)),
        min_length=1,
        max_length=len(DocumentCode),
    )
    message = StrictCharField(max_length=2000, help_text="Shown and e-mailed to the applicant.")
    due_date = StrictDateField(help_text="Reminders go out the day before and on the day.")

    def validate_items(self, items: list[str]) -> list[str]:
        if len(set(items)) != len(items):
            raise serializers.ValidationError(_("A document is named twice."))
        return items

    def validate_due_date(self, due_date: date) -> date:
        if due_date < timezone.now().astimezone(JST).date():
            raise serializers.ValidationError(_("The due date is in the past."))
        if not desk_answers_on(due_date):
            raise serializers.ValidationError(due_date_closed_message(due_date))
        return due_date


class RejectSerializer(TransitionBody):
    to = TargetField(Status.REJECTED)
    reasons = serializers.ListField(
        child=StrictChoiceField(choices=_choices(Reason)), min_length=1, max_length=len(Reason)
    )
    note = StrictCharField(
        max_length=2000, required=False, allow_blank=True, help_text="Words for the applicant."
    )

    def validate_reasons(self, reasons: list[str]) -> list[str]:
        if len(set(reasons)) != len(reasons):
            raise serializers.ValidationError(_("A reason is named twice."))
        return reasons


class ReferSerializer(TransitionBody):
    to = TargetField(Status.REFERRED)
    department = StrictCharField(max_length=50, help_text="The department's code.")
    disease = StrictCharField(
        max_length=50,
        required=False,
        help_text="One of the department's disease codes; required when the case's disease is "
        "not one of the department's (a referral to another department).",
    )


class AcceptSerializer(TransitionBody):
    to = TargetField(Status.ACCEPTED)
    planned_minutes = serializers.ChoiceField(
        choices=[30, 60],
        help_text="The consult's planned length: the booking holds one or two consecutive "
        "30-minute slots of the specialist (SPEC §5).",
    )

    def to_internal_value(self, data: Any) -> Any:
        # "30", 30.0 and True are not minutes: only the integers 30 and 60.
        value = data.get("planned_minutes") if isinstance(data, dict) else None
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise serializers.ValidationError({"planned_minutes": [_("Must be 30 or 60.")]})
        return super().to_internal_value(data)


class DeclineSerializer(TransitionBody):
    to = TargetField(Status.DECLINED)
    reason = StrictCharField(max_length=2000, help_text="e.g. no specialist for this disease.")


class WithdrawSerializer(TransitionBody):
    to = TargetField(Status.WITHDRAWN)
    reason = StrictCharField(max_length=500, required=False, allow_blank=True)


TRANSITION_BODIES: dict[Status, type[TransitionBody]] = {
    Status.SCREENING: StartScreeningSerializer,
    Status.AWAITING_DOCUMENTS: RequestDocumentsSerializer,
    Status.REJECTED: RejectSerializer,
    Status.REFERRED: ReferSerializer,
    Status.ACCEPTED: AcceptSerializer,
    Status.DECLINED: DeclineSerializer,
    Status.WITHDRAWN: WithdrawSerializer,
}


class PhoneLogCreateSerializer(StrictSerializer):
    called_at = StrictDateTimeField(help_text="ISO 8601 with the offset: 2026-11-25T10:30+09:00.")
    number = StrictCharField(
        kind=Kind.PHONE,
        max_length=20,
        validators=[PHONE_NUMBER],
        help_text="In either width (０３（１２３４）５６７８); stored as 03-1234-5678.",
    )
    outcome = StrictChoiceField(choices=PhoneOutcome.values)
    notes = StrictCharField(max_length=2000, required=False, allow_blank=True)

    def validate_number(self, number: str) -> str:
        # Normalised by its field: digit groups joined by "-" (separators alone are no number).
        if not PHONE_STORED.fullmatch(number):
            raise serializers.ValidationError(_("Must be a phone number."))
        return number

    def validate_called_at(self, called_at: Any) -> Any:
        if called_at > timezone.now() + CLOCK_SLACK:
            raise serializers.ValidationError(_("The call is in the future."))
        return called_at
