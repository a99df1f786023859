"""The application wizard's forms, one per step. They check answers; rules decide eligibility."""

import re
from datetime import date
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from opiniondesk.cases.eligibility import Consent, Reason
from opiniondesk.cases.fields import YES, BirthDateField, relation_choices, yes_no
from opiniondesk.cases.kinship import Relation, kinship
from opiniondesk.cases.models import Case, Proxy, Sex
from opiniondesk.cases.wizard_rules import patient_questions_skipped
from opiniondesk.catalog.models import Department, Disease
from opiniondesk.catalog.vocabulary import Mode
from opiniondesk.core.forms import address_field, phone_field, postal_code_field
from opiniondesk.core.time import jst_today
from opiniondesk.public.wording import MODE_NAMES, REASONS

# Full-width digits and hyphens are read for every form in opiniondesk.core.forms.
KANA = re.compile(r"^[\u3040-\u309F\u30A0-\u30FF\u30FC\s　]+$")


def _kana(value: str) -> str:
    if value and not KANA.match(value):
        raise forms.ValidationError(_("Please write the name in kana (hiragana or katakana)."))
    return value


class StepForm(forms.ModelForm):
    """A wizard step. `partial` (save and finish later) makes every answer optional."""

    revision = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, partial: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.partial = partial
        if partial:
            for name, field in self.fields.items():
                if name != "revision":
                    field.required = False

    def values(self) -> dict[str, Any]:
        """The cleaned answers of this step's model fields (blank answers skipped when partial)."""
        values = {
            name: self.cleaned_data[name] for name in self._meta.fields if name in self.fields
        }
        # An unanswered yes/no question is stored as "not answered", never as "no".
        values = {
            k: (None if v == "" and isinstance(self.fields[k], forms.TypedChoiceField) else v)
            for k, v in values.items()
        }
        if self.partial:
            values = {k: v for k, v in values.items() if v not in (None, "")}
        return values


class ApplicantForm(StepForm):
    applicant_relation = forms.ChoiceField(label=_("Who is applying?"), choices=())
    applicant_lives_with_patient = yes_no(
        _("Do you live with the patient?"),
        required=False,
        help_text=_("This decides which proof of relationship to send."),
    )

    class Meta:
        model = Case
        fields = [
            "applicant_relation",
            "applicant_family_name",
            "applicant_given_name",
            "applicant_family_name_kana",
            "applicant_given_name_kana",
            "applicant_phone",
            "applicant_lives_with_patient",
        ]
        labels = {
            "applicant_family_name": _("Your family name"),
            "applicant_given_name": _("Your given name"),
            "applicant_family_name_kana": _("Your family name (kana)"),
            "applicant_given_name_kana": _("Your given name (kana)"),
            "applicant_phone": _("Your phone number"),
        }

    # Asked only of a family member applying; asked once and reused for the attending family.
    FAMILY_FIELDS = (
        "applicant_family_name",
        "applicant_given_name",
        "applicant_family_name_kana",
        "applicant_given_name_kana",
        "applicant_phone",
    )

    def __init__(self, *args: Any, account: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["applicant_relation"].choices = relation_choices()
        if self.instance.applicant_lives_with_patient is not None:
            self.initial["applicant_lives_with_patient"] = (
                YES if self.instance.applicant_lives_with_patient else "no"
            )
        if account is not None and not self.instance.applicant_family_name:
            # The name on the account, so that it is not typed again.
            self.initial["applicant_family_name"] = account.last_name
            self.initial["applicant_given_name"] = account.first_name
        for name in ("applicant_family_name_kana", "applicant_given_name_kana"):
            self.fields[name].validators.append(_kana)
        phone_field(self.fields["applicant_phone"])

    def clean_applicant_relation(self) -> str:
        relation = self.cleaned_data["applicant_relation"]
        if relation and not kinship(Relation(relation)).is_family:
            explanation = REASONS[Reason.REQUESTER_NOT_FAMILY]
            raise forms.ValidationError(f"{explanation.why} {explanation.instead}")
        return relation

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        relation = data.get("applicant_relation")
        if relation and relation != Relation.SELF and not self.partial:
            for name in self.FAMILY_FIELDS:
                if not data.get(name) and name not in self.errors:
                    self.add_error(name, _("Please fill this in when you apply for the patient."))
            if data.get("applicant_lives_with_patient") is None:
                self.add_error("applicant_lives_with_patient", _("Please choose yes or no."))
        return data


class PatientForm(StepForm):
    patient_birth_date = BirthDateField(label=_("The patient's date of birth"))
    patient_deceased = yes_no(_("Has the patient passed away?"))
    patient_resides_in_japan = yes_no(_("Does the patient live in Japan?"))
    patient_has_japanese_insurance = yes_no(
        _("Does the patient have Japanese public health insurance?")
    )
    patient_consent = forms.ChoiceField(
        label=_("Has the patient agreed in writing to your consultation?"),
        choices=[
            (Consent.SIGNED.value, _("Yes, the patient signed the consent form")),
            (
                Consent.UNABLE_TO_SIGN_NOTE.value,
                _("The patient cannot sign because of their condition; the form carries a note"),
            ),
            (Consent.NONE.value, _("Not yet")),
        ],
        widget=forms.RadioSelect,
        required=False,
    )

    class Meta:
        model = Case
        fields = [
            "patient_family_name",
            "patient_given_name",
            "patient_family_name_kana",
            "patient_given_name_kana",
            "patient_birth_date",
            "patient_sex",
            "patient_postal_code",
            "patient_address",
            "patient_phone",
            "patient_email",
            "patient_deceased",
            "patient_resides_in_japan",
            "patient_has_japanese_insurance",
            "patient_consent",
        ]
        widgets = {"patient_sex": forms.RadioSelect}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["patient_sex"].choices = Sex.choices
        for name in (
            "patient_deceased",
            "patient_resides_in_japan",
            "patient_has_japanese_insurance",
        ):
            value = getattr(self.instance, name)
            if value is not None and self.instance.revision:
                self.initial[name] = YES if value else "no"
        for name in ("patient_family_name_kana", "patient_given_name_kana"):
            self.fields[name].validators.append(_kana)
        phone_field(self.fields["patient_phone"])
        postal_code_field(self.fields["patient_postal_code"])
        address_field(self.fields["patient_address"])
        self.fields["patient_phone"].help_text = _(
            "A number we can reach on weekdays between 10:00 and 17:00."
        )
        for name in patient_questions_skipped(self.instance.applicant_relation):
            del self.fields[name]
        if "patient_consent" in self.fields:
            self.fields["patient_consent"].required = not self.partial
            if self.instance.patient_birth_date is None:
                # Not answered yet: no preselected "not yet", which would lead to a refusal.
                self.initial["patient_consent"] = None

    def clean_patient_birth_date(self) -> date | None:
        birth = self.cleaned_data.get("patient_birth_date")
        if birth and birth > jst_today():
            raise forms.ValidationError(_("The date of birth cannot be in the future."))
        return birth

    def values(self) -> dict[str, Any]:
        values = super().values()
        # The questions not asked get the answer the rules need: a patient applying is alive.
        if "patient_deceased" not in self.fields:
            values["patient_deceased"] = False
        if "patient_consent" not in self.fields:
            values["patient_consent"] = Consent.NONE
        elif not values.get("patient_consent"):
            values.pop("patient_consent", None)  # unanswered (saved for later)
        return values


class ProxyForm(forms.ModelForm):
    class Meta:
        model = Proxy
        fields = [
            "family_name",
            "given_name",
            "family_name_kana",
            "given_name_kana",
            "relation",
            "phone",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Every group but the one holding "self": a family member is never the patient.
        choices = [
            c
            for c in relation_choices()
            if not (isinstance(c[1], list) and any(v == Relation.SELF for v, _ in c[1]))
        ]
        self.fields["relation"].choices = choices
        self.fields["family_name_kana"].validators.append(_kana)
        self.fields["given_name_kana"].validators.append(_kana)
        phone_field(self.fields["phone"])

    def clean_relation(self) -> str:
        relation = self.cleaned_data["relation"]
        kin = kinship(Relation(relation))
        if not kin.is_family or not kin.is_proxy:
            raise forms.ValidationError(
                _("Only family within the third degree can attend for the patient.")
            )
        return relation


ProxyFormSet = forms.modelformset_factory(
    Proxy, form=ProxyForm, extra=1, can_delete=True, max_num=5, validate_max=True
)


class AttendanceForm(forms.Form):
    """Whether the family member who applies attends: their details are not typed again."""

    applicant_attends = yes_no(_("Will you attend the consultation yourself?"))


def formset_with_another_row(data: Any, prefix: str = "form") -> Any:
    """The submitted rows and one empty row more ("add another family member", no script)."""
    data = data.copy()
    total = int(data.get(f"{prefix}-TOTAL_FORMS") or 0)
    data[f"{prefix}-TOTAL_FORMS"] = str(total + 1)
    return data


class ConsultForm(StepForm):
    mode = forms.ChoiceField(
        label=_("How would you like the consultation?"),
        choices=[(m.value, MODE_NAMES[m]) for m in Mode],
        widget=forms.RadioSelect,
    )
    joining_from_japan = yes_no(
        _("Will you join the video call from inside Japan?"),
        required=False,
        help_text=_("Online consultations can only be joined from inside Japan."),
    )

    class Meta:
        model = Case
        fields = ["mode", "department", "disease", "joining_from_japan"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = Department.objects.filter(is_active=True)
        self.fields["disease"].queryset = Disease.objects.filter(
            department__is_active=True
        ).select_related("department")
        self.fields["disease"].label_from_instance = lambda d: (
            f"{d.department.local_name} — {d.local_name}"
        )
        self.fields["disease"].widget = DiseaseSelect(choices=self.fields["disease"].choices)
        for name in ("department", "disease"):
            self.fields[name].empty_label = _("Please choose")
        if self.instance.joining_from_japan is not None:
            self.initial["joining_from_japan"] = YES if self.instance.joining_from_japan else "no"

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        dept, disease = data.get("department"), data.get("disease")
        if dept and disease and disease.department_id != dept.pk:
            self.add_error("disease", _("Please choose a disease of the chosen department."))
        online = data.get("mode") == Mode.ONLINE
        if online and data.get("joining_from_japan") is None and not self.partial:
            self.add_error("joining_from_japan", _("Please choose yes or no."))
        return data


class DiseaseSelect(forms.Select):
    """Each disease carries its department (data-department), so the page's script can show only
    the chosen department's diseases; without the script every disease is listed and the form
    refuses a mismatch."""

    def create_option(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        option = super().create_option(*args, **kwargs)
        instance = getattr(option["value"], "instance", None)
        if instance is not None:
            option["attrs"]["data-department"] = str(instance.department_id)
        return option


class SheetForm(StepForm):
    class Meta:
        model = Case
        fields = [
            "current_diagnosis",
            "treatment_so_far",
            "wants_opinion_on_current",
            "wants_opinion_on_future",
            "questions",
        ]
        widgets = {
            "current_diagnosis": forms.Textarea(attrs={"rows": 3}),
            "treatment_so_far": forms.Textarea(attrs={"rows": 4}),
            "questions": forms.Textarea(attrs={"rows": 5}),
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        wanted = data.get("wants_opinion_on_current") or data.get("wants_opinion_on_future")
        if not self.partial and not wanted:
            self.add_error(None, _("Please choose at least one topic for the opinion."))
        return data


DECLARATION_QUESTIONS = {
    "attending_physician_agrees": _("Has your attending physician agreed to a second opinion?"),
    "wants_tests_or_treatment_here": _(
        "Would you like tests or treatment at our hospital during the second opinion?"
    ),
    "wants_transfer": _("Do you already wish to transfer to our hospital?"),
    "complaint_or_litigation": _(
        "Is your question about dissatisfaction with your doctor, a medical error or a lawsuit?"
    ),
    "fee_or_benefit_question": _("Is your question about medical fees or benefits?"),
    "can_provide_materials": _(
        "Can your attending physician provide the referral letter and test data?"
    ),
}


class PhysicianForm(StepForm):
    class Meta:
        model = Case
        fields = [
            "physician_name",
            "physician_institution",
            "physician_department",
            "physician_phone",
            "physician_postal_code",
            "physician_address",
            "physician_fax",
            "physician_email",
            *DECLARATION_QUESTIONS,
        ]
        help_texts = {
            "physician_email": _(
                "Our written opinion can be sent to this address as a one-time link."
            ),
            "physician_address": _("Where the written opinion is posted, if not by e-mail."),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, question in DECLARATION_QUESTIONS.items():
            self.fields[name] = yes_no(question, required=not self.partial)
            value = getattr(self.instance, name)
            if value is not None:
                self.initial[name] = YES if value else "no"
        phone_field(self.fields["physician_phone"])
        phone_field(self.fields["physician_fax"])
        self.fields["physician_fax"].widget.attrs["autocomplete"] = "off"
        postal_code_field(self.fields["physician_postal_code"])
        self.fields["physician_postal_code"].widget.attrs["autocomplete"] = "off"
        address_field(self.fields["physician_address"])
        self.fields["physician_email"].widget.attrs["autocomplete"] = "off"


class PrivacyForm(forms.Form):
    revision = forms.IntegerField(widget=forms.HiddenInput)
    version = forms.CharField(widget=forms.HiddenInput, required=False)  # the one on the page
    accept = forms.BooleanField(
        label=_("I have read the policy and the purposes of use, and I agree."),
        error_messages={"required": _("Without your agreement we cannot accept the application.")},
    )
