"""The coordinator's correction of an application (SPEC §11.16): the fields that may be
corrected, checked as the application checks them, and the reason, which is required."""

import copy
from datetime import date
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from opiniondesk.cases.forms import KANA
from opiniondesk.cases.models import Case
from opiniondesk.core.forms import address_field, phone_field, postal_code_field
from opiniondesk.core.time import jst_today
from opiniondesk.records.services import CORRECTABLE


class ApplicationCorrectForm(forms.ModelForm):
    key = "correct"
    reason = forms.CharField(
        label=_("Reason for the correction"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    # How many corrections the page showed: a colleague's correction since then is not undone.
    seen_revisions = forms.IntegerField(min_value=0, widget=forms.HiddenInput)

    class Meta:
        model = Case
        fields = list(CORRECTABLE)
        widgets = {"patient_birth_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}

    def __init__(self, *args: Any, case: Case, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", f"id_{self.key}_%s")
        # A copy: the page drawn again after a refusal shows the case as it is stored.
        super().__init__(*args, instance=copy.copy(case), **kwargs)
        if "seen_revisions" not in self.initial:  # the page passes the number it listed
            self.initial["seen_revisions"] = case.revisions.count()
        for name in ("patient_family_name", "patient_given_name"):
            self.fields[name].required = True
        for name in ("patient_phone", "physician_phone"):
            phone_field(self.fields[name])
        postal_code_field(self.fields["patient_postal_code"])
        address_field(self.fields["patient_address"])

    def _clean_kana(self, name: str) -> str:
        value = str(self.cleaned_data[name]).strip()
        if value and not KANA.match(value):
            raise forms.ValidationError(_("Please write the name in kana (hiragana or katakana)."))
        return value

    def clean_patient_family_name_kana(self) -> str:
        return self._clean_kana("patient_family_name_kana")

    def clean_patient_given_name_kana(self) -> str:
        return self._clean_kana("patient_given_name_kana")

    def clean_patient_birth_date(self) -> date | None:
        birth = self.cleaned_data.get("patient_birth_date")
        if birth and birth > jst_today():
            raise forms.ValidationError(_("The date of birth cannot be in the future."))
        return birth

    def values(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in CORRECTABLE}
