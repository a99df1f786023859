from typing import Any

from django import forms
from django.conf import settings
from django.db.models import QuerySet
from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from opiniondesk.cases.models import Case
from opiniondesk.documents.models import Document, DocumentKind, TestDataKind


def _file_help() -> str:
    # Translated when shown, not when the module loads (it would stay in the default language).
    return gettext("PDF, JPEG, PNG, HEIC, DICOM or ZIP; up to %(mb)d MB.") % {
        "mb": settings.DOCUMENT_MAX_BYTES // (1024 * 1024)
    }


class UploadForm(forms.Form):
    # No type is preselected: a file sent without choosing would be filed as a referral letter.
    kind = forms.ChoiceField(
        label=_("What is this document?"),
        choices=[("", _("Please choose")), *DocumentKind.choices],
    )
    test_data_kind = forms.ChoiceField(
        label=_("Kind of test data"),
        required=False,
        choices=[("", _("Please choose")), *TestDataKind.choices],
    )
    proxy = forms.ModelChoiceField(
        label=_("Whose ID is this?"),
        required=False,
        queryset=None,
        empty_label=_("Please choose"),
    )
    supersedes = forms.ModelChoiceField(
        label=_("Does it correct a document sent before?"),
        required=False,
        queryset=None,
        empty_label=_("No, it is a new document"),
    )
    note = forms.CharField(label=_("Note (optional)"), required=False, max_length=200)
    file = forms.FileField(
        label=_("File"),
        help_text=lazy(_file_help, str)(),
    )

    def __init__(
        self, *args: Any, case: Case, documents: QuerySet[Document] | None = None, **kwargs: Any
    ) -> None:
        """`documents`: those of the case the user may see (all of them by default), the only
        ones offered as the document a new file corrects."""
        super().__init__(*args, **kwargs)
        self.fields["proxy"].queryset = case.proxies.all()
        visible = Document.objects.filter(case=case) if documents is None else documents
        self.fields["supersedes"].queryset = visible.filter(superseded_by__isnull=True)
        if not case.proxies.exists():
            del self.fields["proxy"]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("kind") == DocumentKind.TEST_DATA and not data.get("test_data_kind"):
            self.add_error("test_data_kind", _("Please choose the kind of test data."))
        if (
            data.get("kind") == DocumentKind.PROXY_ID
            and "proxy" in self.fields
            and not data.get("proxy")
        ):
            self.add_error("proxy", _("Please choose whose ID this is."))
        return data


PHYSICIAN_KINDS = [
    (DocumentKind.REFERRAL_LETTER.value, DocumentKind.REFERRAL_LETTER.label),
    (DocumentKind.TEST_DATA.value, DocumentKind.TEST_DATA.label),
]


class PhysicianUploadForm(forms.Form):
    # The browser submits a row's select even when the row is left empty; with the select's
    # own first choice as the initial value, such a row is unchanged and skipped.
    kind = forms.ChoiceField(
        label=_("Document"), choices=PHYSICIAN_KINDS, initial=DocumentKind.REFERRAL_LETTER
    )
    test_data_kind = forms.ChoiceField(
        label=_("Kind of test data"),
        required=False,
        choices=[("", "—"), *TestDataKind.choices],
    )
    file = forms.FileField(label=_("File"))

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("kind") == DocumentKind.TEST_DATA and not data.get("test_data_kind"):
            self.add_error("test_data_kind", _("Please choose the kind of test data."))
        return data


PhysicianUploadFormSet = forms.formset_factory(
    PhysicianUploadForm, extra=3, max_num=settings.PHYSICIAN_LINK_MAX_FILES, validate_max=True
)
