"""Shapes of the written opinion and of the disclosures of a case (issue #13): what a hospital
system reads of them. A draft's text only for the specialists of the case's department; never a
link's token or its hash."""

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from opiniondesk.interop.deadline import Standing
from opiniondesk.interop.models import Delivery, Wanted
from opiniondesk.opinions.models import DeliveryMethod, DisclosureBasis, VersionState

# Named enums of the OpenAPI document (ENUM_NAME_OVERRIDES): "state" and "method" are taken.
VERSION_STATES = list(VersionState.values)
DELIVERY_METHODS = list(DeliveryMethod.values)
DISCLOSURE_DELIVERIES = list(Delivery.values)
DISCLOSURE_STANDINGS = [s.value for s in Standing]


def _username(user: Any) -> str | None:
    return user.get_username() if user is not None else None


# The opinion ------------------------------------------------------------------------------


class AnswerSerializer(serializers.Serializer):
    question = serializers.CharField(help_text="The patient's question, as the application asked.")
    answer = serializers.CharField(allow_blank=True)


class OpinionContentSerializer(serializers.Serializer):
    on_current = serializers.CharField(
        allow_blank=True, help_text="On the current diagnosis and treatment."
    )
    on_future = serializers.CharField(
        allow_blank=True, help_text="On future treatment and outlook."
    )
    answers = AnswerSerializer(many=True, help_text="One per question of the patient, in order.")
    remarks = serializers.CharField(allow_blank=True)


class OpinionVersionSerializer(serializers.Serializer):
    number = serializers.IntegerField(help_text="1 for the first version; a correction is +1.")
    state = serializers.ChoiceField(choices=VERSION_STATES)
    written_by = serializers.CharField(source="written_by.username")
    saved_at = serializers.DateTimeField()
    signed_by = serializers.SerializerMethodField()
    signed_at = serializers.DateTimeField(allow_null=True)
    content_hash = serializers.SerializerMethodField(
        help_text="SHA-256 (hex) of the signed content, the case and the version number; null "
        "for a draft."
    )
    corrects = serializers.IntegerField(
        source="corrects.number",
        allow_null=True,
        help_text="The number of the signed version this one corrects.",
    )
    correction_reason = serializers.CharField(allow_blank=True)
    content = serializers.SerializerMethodField(
        help_text="What was signed. A draft's text is shown only to the specialists of the "
        "case's department; null for everyone else."
    )

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_signed_by(self, version: Any) -> str | None:
        return _username(version.signed_by)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_content_hash(self, version: Any) -> str | None:
        return version.content_hash if version.signed else None

    @extend_schema_field(OpinionContentSerializer(allow_null=True))
    def get_content(self, version: Any) -> dict[str, Any] | None:
        if not (version.signed or self.context["writer"]):
            return None
        return dict(OpinionContentSerializer(version.content()).data)


class OpinionDeliverySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    version = serializers.IntegerField(source="version.number", help_text="The version sent.")
    method = serializers.ChoiceField(choices=DELIVERY_METHODS)
    recipient_name = serializers.CharField()
    recipient_institution = serializers.CharField()
    recipient_department = serializers.CharField(allow_blank=True)
    recipient_email = serializers.CharField(
        allow_blank=True, help_text="Where the link was e-mailed (a link delivery)."
    )
    recipient_address = serializers.CharField(
        allow_blank=True, help_text="Where it was posted (a posted delivery)."
    )
    created_by = serializers.CharField(source="created_by.username")
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField(
        allow_null=True, help_text="When the link stops working (a link delivery)."
    )
    opened_at = serializers.DateTimeField(
        allow_null=True, help_text="When the physician opened the link (once)."
    )
    revoked_at = serializers.DateTimeField(
        allow_null=True, help_text="When a newer link replaced this unopened one."
    )
    posted_on = serializers.DateField(allow_null=True)
    delivered_at = serializers.DateTimeField(
        allow_null=True, help_text="When it reached the physician (opened, or posting recorded)."
    )


class OpinionSerializer(serializers.Serializer):
    case = serializers.IntegerField(source="case_id")
    versions = serializers.SerializerMethodField(help_text="Oldest first.")
    deliveries = serializers.SerializerMethodField(help_text="Oldest first.")

    @extend_schema_field(OpinionVersionSerializer(many=True))
    def get_versions(self, opinion: Any) -> list[dict[str, Any]]:
        rows = self.context["versions"]
        return list(OpinionVersionSerializer(rows, many=True, context=self.context).data)

    @extend_schema_field(OpinionDeliverySerializer(many=True))
    def get_deliveries(self, opinion: Any) -> list[dict[str, Any]]:
        return list(OpinionDeliverySerializer(self.context["deliveries"], many=True).data)


# Disclosures ------------------------------------------------------------------------------


class DisclosureRequestSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="request.pk")
    wanted = serializers.ChoiceField(choices=Wanted.values, source="request.wanted")
    details = serializers.CharField(
        allow_blank=True, source="request.details", help_text="Which part, when only a part."
    )
    delivery = serializers.ChoiceField(
        choices=DISCLOSURE_DELIVERIES, source="request.delivery", help_text="How it was asked for."
    )
    requested_by = serializers.CharField(source="request.requested_by.username")
    requested_at = serializers.DateTimeField(source="request.requested_at")
    due_on = serializers.DateField(
        source="deadline.due_on", help_text="The hospital's time limit (Japan time)."
    )
    standing = serializers.ChoiceField(
        choices=DISCLOSURE_STANDINGS, source="deadline.standing", help_text="Against the limit."
    )
    overdue = serializers.SerializerMethodField(help_text="Open and past the due day.")
    days_taken = serializers.IntegerField(
        source="deadline.days_taken", help_text="Days to the fulfilment, or to today while open."
    )
    fulfilled_at = serializers.DateTimeField(allow_null=True, source="request.fulfilled_at")
    fulfilled_by = serializers.SerializerMethodField()
    delivered_via = serializers.CharField(
        allow_blank=True,
        source="request.delivered_via",
        help_text="How it was handed over (post, desk, electronic); empty while open.",
    )
    fulfilment_note = serializers.CharField(allow_blank=True, source="request.fulfilment_note")

    @extend_schema_field(serializers.BooleanField())
    def get_overdue(self, row: Any) -> bool:
        return bool(row.deadline.standing == Standing.OVERDUE)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_fulfilled_by(self, row: Any) -> str | None:
        return _username(row.request.fulfilled_by)


class ThirdPartyDisclosureSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    recipient_name = serializers.CharField()
    recipient_institution = serializers.CharField()
    recipient_department = serializers.CharField(allow_blank=True)
    what = serializers.CharField(help_text="What was provided, as recorded (Japanese).")
    version = serializers.IntegerField(source="version.number", help_text="The opinion version.")
    disclosed_at = serializers.DateTimeField()
    disclosed_by = serializers.CharField(source="disclosed_by.username")
    method = serializers.ChoiceField(choices=DELIVERY_METHODS)
    basis = serializers.ChoiceField(choices=DisclosureBasis.values)
    basis_detail = serializers.CharField(allow_blank=True)


class DisclosuresSerializer(serializers.Serializer):
    requests = DisclosureRequestSerializer(
        many=True, help_text="The patient's disclosure requests (開示請求), newest first."
    )
    third_party = ThirdPartyDisclosureSerializer(
        many=True, help_text="Provisions to third parties (第三者提供の記録), oldest first."
    )
