"""The forms of the coordinator's and the specialist's consoles. They check input; services act."""

from datetime import date, datetime, timedelta
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from opiniondesk.cases.eligibility import Reason
from opiniondesk.cases.models import Channel, PhoneOutcome
from opiniondesk.cases.queue_search import MAX_LENGTH, parse_search
from opiniondesk.cases.selectors import QueueFilters
from opiniondesk.cases.wording import STAFF_STATUS_LABELS
from opiniondesk.cases.workflow import OPEN_STATES, Status
from opiniondesk.catalog.models import Department, Disease
from opiniondesk.catalog.selectors import desk_answers_on, patient_due_date
from opiniondesk.catalog.vocabulary import DocumentCode, Mode
from opiniondesk.core.forms import phone_field
from opiniondesk.core.time import JST, jst_now, jst_today
from opiniondesk.public.wording import DOCUMENT_TITLES, MODE_NAMES, REASONS, local_name

OPEN = "open"
ALL = "all"
# Longest-waiting first: the case that has waited longest is the next one to pick up.
OLDEST, NEWEST = "oldest", "newest"


class QueueFilterForm(forms.Form):
    """The work queue's filters, read from the query string; bad values fall back to defaults."""

    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=MAX_LENGTH,
        help_text=_("Reference (SO-…), name in kanji or kana, or phone number"),
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    state = forms.ChoiceField(label=_("State"), required=False)
    department = forms.ModelChoiceField(
        label=_("Department"),
        queryset=Department.objects.all(),
        required=False,
        empty_label=_("All departments"),
    )
    mode = forms.ChoiceField(label=_("Mode"), required=False)
    channel = forms.ChoiceField(
        label=_("How the application came"),
        required=False,
        choices=[("", _("Every way")), *Channel.choices],
    )
    min_days = forms.IntegerField(
        label=_("Waiting at least (days)"),
        required=False,
        min_value=0,
        max_value=3650,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    overdue = forms.BooleanField(label=_("Only overdue document requests"), required=False)
    ids = forms.BooleanField(label=_("Only IDs waiting for a check"), required=False)
    sort = forms.ChoiceField(
        label=_("Order"),
        required=False,
        choices=[(OLDEST, _("Waiting longest first")), (NEWEST, _("Newest first"))],
    )

    def __init__(self, *args: Any, departments: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["state"].choices = [
            (OPEN, _("Open cases")),
            (ALL, _("All states")),
            *[(s.value, STAFF_STATUS_LABELS[s]) for s in Status if s is not Status.DRAFT],
        ]
        self.fields["mode"].choices = [("", _("Online and in person"))] + [
            (m.value, MODE_NAMES[m]) for m in Mode
        ]
        if departments is not None:
            self.fields["department"].queryset = departments

    def filters(self) -> QueueFilters:
        data = self.cleaned_data if self.is_valid() else {}
        state = data.get("state") or OPEN
        states: frozenset[Status] | None = None
        if state == OPEN:
            states = OPEN_STATES - {Status.DRAFT}
        elif state != ALL:
            states = frozenset({Status(state)})
        department = data.get("department")
        return QueueFilters(
            states=states,
            department_id=department.pk if department else None,
            mode=data.get("mode") or "",
            channel=data.get("channel") or "",
            min_days_waiting=data.get("min_days"),
            overdue=bool(data.get("overdue")),
            ids_to_check=bool(data.get("ids")),
            newest_first=data.get("sort") == NEWEST,
            search=parse_search(data.get("q") or ""),
        )


class StaffForm(forms.Form):
    """One of several forms on a page: each gets its own element ids."""

    key = "action"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", f"id_{self.key}_%s")
        super().__init__(*args, **kwargs)


class CaseActionForm(StaffForm):
    """A change of state. It carries the state the page showed: if the case has moved since,
    someone else acted first and this click is refused rather than applied to a case the user
    has not seen (e.g. "start screening" on a case a colleague just sent to awaiting documents).
    """

    seen_status = forms.ChoiceField(
        choices=[(s.value, s.value) for s in Status], widget=forms.HiddenInput
    )


def _document_choices() -> list[tuple[str, Any]]:
    return [(code.value, DOCUMENT_TITLES[code]) for code in DocumentCode]


class RequestDocumentsForm(CaseActionForm):
    key = "request"
    items = forms.MultipleChoiceField(
        label=_("Documents to ask for"),
        choices=_document_choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Preselected: what the eligibility check finds missing."),
        error_messages={"required": _("Please choose at least one document.")},
    )
    message = forms.CharField(
        label=_("Message to the applicant"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("The applicant reads this in the e-mail and on their page. Be kind and plain."),
    )
    due_date = forms.DateField(
        label=_("Please send by (JST)"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("Both sides are reminded the day before and on the day."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        tomorrow = jst_today() + timedelta(days=1)
        self.fields["due_date"].widget.attrs["min"] = tomorrow.isoformat()

    def clean_due_date(self) -> Any:
        due = self.cleaned_data["due_date"]
        if due <= jst_today():
            raise forms.ValidationError(_("Please choose a date from tomorrow on."))
        if not desk_answers_on(due):
            raise forms.ValidationError(due_date_closed_message(due))
        return due


def due_date_closed_message(due: date) -> str:
    """Why a "please send by" date is refused, with the open day to give instead (SPEC §5)."""
    return _(
        "The phone desk is closed on that day, so the applicant could not call us about it. "
        "Please choose an open day, for example %(day)s."
    ) % {"day": patient_due_date(due, today=jst_today()).isoformat()}


class PhoneLogForm(StaffForm):
    key = "phone"
    called_on = forms.DateField(
        label=_("Date of the call (JST)"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    called_time = forms.TimeField(
        label=_("Time (JST)"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    number = forms.CharField(label=_("Number called"), max_length=20)
    outcome = forms.ChoiceField(
        label=_("Outcome"), choices=PhoneOutcome.choices, widget=forms.RadioSelect
    )
    notes = forms.CharField(
        label=_("Notes (staff only)"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        phone_field(self.fields["number"])

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("called_on") and data.get("called_time"):
            called_at = datetime.combine(data["called_on"], data["called_time"], tzinfo=JST)
            if called_at > timezone.now() + timedelta(minutes=5):
                self.add_error("called_time", _("The call cannot be in the future."))
            data["called_at"] = called_at
        return data


def phone_log_initial(number: str) -> dict[str, Any]:
    now = jst_now()
    return {"called_on": now.date(), "called_time": now.time().replace(second=0), "number": number}


class RejectForm(CaseActionForm):
    key = "reject"
    reasons = forms.MultipleChoiceField(
        label=_("Reasons"),
        choices=lambda: [(r.value, REASONS[r].title) for r in Reason],
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "Preselected: what the eligibility check finds. The applicant reads each "
            "reason's explanation."
        ),
        error_messages={"required": _("Please choose at least one reason.")},
    )
    note = forms.CharField(
        label=_("Explanation to the applicant"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Shown to the applicant below the reasons. Write kindly and plainly."),
    )


class DiseaseChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return local_name(obj)


class ReferForm(CaseActionForm):
    key = "refer"
    department = forms.ModelChoiceField(
        label=_("Department"), queryset=Department.objects.all(), empty_label=None
    )
    disease = DiseaseChoiceField(
        label=_("Disease (of that department)"),
        queryset=Disease.objects.select_related("department"),
        empty_label=_("Choose the disease"),
        help_text=_("Referring to another department: choose which of its diseases it is."),
        error_messages={"required": _("Please choose the disease.")},
    )

    def __init__(self, *args: Any, mode: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.mode = mode
        # Grouped by department, so the list reads like the catalog.
        choices: dict[str, list[tuple[int, str]]] = {}
        for disease in self.fields["disease"].queryset:
            label = local_name(disease.department)
            choices.setdefault(label, []).append((disease.pk, local_name(disease)))
        empty = ("", self.fields["disease"].empty_label)
        self.fields["disease"].choices = [empty, *choices.items()]

    def clean_department(self) -> Department:
        department: Department = self.cleaned_data["department"]
        if self.mode and self.mode not in department.modes:
            raise forms.ValidationError(MODE_REFUSALS[Mode(self.mode)])
        return department

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        department, disease = data.get("department"), data.get("disease")
        if department and disease and disease.department_id != department.pk:
            self.add_error(
                "disease",
                _("%(disease)s is not a disease of %(department)s. Please choose one of its own.")
                % {"disease": local_name(disease), "department": local_name(department)},
            )
        return data


# A department that does not see patients the way the case asks (SPEC §2: modes per department).
MODE_REFUSALS = {
    Mode.ONLINE: _("This department does not offer online consults."),
    Mode.IN_PERSON: _("This department does not offer in-person consults."),
}


class WithdrawForm(CaseActionForm):
    key = "withdraw"
    reason = forms.CharField(
        label=_("The applicant's request (how and when they asked)"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class AcceptForm(CaseActionForm):
    key = "accept"
    planned_minutes = forms.TypedChoiceField(
        label=_("Planned length of the consult"),
        choices=[
            (30, _("30 minutes (one slot)")),
            (60, _("60 minutes (two consecutive slots)")),
        ],
        coerce=int,
        widget=forms.RadioSelect,
        help_text=_(
            "From the materials: how long the consult will take, your review of the materials "
            "included (at most 60 minutes). The booking holds that much of your time."
        ),
        error_messages={"required": _("Please choose how long the consult will take.")},
    )


class DeclineForm(CaseActionForm):
    key = "decline"
    reason = forms.CharField(
        label=_("Reason"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_('The applicant reads this, e.g. "We have no specialist for this disease."'),
    )
