"""The billing desk's forms: the filters of the queue, the period of the totals, and what billing
staff decide or record on a charge. Each form has a `key`: a form that failed is shown again."""

import re
from datetime import date
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from opiniondesk.billing.models import ChargeState, CollectMethod
from opiniondesk.billing.reports import Period
from opiniondesk.billing.services import MAX_REASON
from opiniondesk.core import typed

ACTION = "action"
# The longest period a page or a file covers: a few years of charges is still a small file.
MAX_DAYS = 3 * 366


class PeriodForm(forms.Form):
    """JST days, both included; this month when nothing is given."""

    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput({"type": "date"})
    )
    date_to = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput({"type": "date"})
    )

    def __init__(self, *args: Any, today: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        first, last = data.get("date_from"), data.get("date_to")
        if first and last and first > last:
            raise forms.ValidationError(_("The first day comes after the last day."))
        if first and last and (last - first).days > MAX_DAYS:
            raise forms.ValidationError(_("Choose a period of at most three years."))
        return data

    def period(self) -> Period:
        """The period asked for (this month when the form is empty or wrong)."""
        month = Period.month_of(self.today)
        if not self.is_bound or not self.is_valid():
            return month
        first = self.cleaned_data.get("date_from")
        last = self.cleaned_data.get("date_to")
        if first and not last:
            last = max(first, self.today)
        if last and not first:
            first = last.replace(day=1)
        return Period(first, last) if first and last else month


class QueueFilterForm(PeriodForm):
    state = forms.ChoiceField(label=_("State"), required=False)

    field_order = ["state", "date_from", "date_to"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["state"].choices = [
            (ACTION, _("Needing action")),
            ("", _("All charges")),
            *ChargeState.choices,
        ]

    def chosen_state(self) -> str:
        if not self.is_bound:
            return ACTION
        return self.cleaned_data.get("state", ACTION) if self.is_valid() else ACTION

    def period_or_none(self) -> Period | None:
        """The days asked for; none (every day) when no day is given."""
        if not self.is_bound or not self.is_valid():
            return None
        if not (self.cleaned_data.get("date_from") or self.cleaned_data.get("date_to")):
            return None
        return self.period()


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"), max_length=MAX_REASON, widget=forms.Textarea({"rows": 3})
    )


class ConfirmedReasonForm(ReasonForm):
    confirm = forms.BooleanField(label=_("I have checked: this cannot be undone."))


class CollectForm(forms.Form):
    method = forms.ChoiceField(
        label=_("How the fee was paid"), choices=CollectMethod.choices, widget=forms.RadioSelect
    )
    confirm = forms.BooleanField(label=_("I have checked: this cannot be undone."))


def yen(value: str) -> int | None:
    """An amount as typed: full-width digits, commas, ¥ and 円 allowed ("￥１，０００" is 1000)."""
    text = re.sub(r"[\s,¥\\円]", "", typed.code(value))
    return int(text) if re.fullmatch(r"[0-9]{1,9}", text) else None


class RefundForm(ConfirmedReasonForm):
    amount = forms.CharField(label=_("Amount to refund (yen, tax included)"), max_length=30)

    field_order = ["amount", "reason", "confirm"]

    def clean_amount(self) -> int:
        amount = yen(self.cleaned_data["amount"])
        if amount is None or amount <= 0:
            raise forms.ValidationError(_("Enter the amount in yen, for example 5500."))
        return amount


class PlainForm(forms.Form):
    """An action that needs nothing but the button."""
