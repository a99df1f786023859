"""Input and output shapes of the public API (SPEC §10)."""

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiSerializerExtension
from rest_framework import serializers

from opiniondesk.api.fields import (
    HourMinuteField,
    StrictBooleanField,
    StrictCharField,
    StrictChoiceField,
    StrictDateField,
    StrictIntegerField,
)
from opiniondesk.cases.eligibility import Consent, Reason
from opiniondesk.cases.kinship import Relation
from opiniondesk.catalog.vocabulary import DocumentCode, Mode


def _choices(enum: Any) -> list[str]:
    return [member.value for member in enum]


class StrictSerializer(serializers.Serializer):
    # Refuses unknown keys: a typo in a declaration must not pass as its default.
    # (A comment, not a docstring: drf-spectacular would publish a docstring in every schema.)

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                errors: dict[str, list[str]] = {key: [_("Unknown field.")] for key in unknown}
                if self.parent is None and "detail" in errors:
                    # At the top, "detail" is the general error's key (api/errors.py): an
                    # unknown field of that name is named under non_field_errors instead.
                    del errors["detail"]
                    errors["non_field_errors"] = [f"detail: {_('Unknown field.')}"]
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)


class PatientSerializer(StrictSerializer):
    birth_date = StrictDateField()
    deceased = StrictBooleanField()
    resides_in_japan = StrictBooleanField()
    has_japanese_insurance = StrictBooleanField()


class RequesterSerializer(StrictSerializer):
    relation = StrictChoiceField(choices=_choices(Relation))
    patient_consent = StrictChoiceField(choices=_choices(Consent))


class DeclarationsSerializer(StrictSerializer):
    attending_physician_agrees = StrictBooleanField()
    wants_tests_or_treatment_here = StrictBooleanField()
    wants_transfer = StrictBooleanField()
    complaint_or_litigation = StrictBooleanField()
    fee_or_benefit_question = StrictBooleanField()
    can_provide_materials = StrictBooleanField()


class EligibilityCheckSerializer(StrictSerializer):
    as_of = StrictDateField(required=False, help_text="Defaults to today in Asia/Tokyo.")
    mode = StrictChoiceField(choices=_choices(Mode))
    department = StrictCharField(max_length=100)
    disease = StrictCharField(max_length=100)
    patient = PatientSerializer()
    requester = RequesterSerializer()
    joining_from_japan = StrictBooleanField()
    declarations = DeclarationsSerializer()
    privacy_policy_accepted = StrictBooleanField()
    documents = serializers.ListField(
        child=StrictChoiceField(choices=_choices(DocumentCode)), max_length=50
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        as_of = attrs.get("as_of")
        if as_of is not None and attrs["patient"]["birth_date"] > as_of:
            raise serializers.ValidationError(
                {"patient": {"birth_date": [_("The birth date is after as_of.")]}}
            )
        return attrs


class VerdictSerializer(serializers.Serializer):
    eligible = serializers.BooleanField()
    reasons = serializers.ListField(child=serializers.ChoiceField(choices=_choices(Reason)))
    missing_documents = serializers.ListField(
        child=serializers.ChoiceField(choices=_choices(DocumentCode))
    )


class FeeQuoteSerializer(StrictSerializer):
    review_minutes = StrictIntegerField(min_value=0, max_value=100_000)
    call_seconds = StrictIntegerField(min_value=0, max_value=10_000_000)
    on = StrictDateField(required=False, help_text="Defaults to today in Asia/Tokyo.")


class FeeQuoteResultSerializer(serializers.Serializer):
    billable_minutes = serializers.IntegerField()
    tier = serializers.IntegerField(help_text="1-based fee tier; 0 when nothing is billable.")
    amount_jpy = serializers.IntegerField(help_text="Tax included, in yen.")
    tax_jpy = serializers.IntegerField()
    tax_rate = serializers.FloatField(help_text="e.g. 0.1 for 10 %.")
    over_limit = serializers.BooleanField(
        help_text="Longer than the top tier: charged as the top tier and flagged for review."
    )


class DiseaseSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class ConsultHoursSerializer(serializers.Serializer):
    weekday = serializers.ChoiceField(choices=["mon", "tue", "wed", "thu", "fri", "sat", "sun"])
    starts_at = HourMinuteField()
    ends_at = HourMinuteField()


class DepartmentSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    modes = serializers.ListField(child=serializers.ChoiceField(choices=_choices(Mode)))
    consult_hours = ConsultHoursSerializer(many=True)
    diseases = DiseaseSerializer(many=True)
    extra_documents = serializers.ListField(
        child=serializers.ChoiceField(choices=_choices(DocumentCode))
    )


class ClosedDaysQuerySerializer(serializers.Serializer):
    # From the first year of the holiday law to the holiday library's last year.
    year = serializers.IntegerField(min_value=1949, max_value=2099, help_text="1949–2099")


class ClosedDaySerializer(serializers.Serializer):
    date = serializers.DateField()
    reason = serializers.CharField(
        help_text="national_holiday, substitute_holiday, citizens_holiday, year_end, "
        "saturday or sunday"
    )
    name = serializers.CharField(help_text="The holiday's name in Japanese, or empty.")


class ClosedDaysSerializer(serializers.Serializer):
    year = serializers.IntegerField()
    closed_days = ClosedDaySerializer(many=True)


class StrictSerializerScheme(OpenApiSerializerExtension):  # type: ignore[no-untyped-call]
    """A strict body says so in the OpenAPI document: `additionalProperties: false`."""

    target_class = StrictSerializer
    match_subclasses = True

    def map_serializer(self, auto_schema: Any, direction: Any) -> Any:
        schema = auto_schema._map_basic_serializer(self.target, direction)
        if direction == "request":
            schema["additionalProperties"] = False
        return schema
