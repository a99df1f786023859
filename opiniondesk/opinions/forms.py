"""The specialist's opinion form and the staff's delivery forms."""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from opiniondesk.core.forms import address_field, phone_field, postal_code_field, typed_as
from opiniondesk.core.typed import Kind
from opiniondesk.opinions.models import OpinionVersion

TEXT = {"rows": 8}


class OpinionForm(forms.Form):
    """The sections, and one answer field per question of the patient (labelled with it)."""

    on_current = forms.CharField(
        label=_("On the current diagnosis and treatment"),
        required=False,
        widget=forms.Textarea(attrs=TEXT),
    )
    on_future = forms.CharField(
        label=_("On future treatment and outlook"),
        required=False,
        widget=forms.Textarea(attrs=TEXT),
    )
    remarks = forms.CharField(
        label=_("Remarks"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )

    def __init__(self, *args: Any, questions: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.questions = questions
        remarks = self.fields.pop("remarks")
        for index, question in enumerate(questions):
            self.fields[f"answer_{index}"] = forms.CharField(
                label=_("Question %(n)s: %(question)s") % {"n": index + 1, "question": question},
                required=False,
                widget=forms.Textarea(attrs={"rows": 4}),
            )
        self.fields["remarks"] = remarks

    def answers(self) -> list[str]:
        return [self.cleaned_data[f"answer_{i}"] for i in range(len(self.questions))]

    @classmethod
    def initial_from(cls, version: OpinionVersion | None) -> dict[str, str]:
        if version is None:
            return {}
        return {
            "on_current": version.on_current,
            "on_future": version.on_future,
            "remarks": version.remarks,
            **{f"answer_{i}": item["answer"] for i, item in enumerate(version.answers)},
        }


class SignForm(forms.Form):
    previewed_hash = forms.CharField(widget=forms.HiddenInput)
    confirm = forms.BooleanField(
        label=_("I have read the preview and sign this opinion. It cannot be changed afterwards."),
        error_messages={"required": _("Please confirm that you have read the preview.")},
    )


class CorrectionForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for the correction"), widget=forms.Textarea(attrs={"rows": 3})
    )


class PostForm(forms.Form):
    posted_on = forms.DateField(
        label=_("Date posted"), widget=forms.DateInput(attrs={"type": "date"})
    )


class DeliveryDetailsForm(forms.Form):
    postal_code = forms.CharField(label=_("Postal code"), required=False, max_length=10)
    address = forms.CharField(label=_("Address"), required=False, max_length=200)
    fax = forms.CharField(label=_("Fax"), required=False, max_length=20)
    email = forms.CharField(label=_("E-mail"), required=False, max_length=254)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        postal_code_field(self.fields["postal_code"])
        address_field(self.fields["address"])
        phone_field(self.fields["fax"])
        typed_as(self.fields["email"], Kind.EMAIL)
        for name in ("postal_code", "fax", "email"):  # the doctor's, not the user's own
            self.fields[name].widget.attrs["autocomplete"] = "off"
