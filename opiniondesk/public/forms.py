"""The public self-check form: plain questions in, SPEC §10's application shape out.

The form only checks that every answer is there and makes sense (a real, past birth date; a
disease of the chosen department). Whether the application may be accepted is decided by the
rules in opiniondesk.cases.eligibility, never here.
"""

from collections.abc import Sequence
from datetime import date
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from opiniondesk.cases.eligibility import Consent
from opiniondesk.cases.fields import BirthDateField, relation_choices, yes_no
from opiniondesk.cases.kinship import Relation
from opiniondesk.catalog.models import Department
from opiniondesk.catalog.vocabulary import DocumentCode, Mode
from opiniondesk.public.wording import DOCUMENT_TITLES, local_name

# A department or disease that is not in the catalog: the rules answer NO_SPECIALIST for it.
NOT_LISTED = "-"


def _disease_of(disease: str, department: str) -> bool:
    """Whether a disease choice ("department:disease") may go with the department chosen."""
    if disease == NOT_LISTED:
        return True
    return department != NOT_LISTED and disease.startswith(f"{department}:")


class SelfCheckForm(forms.Form):
    """The questions of the self-check page, in the order a family thinks of them."""

    relation = forms.ChoiceField(
        label=_("Who is filling in this form?"),
        help_text=_("Choose your relation to the patient."),
        error_messages={"required": _("Please choose who is applying.")},
    )
    patient_consent = forms.ChoiceField(
        label=_("Has the patient agreed to your consultation in writing?"),
        help_text=_(
            "Only for family members. If the patient is under 18, no consent form is "
            "needed: choose “No” if you do not have one."
        ),
        choices=[
            (Consent.SIGNED.value, _("Yes, the patient has signed the consent form")),
            (
                Consent.UNABLE_TO_SIGN_NOTE.value,
                _("The patient cannot sign because of their condition; we add a note saying so"),
            ),
            (Consent.NONE.value, _("No, there is no consent form")),
        ],
        widget=forms.RadioSelect,
        required=False,
    )
    birth_date = BirthDateField(
        label=_("The patient's date of birth"),
        help_text=_("Year in the Western calendar, for example 1950."),
    )
    alive = yes_no(
        _("Is the patient alive?"), yes=_("Yes"), no=_("No, the patient has passed away")
    )
    resides_in_japan = yes_no(_("Does the patient live in Japan?"))
    has_japanese_insurance = yes_no(
        _("Does the patient have Japanese public health insurance?"),
        help_text=_("For example a health insurance card (健康保険証) issued in Japan."),
    )
    mode = forms.ChoiceField(
        label=_("How would you like to consult?"),
        choices=[
            (Mode.ONLINE.value, _("Online, by video call from home or elsewhere")),
            (Mode.IN_PERSON.value, _("In person, at the hospital")),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": _("Please choose online or in person.")},
    )
    joining_from_japan = yes_no(
        _("For an online consult: will you join from inside Japan?"),
        help_text=_("You can skip this question for an in-person consult."),
        required=False,
        empty_value=None,
    )
    department = forms.ChoiceField(
        label=_("Department"),
        help_text=_("Decide the department together with your attending physician."),
        error_messages={"required": _("Please choose a department.")},
    )
    disease = forms.ChoiceField(
        label=_("Disease"),
        help_text=_("Choose a disease of the department you chose."),
        error_messages={"required": _("Please choose a disease.")},
    )
    attending_physician_agrees = yes_no(
        _("Has your attending physician agreed that you seek a second opinion?")
    )
    can_provide_materials = yes_no(
        _(
            "Can your attending physician provide a referral letter and the test data "
            "(results and images)?"
        )
    )
    wants_tests_or_treatment_here = yes_no(
        _("Would you like tests or treatment at our hospital during the second opinion?")
    )
    wants_transfer = yes_no(
        _("Would you like to move your care to our hospital from the start?"),
        help_text=_("That is, to change your attending physician to a doctor of our hospital."),
    )
    complaint_or_litigation = yes_no(
        _(
            "Is your question about dissatisfaction with your attending physician, "
            "a medical accident or a lawsuit?"
        )
    )
    fee_or_benefit_question = yes_no(_("Is your question about medical fees or medical benefits?"))
    privacy_policy_accepted = forms.BooleanField(
        label=_("I agree to the hospital's privacy policy when I apply."),
        required=False,
    )
    documents = forms.MultipleChoiceField(
        label=_("Which documents do you already have?"),
        help_text=_("Tick what you have now. It is fine if you have none yet."),
        choices=[(code.value, DOCUMENT_TITLES[code]) for code in DocumentCode],
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    # Fields shown as one group of radio buttons or checkboxes (fieldset and legend).
    GROUPED = frozenset(
        {
            "patient_consent",
            "birth_date",
            "alive",
            "resides_in_japan",
            "has_japanese_insurance",
            "mode",
            "joining_from_japan",
            "attending_physician_agrees",
            "can_provide_materials",
            "wants_tests_or_treatment_here",
            "wants_transfer",
            "complaint_or_litigation",
            "fee_or_benefit_question",
            "documents",
        }
    )

    def __init__(self, *args: Any, departments: Sequence[Department], today: date, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.today = today
        self.fields["relation"].choices = relation_choices()
        self.fields["department"].choices = [
            ("", _("Please choose")),
            *((d.code, local_name(d)) for d in departments),
            (NOT_LISTED, _("Not in this list / I do not know")),
        ]
        self.fields["disease"].choices = [
            ("", _("Please choose")),
            *(
                (
                    local_name(d),
                    [(f"{d.code}:{x.code}", local_name(x)) for x in d.diseases.all()],
                )
                for d in departments
            ),
            (_("Other"), [(NOT_LISTED, _("Not in this list / I do not know"))]),
        ]
        self._describe_fields()

    def _describe_fields(self) -> None:
        """Link each input to its hint and, after a failed check, to its error message."""
        for name, field in self.fields.items():
            ids = []
            if field.help_text:
                ids.append(f"{name}-hint")
            if self.is_bound and name in self.errors:
                ids.append(f"{name}-error")
                field.widget.attrs["aria-invalid"] = "true"
            if ids and name not in self.GROUPED:
                field.widget.attrs["aria-describedby"] = " ".join(ids)

    def full_clean(self) -> None:
        super().full_clean()
        self._describe_fields()

    def clean_birth_date(self) -> date:
        birth_date: date = self.cleaned_data["birth_date"]
        if birth_date > self.today:
            raise forms.ValidationError(
                _("The date of birth is in the future. Please check the year."), code="future"
            )
        return birth_date

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        relation = data.get("relation")
        if relation and relation != Relation.SELF and not data.get("patient_consent"):
            self.add_error("patient_consent", _("Please tell us whether the patient has agreed."))
        if data.get("mode") == Mode.ONLINE and data.get("joining_from_japan") is None:
            self.add_error(
                "joining_from_japan", _("Please tell us where you will join the call from.")
            )
        department, disease = data.get("department"), data.get("disease")
        if department and disease and not _disease_of(disease, department):
            self.add_error(
                "disease", _("This disease belongs to another department. Please choose again.")
            )
        return data

    def application_data(self) -> dict[str, Any]:
        """The answers in the shape of SPEC §10's request body (cases.selectors reads it)."""
        data = self.cleaned_data
        disease = data["disease"].partition(":")[2] or NOT_LISTED
        return {
            "mode": data["mode"],
            "department": data["department"],
            "disease": disease,
            "patient": {
                "birth_date": data["birth_date"],
                "deceased": not data["alive"],
                "resides_in_japan": data["resides_in_japan"],
                "has_japanese_insurance": data["has_japanese_insurance"],
            },
            "requester": {
                "relation": data["relation"],
                "patient_consent": data["patient_consent"] or Consent.NONE.value,
            },
            # The question is asked for online consults only; in person it does not apply.
            "joining_from_japan": data["joining_from_japan"] is not False,
            "declarations": {
                name: data[name]
                for name in (
                    "attending_physician_agrees",
                    "wants_tests_or_treatment_here",
                    "wants_transfer",
                    "complaint_or_litigation",
                    "fee_or_benefit_question",
                    "can_provide_materials",
                )
            },
            "privacy_policy_accepted": data["privacy_policy_accepted"],
            "documents": data["documents"],
        }
