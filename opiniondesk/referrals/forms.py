from django import forms
from django.utils.translation import gettext_lazy as _


class ReferralUploadForm(forms.Form):
    file = forms.FileField(
        label=_("eReferral file (FHIR JSON)"),
        help_text=_("A referral letter (診療情報提供書) in the JP eReferral FHIR format."),
    )
