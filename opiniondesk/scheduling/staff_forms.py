"""The coordinator's scheduling forms: dates to offer, a booking's change or cancellation, the
calendar's filters and the specialists' exceptions. They check input; services act."""

from datetime import date, datetime, time, timedelta
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from opiniondesk.accounts.models import Role, User
from opiniondesk.cases.staff_forms import CaseActionForm, StaffForm
from opiniondesk.catalog.models import Department
from opiniondesk.catalog.selectors import desk_answers_at, patient_deadline
from opiniondesk.core.converters import MAX_ID
from opiniondesk.core.time import JST, jst_today
from opiniondesk.scheduling.selectors import parse_slot_key, specialists_of
from opiniondesk.scheduling.services import desk_closed_message

MAX_SLOTS = 20  # more candidate dates than anyone reads
WEEK, MONTH = "week", "month"
BAD_SLOT = _("One of the chosen dates is not valid. Please choose again.")


def _date_widget() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _time_widget() -> forms.TimeInput:
    return forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


class SpecialistChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return obj.get_full_name() or obj.get_username()


def _specialists() -> Any:
    return User.objects.filter(role=Role.SPECIALIST, is_active=True).order_by(
        "last_name", "first_name", "pk"
    )


def read_slot_key(key: str) -> tuple[int, datetime]:
    """A slot key from a form: `parse_slot_key`, with the specialist id kept in range."""
    specialist_id, starts_at = parse_slot_key(key)
    if not 0 < specialist_id <= MAX_ID:
        raise ValueError(f"not a slot: {key!r}")
    return specialist_id, starts_at


class SlotFilterForm(forms.Form):
    """The suggested dates' filters on the case page, from the query string."""

    specialist = SpecialistChoiceField(
        label=_("Specialist"),
        queryset=User.objects.none(),
        required=False,
        empty_label=_("All specialists"),
    )
    start = forms.DateField(label=_("Starting from"), required=False, widget=_date_widget())

    def __init__(self, *args: Any, department: Department, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "id_slotfilter_%s")
        super().__init__(*args, **kwargs)
        self.fields["specialist"].queryset = specialists_of(department)

    def filters(self) -> tuple[User | None, date | None]:
        """Bad values are ignored, as if not given."""
        if not self.is_bound or not self.is_valid():
            return None, None
        return self.cleaned_data["specialist"], self.cleaned_data["start"]


class JSTDateTimeField(forms.DateTimeField):
    """A `datetime-local` value, read and shown as Japan time whatever the server's zone."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
    input_formats = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]

    def to_python(self, value: Any) -> datetime | None:
        with timezone.override(JST):
            return super().to_python(value)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, datetime) and timezone.is_aware(value):
            return value.astimezone(JST).replace(tzinfo=None)
        return value


class SlotKeysField(forms.Field):
    """The checked slots, each named by `SlotView.key`; the template draws the checkboxes."""

    widget = forms.CheckboxSelectMultiple

    def to_python(self, value: Any) -> list[tuple[int, datetime]]:
        if not value:
            return []
        if not isinstance(value, list | tuple) or len(value) > MAX_SLOTS:
            raise forms.ValidationError(BAD_SLOT)
        try:
            return [read_slot_key(str(key)) for key in value]
        except ValueError as exc:
            raise forms.ValidationError(BAD_SLOT) from exc

    def validate(self, value: Any) -> None:
        if self.required and not value:
            raise forms.ValidationError(self.error_messages["required"], code="required")


class OfferForm(CaseActionForm):
    key = "offer"
    slots = SlotKeysField(
        label=_("Dates to offer"),
        error_messages={"required": _("Choose at least one date to offer.")},
    )
    hold_until = JSTDateTimeField(
        label=_("Hold these dates until (JST)"),
        help_text=_(
            "The patient chooses before this moment; then the dates are released for others. "
            "At the latest the day before the last date."
        ),
    )
    message = forms.CharField(
        label=_("Message to the patient"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Sent with the dates by e-mail. Be kind and plain."),
    )

    def clean_hold_until(self) -> datetime:
        hold_until = self.cleaned_data["hold_until"]
        if hold_until <= timezone.now():
            raise forms.ValidationError(_("Please choose a moment in the future."))
        if not desk_answers_at(hold_until):
            raise forms.ValidationError(desk_closed_message(hold_until))
        return hold_until


def default_hold_until(first_slot: datetime, hold_days: int) -> datetime:
    """`hold_days` days from today at 17:00, or 23:59 the day before the first date if earlier
    (the hold never outlives a date), moved onto a moment the phone desk answers (SPEC §5)."""
    first_day = first_slot.astimezone(JST).date()
    return patient_deadline(
        min(
            datetime.combine(jst_today() + timedelta(days=hold_days), time(17, 0), tzinfo=JST),
            datetime.combine(first_day - timedelta(days=1), time(23, 59), tzinfo=JST),
        )
    )


class _SeenObjectForm(StaffForm):
    """Carries the offer or booking the page showed: if it has changed since, the action is
    refused rather than applied to something the user has not seen."""

    seen = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=MAX_ID)


def _reason_field(label: Any) -> forms.CharField:
    # Each form names its reason differently: the page's element ids stay unique.
    return forms.CharField(
        label=label,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Please give the reason.")},
    )


class OfferWithdrawForm(_SeenObjectForm):
    key = "offer_withdraw"
    withdraw_reason = _reason_field(_("Why the dates are taken back"))


HELD_PREFIX = "held:"


class BookingChangeForm(_SeenObjectForm):
    key = "change"
    target = forms.CharField(
        label=_("New date"),
        max_length=40,
        error_messages={"required": _("Choose the new date.")},
    )
    change_reason = _reason_field(_("Reason for the change (the patient reads it)"))

    def clean_target(self) -> dict[str, Any]:
        """{"offered_slot_id": id} for a date still held for the case, else {"slot": ...}."""
        target = self.cleaned_data["target"]
        try:
            if target.startswith(HELD_PREFIX):
                pk = int(target.removeprefix(HELD_PREFIX))
                if not 0 < pk <= MAX_ID:
                    raise ValueError(target)
                return {"offered_slot_id": pk}
            return {"slot": read_slot_key(target)}
        except ValueError as exc:
            raise forms.ValidationError(BAD_SLOT) from exc


class BookingCancelForm(_SeenObjectForm):
    key = "cancel"
    cancel_reason = _reason_field(_("Reason for cancelling (the patient reads it)"))
    confirm = forms.BooleanField(
        label=_("Yes, cancel this booking. The patient is told by e-mail."),
        error_messages={"required": _("Please tick the box to confirm.")},
    )


# The calendar.


class CalendarForm(forms.Form):
    """The calendar's choices, from the query string; bad values fall back to the defaults."""

    department = forms.ModelChoiceField(
        label=_("Department"),
        queryset=Department.objects.all(),
        to_field_name="code",
        required=False,
        empty_label=None,
    )
    specialist = SpecialistChoiceField(
        label=_("Specialist"), queryset=_specialists(), required=False, empty_label=_("All")
    )
    view = forms.ChoiceField(
        label=_("Show"), choices=[(WEEK, _("Week")), (MONTH, _("Month"))], required=False
    )
    date = forms.DateField(label=_("Date"), required=False, widget=_date_widget())

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "id_calendar_%s")
        super().__init__(*args, **kwargs)

    def choices(self) -> dict[str, Any]:
        data = self.cleaned_data if self.is_valid() else {}
        department = data.get("department") or Department.objects.first()
        specialist = data.get("specialist")
        if specialist is not None and not specialist.departments.filter(pk=department.pk).exists():
            specialist = None
        return {
            "department": department,
            "specialist": specialist,
            "view": data.get("view") or WEEK,
            "date": data.get("date") or jst_today(),
        }


class AwayForm(StaffForm):
    key = "away"
    specialist = SpecialistChoiceField(label=_("Specialist"), queryset=_specialists())
    day = forms.DateField(label=_("Day"), widget=_date_widget())
    starts_at = forms.TimeField(
        label=_("Start time (empty: all day)"), required=False, widget=_time_widget()
    )
    ends_at = forms.TimeField(
        label=_("End time (empty: all day)"), required=False, widget=_time_widget()
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=200)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        starts_at, ends_at = data.get("starts_at"), data.get("ends_at")
        if (starts_at is None) != (ends_at is None) and not self.errors:
            self.add_error("ends_at", _("Give both times, or neither for the whole day."))
        elif starts_at is not None and ends_at is not None and starts_at >= ends_at:
            self.add_error("ends_at", _("The end must be after the start."))
        return data


class ExtraSessionForm(StaffForm):
    key = "extra"
    specialist = SpecialistChoiceField(label=_("Specialist"), queryset=_specialists())
    department = forms.ModelChoiceField(
        label=_("Department"), queryset=Department.objects.all(), empty_label=None
    )
    day = forms.DateField(label=_("Day"), widget=_date_widget())
    starts_at = forms.TimeField(label=_("Start time"), widget=_time_widget())
    ends_at = forms.TimeField(label=_("End time"), widget=_time_widget())
    note = forms.CharField(label=_("Note"), required=False, max_length=200)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        starts_at, ends_at = data.get("starts_at"), data.get("ends_at")
        if starts_at is not None and ends_at is not None and starts_at >= ends_at:
            self.add_error("ends_at", _("The end must be after the start."))
        specialist, department = data.get("specialist"), data.get("department")
        if (
            specialist
            and department
            and not specialist.departments.filter(pk=department.pk).exists()
        ):
            self.add_error(
                "specialist", _("This specialist does not see patients of this department.")
            )
        return data


AWAY, EXTRA = "away", "extra"


class ExceptionDeleteForm(forms.Form):
    kind = forms.ChoiceField(choices=[(AWAY, AWAY), (EXTRA, EXTRA)])
    pk = forms.IntegerField(min_value=1, max_value=MAX_ID)
