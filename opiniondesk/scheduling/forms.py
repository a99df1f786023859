"""The patient's choices of a date: which offered slot, and the explicit confirmation."""

from django import forms


class SlotForm(forms.Form):
    """One offered slot (its OfferedSlot id), as each slot's button posts it."""

    slot = forms.IntegerField(min_value=1, max_value=2**63 - 1)
    confirm = forms.BooleanField(required=False)
