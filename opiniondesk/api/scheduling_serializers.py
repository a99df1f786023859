"""Input and output shapes of the scheduling endpoints (issue #5)."""

from datetime import datetime
from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from opiniondesk.api.fields import (
    StrictCharField,
    StrictDateField,
    StrictDateTimeField,
    StrictIntegerField,
)
from opiniondesk.api.serializers import StrictSerializer
from opiniondesk.catalog.selectors import desk_answers_at
from opiniondesk.catalog.vocabulary import Mode
from opiniondesk.core.converters import MAX_ID
from opiniondesk.readiness.rules import Item
from opiniondesk.scheduling.models import CancelKind, ReleaseReason
from opiniondesk.scheduling.selectors import SlotState
from opiniondesk.scheduling.staff_forms import desk_closed_message


class HeldSlotSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="Book or change to this date by this id.")
    specialist = serializers.IntegerField(source="specialist_id")
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField(
        help_text="The end of the whole consult: planned_minutes after starts_at."
    )
    released = serializers.SerializerMethodField()

    def get_released(self, slot: Any) -> bool:
        return slot.released_at is not None


class OfferSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    offered_at = serializers.DateTimeField()
    hold_until = serializers.DateTimeField()
    message = serializers.CharField()
    released_at = serializers.DateTimeField(allow_null=True)
    release_reason = serializers.ChoiceField(choices=ReleaseReason.values, allow_blank=True)
    slots = HeldSlotSerializer(many=True, source="slots.all")


class BookingSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    specialist = serializers.IntegerField(source="specialist_id")
    specialist_name = serializers.CharField(source="specialist.get_full_name")
    department = serializers.CharField(source="department.code")
    mode = serializers.ChoiceField(choices=[m.value for m in Mode])
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField(help_text="The end of the whole consult.")
    booked_at = serializers.DateTimeField()
    live = serializers.BooleanField(source="is_live")
    cancelled_at = serializers.DateTimeField(allow_null=True)
    cancel_kind = serializers.ChoiceField(choices=CancelKind.values, allow_blank=True)
    replaces = serializers.IntegerField(source="replaces_id", allow_null=True)


class ReadinessItemSerializer(serializers.Serializer):
    item = serializers.ChoiceField(choices=[i.value for i in Item])
    required = serializers.BooleanField()
    done = serializers.BooleanField()


class ScheduleSerializer(serializers.Serializer):
    planned_minutes = serializers.IntegerField(
        allow_null=True,
        help_text="The consult's length set by the specialist on accepting (30 or 60; null "
        "before): each date offered or booked holds that many minutes of consecutive "
        "30-minute slots of one specialist.",
    )
    booking = BookingSerializer(allow_null=True, help_text="The live booking, if any.")
    change_deadline = serializers.DateTimeField(
        allow_null=True,
        help_text="The patient may change or cancel online until this moment (JST).",
    )
    patient_may_change = serializers.BooleanField()
    offer = OfferSerializer(allow_null=True, help_text="The open round of candidate dates.")
    history = BookingSerializer(many=True, help_text="Every booking of the case, oldest first.")
    readiness = ReadinessItemSerializer(many=True)


class SlotRefSerializer(StrictSerializer):
    specialist = StrictIntegerField(min_value=1, max_value=MAX_ID)
    starts_at = StrictDateTimeField(
        help_text="The consult's first slot, ISO 8601 with the offset: 2026-12-01T14:00+09:00. "
        "The whole consult (the case's planned_minutes) must fit in consecutive free slots."
    )


class OfferCreateSerializer(StrictSerializer):
    slots = serializers.ListField(child=SlotRefSerializer(), min_length=1, max_length=20)
    hold_until = StrictDateTimeField(
        help_text="When the phone desk answers (an open day, inside its hours), so the patient "
        "can still call us (SPEC §5); at the latest the day before the last date."
    )
    message = StrictCharField(max_length=2000, required=False, allow_blank=True)

    def validate_hold_until(self, hold_until: datetime) -> datetime:
        if not desk_answers_at(hold_until):
            raise serializers.ValidationError(desk_closed_message(hold_until))
        return hold_until


class BookSerializer(StrictSerializer):
    offered_slot = StrictIntegerField(min_value=1, max_value=MAX_ID)


class ChangeSerializer(StrictSerializer):
    offered_slot = StrictIntegerField(min_value=1, max_value=MAX_ID, required=False)
    slot = SlotRefSerializer(required=False)
    reason = StrictCharField(max_length=2000, required=False, allow_blank=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("offered_slot" in attrs) == ("slot" in attrs):
            raise serializers.ValidationError(_("Give either offered_slot or slot."))
        return attrs


class CancelSerializer(StrictSerializer):
    reason = StrictCharField(max_length=2000, required=False, allow_blank=True)


class SlotQuerySerializer(StrictSerializer):
    department = StrictCharField(max_length=50)
    start = StrictDateField()
    end = StrictDateField()
    specialist = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["end"] < attrs["start"]:
            raise serializers.ValidationError({"end": [_("Must not be before start.")]})
        if (attrs["end"] - attrs["start"]).days > 92:
            raise serializers.ValidationError({"end": [_("At most 93 days at a time.")]})
        return attrs


class SlotSerializer(serializers.Serializer):
    specialist = serializers.IntegerField(source="specialist_id")
    specialist_name = serializers.CharField()
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    state = serializers.ChoiceField(choices=[s.value for s in SlotState])
    case = serializers.IntegerField(
        source="case_id", allow_null=True, help_text="Coordinators only; null for admins."
    )
