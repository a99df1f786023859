"""The staff forms of the consult on the case page: correcting a review time."""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from opiniondesk.cases.staff_forms import StaffForm
from opiniondesk.core.converters import MAX_ID


class ReviewCorrectForm(StaffForm):
    key = "review_correct"
    session = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=MAX_ID)
    minutes = forms.IntegerField(
        label=_("Corrected time (minutes)"),
        min_value=0,
        max_value=60,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    reason = forms.CharField(
        label=_("Why the measured time is wrong"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_('For example: "The page stayed open while I saw another patient."'),
    )

    def __init__(self, *args: Any, session_id: int | None = None, **kwargs: Any) -> None:
        if session_id is not None:
            kwargs.setdefault("auto_id", f"id_review{session_id}_%s")
        super().__init__(*args, **kwargs)
