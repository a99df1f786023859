"""The patient's choices of a date: which offered slot, and the explicit confirmation."""

from django import forms

from opiniondesk.core.converters import MAX_ID


class SlotForm(forms.Form):
    """One offered slot (its OfferedSlot id), as each slot's button posts it."""

    slot = forms.IntegerField(min_value=1, max_value=MAX_ID)
    confirm = forms.BooleanField(required=False)
