"""Specialists' exceptions are edited here too (the coordinators also have a form on the
calendar); offers and bookings are only read: they change through the services, never here."""

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from opiniondesk.core.time import JST
from opiniondesk.scheduling import slots as slot_rules
from opiniondesk.scheduling.availability import (
    Change,
    check_extra_session_day,
    stranded_claims,
)
from opiniondesk.scheduling.models import Away, Booking, ExtraSession, Offer, OfferedSlot
from opiniondesk.scheduling.services import SchedulingError

START_BEFORE_END = _("The end must be after the start.")


def _refuse_stranding(specialist_id: int, day: Any, change: Change) -> None:
    stranded = stranded_claims(specialist_id=specialist_id, day=day, change=change)
    if stranded:
        times = ", ".join(f"{moment.astimezone(JST):%H:%M}" for moment in stranded)
        raise forms.ValidationError(
            _("Booked or offered dates fall in this time (%(times)s). Move or cancel them first.")
            % {"times": times}
        )


class AwayAdminForm(forms.ModelForm):
    class Meta:
        model = Away
        fields = ["specialist", "day", "starts_at", "ends_at", "note"]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        starts_at, ends_at = data.get("starts_at"), data.get("ends_at")
        if (starts_at is None) != (ends_at is None):
            raise forms.ValidationError(_("Give both times, or neither for the whole day."))
        if starts_at is not None and ends_at is not None and starts_at >= ends_at:
            raise forms.ValidationError(START_BEFORE_END)
        if data.get("specialist") and data.get("day") and not self.errors:
            rule = slot_rules.Away(data["day"], starts_at, ends_at)
            change = Change(add_away=rule, drop_away=self.instance.pk)
            _refuse_stranding(data["specialist"].pk, data["day"], change)
        return data


class ExtraSessionAdminForm(forms.ModelForm):
    class Meta:
        model = ExtraSession
        fields = ["specialist", "department", "day", "starts_at", "ends_at", "note"]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        starts_at, ends_at = data.get("starts_at"), data.get("ends_at")
        if starts_at is not None and ends_at is not None and starts_at >= ends_at:
            raise forms.ValidationError(START_BEFORE_END)
        specialist, department, day = (
            data.get("specialist"),
            data.get("department"),
            data.get("day"),
        )
        if specialist and department and day and not self.errors:
            try:
                check_extra_session_day(specialist=specialist, department=department, day=day)
            except SchedulingError as exc:
                raise forms.ValidationError(exc.message) from exc
        if self.instance.pk is not None and self.has_changed():
            # The session as it was must not carry a booking that the new one does not cover.
            old = ExtraSession.objects.get(pk=self.instance.pk)
            new = None
            if not self.errors and department:
                new = (department.pk, slot_rules.ExtraSession(day, starts_at, ends_at))
            change = Change(
                drop_extra=old.pk, add_extra=new if specialist == old.specialist else None
            )
            _refuse_stranding(old.specialist_id, old.day, change)
        return data


@admin.register(Away)
class AwayAdmin(admin.ModelAdmin):
    form = AwayAdminForm
    list_display = ["day", "starts_at", "ends_at", "specialist", "note"]
    list_filter = ["specialist", "day"]
    date_hierarchy = "day"


@admin.register(ExtraSession)
class ExtraSessionAdmin(admin.ModelAdmin):
    form = ExtraSessionAdminForm
    list_display = ["day", "starts_at", "ends_at", "specialist", "department", "note"]
    list_filter = ["specialist", "department", "day"]
    date_hierarchy = "day"
    actions = None  # no bulk delete: each removal is checked against the bookings in it

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and stranded_claims(
            specialist_id=obj.specialist_id, day=obj.day, change=Change(drop_extra=obj.pk)
        ):
            return False
        return super().has_delete_permission(request, obj)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Shown for looking up; written only by the scheduling services."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class OfferedSlotInline(admin.TabularInline):
    model = OfferedSlot
    fields = ["starts_at", "ends_at", "specialist", "department", "released_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Offer)
class OfferAdmin(ReadOnlyAdmin):
    list_display = ["pk", "case", "offered_by", "offered_at", "hold_until", "released_at"]
    list_filter = ["release_reason", "offered_at"]
    search_fields = ["=case__pk"]
    exclude = ["message"]  # words to the patient: not the IT administrators' business
    inlines = [OfferedSlotInline]


@admin.register(OfferedSlot)
class OfferedSlotAdmin(ReadOnlyAdmin):
    list_display = ["starts_at", "specialist", "department", "offer", "released_at"]
    list_filter = ["department", "specialist"]


@admin.register(Booking)
class BookingAdmin(ReadOnlyAdmin):
    list_display = ["starts_at", "case", "specialist", "department", "mode", "cancelled_at"]
    list_filter = ["department", "specialist", "mode", "cancel_kind"]
    search_fields = ["=case__pk"]
    exclude = ["reason", "cancel_reason"]  # may speak of the patient's situation
    date_hierarchy = "starts_at"
