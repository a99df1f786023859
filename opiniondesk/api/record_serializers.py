"""Shapes of the consult record and the fee (issue #13): what a hospital system reads of them,
and the bodies of the billing staff's actions. No chat text or notes for a role that does not
see them on the staff pages; no provider references, keys or card secrets ever."""

from typing import Any

from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from opiniondesk.api.fields import StrictCharField, StrictChoiceField, StrictIntegerField
from opiniondesk.api.serializers import StrictSerializer
from opiniondesk.billing.models import (
    AttemptState,
    ChargeState,
    CollectMethod,
    Provider,
    ReceiptKind,
    RefundState,
)
from opiniondesk.catalog.vocabulary import Mode
from opiniondesk.consults.clock import billable_minutes
from opiniondesk.consults.models import ConsultState, EndReason, Side

# Named enums of the OpenAPI document (ENUM_NAME_OVERRIDES): several fields are called "state".
CONSULT_STATES = list(ConsultState.values)
CHARGE_STATES = list(ChargeState.values)
ATTEMPT_STATES = list(AttemptState.values)
REFUND_STATES = list(RefundState.values)
COLLECT_METHODS = list(CollectMethod.values)
MAX_REFUND_YEN = 100_000_000
# Something written, and no NUL character (which DRF's CharField refuses): the document says so,
# so a body valid by the document is not refused.
SOMETHING_WRITTEN = RegexValidator(r"^[^\x00]*[^\s\x00][^\x00]*$", _("Give a reason."))
MAX_REASON = 1000


def _username(user: Any) -> str | None:
    return user.get_username() if user is not None else None


# The consult ------------------------------------------------------------------------------


class ChatMessageSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    side = serializers.ChoiceField(choices=Side.values)
    user = serializers.CharField(source="user.username")
    text = serializers.CharField()


class ConsultSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    state = serializers.ChoiceField(choices=CONSULT_STATES)
    mode = serializers.ChoiceField(choices=[m.value for m in Mode])
    planned_minutes = serializers.IntegerField()
    specialist = serializers.CharField(source="specialist.username")
    present_patient_side = serializers.ListField(
        child=serializers.CharField(), help_text="Who was present with the patient (confirmed)."
    )
    present_hospital_side = serializers.ListField(child=serializers.CharField())
    patient_confirmed_at = serializers.DateTimeField(allow_null=True)
    hospital_confirmed_at = serializers.DateTimeField(allow_null=True)
    started_at = serializers.DateTimeField(allow_null=True)
    ended_at = serializers.DateTimeField(allow_null=True)
    limit_at = serializers.DateTimeField(
        allow_null=True, help_text="When the call had to end (the limit counts the review too)."
    )
    end_reason = serializers.ChoiceField(
        choices=EndReason.values, allow_blank=True, help_text="Empty until the consult ends."
    )
    review_seconds = serializers.IntegerField(help_text="The review time, frozen at the start.")
    call_seconds = serializers.IntegerField()
    billable_minutes = serializers.SerializerMethodField(
        help_text="Review and call together in whole minutes; null until the consult ends."
    )
    notes = serializers.SerializerMethodField(
        help_text="The specialist's notes; null for a role that does not see them (billing staff)."
    )
    notes_saved_at = serializers.SerializerMethodField()
    messages = serializers.SerializerMethodField(
        help_text="The chat of the call, oldest first; null for a role that does not see it."
    )

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_billable_minutes(self, consult: Any) -> int | None:
        if consult.ended_at is None:
            return None
        return billable_minutes(consult.review_seconds, consult.call_seconds)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_notes(self, consult: Any) -> str | None:
        return consult.notes if self.context["clinical"] else None

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_notes_saved_at(self, consult: Any) -> Any:
        if not self.context["clinical"] or consult.notes_saved_at is None:
            return None
        return serializers.DateTimeField().to_representation(consult.notes_saved_at)

    @extend_schema_field(ChatMessageSerializer(many=True, allow_null=True))
    def get_messages(self, consult: Any) -> list[dict[str, Any]] | None:
        if not self.context["clinical"]:
            return None
        rows = consult.messages.select_related("user").order_by("at", "pk")
        return list(ChatMessageSerializer(rows, many=True).data)


# The fee ---------------------------------------------------------------------------------


class CardSerializer(serializers.Serializer):
    brand = serializers.CharField()
    last4 = serializers.CharField()
    exp_month = serializers.IntegerField(allow_null=True)
    exp_year = serializers.IntegerField(allow_null=True)


class AttemptSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    state = serializers.ChoiceField(choices=ATTEMPT_STATES)
    sends = serializers.IntegerField(help_text="Times sent with the same idempotency key.")
    started_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    message = serializers.CharField(help_text="The card company's words on a failure.")


class RefundSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    amount = serializers.IntegerField(help_text="Yen.")
    reason = serializers.CharField()
    state = serializers.ChoiceField(choices=REFUND_STATES)
    made_at = serializers.DateTimeField()
    made_by = serializers.CharField(source="made_by.username")
    message = serializers.CharField(help_text="The card company's words on a refusal.")


class ReceiptSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=ReceiptKind.values)
    issued_on = serializers.DateField()
    amount = serializers.IntegerField(help_text="Yen, tax included.")
    tax = serializers.IntegerField()
    tax_rate_percent = serializers.IntegerField()
    method = serializers.CharField(help_text="How it was paid, as printed (Japanese).")
    corrects = serializers.IntegerField(
        source="corrects.number", allow_null=True, help_text="The receipt this one replaces."
    )
    superseded = serializers.BooleanField(help_text="A corrected receipt replaced this one.")
    first_downloaded_at = serializers.DateTimeField(allow_null=True)


class ChargeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    case = serializers.IntegerField(source="case_id")
    state = serializers.ChoiceField(choices=CHARGE_STATES)
    provider = serializers.ChoiceField(choices=Provider.values)
    amount = serializers.IntegerField(help_text="Yen, consumption tax included.")
    tax = serializers.IntegerField(help_text="The consumption tax within amount (yen).")
    tax_rate_percent = serializers.IntegerField()
    tier = serializers.IntegerField(help_text="1-based; 0 when nothing was billable.")
    fee_schedule = serializers.DateField(
        source="schedule.effective_from", help_text="The fee table used (its effective date)."
    )
    review_seconds = serializers.IntegerField()
    call_seconds = serializers.IntegerField()
    billable_minutes = serializers.IntegerField()
    over_limit = serializers.BooleanField(help_text="Longer than the top tier: charged at it.")
    created_at = serializers.DateTimeField()
    settled_at = serializers.DateTimeField(allow_null=True)
    settled_by = serializers.SerializerMethodField()
    collect_method = serializers.ChoiceField(choices=COLLECT_METHODS, allow_blank=True)
    decision_reason = serializers.CharField(help_text="Why it was waived or billed at 0 minutes.")
    failure_message = serializers.CharField(help_text="The card company's words, for staff.")
    refunded = serializers.IntegerField(help_text="Yen given back so far.")
    refundable = serializers.SerializerMethodField(help_text="Yen that may still be refunded.")
    card = CardSerializer(allow_null=True, help_text="The card charged (brand, last digits).")
    attempts = AttemptSerializer(many=True, help_text="The tries at the card company.")
    refunds = RefundSerializer(many=True)
    receipts = ReceiptSerializer(many=True)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_settled_by(self, charge: Any) -> str | None:
        return _username(charge.settled_by)

    @extend_schema_field(serializers.IntegerField())
    def get_refundable(self, charge: Any) -> int:
        refundable: int = self.context["refundable"]
        return refundable


class BillingConflictSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField(help_text="state, unavailable, ... (billing's reason code)")
    state = serializers.ChoiceField(choices=CHARGE_STATES, help_text="The charge's state now.")


# The billing staff's actions ---------------------------------------------------------------


class CollectSerializer(StrictSerializer):
    method = StrictChoiceField(choices=COLLECT_METHODS)


def _reason() -> StrictCharField:
    return StrictCharField(max_length=MAX_REASON, validators=[SOMETHING_WRITTEN])


class WaiveSerializer(StrictSerializer):
    reason = _reason()


class RefundCreateSerializer(StrictSerializer):
    amount = StrictIntegerField(
        min_value=1,
        max_value=MAX_REFUND_YEN,
        help_text="Yen; more than the fee's `refundable` is refused with 409.",
    )
    reason = _reason()
