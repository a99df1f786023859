"""The patient's forms before the consult: an ID, the signature, the invitation."""

from typing import Any

from django import forms
from django.conf import settings
from django.utils.functional import Promise, lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from opiniondesk.readiness.rules import PHOTO_IDS, IdType
from opiniondesk.readiness.wording import ID_TYPE_LABELS


def _id_file_help() -> str:
    # Translated when shown, not when the module loads (it would stay in the default language).
    return gettext(
        "A photo taken with a smartphone is fine (JPEG, PNG, HEIC) or a PDF; up to %(mb)d MB. "
        "Make sure the name and the photo can be read."
    ) % {"mb": settings.DOCUMENT_MAX_BYTES // (1024 * 1024)}


class IdUploadForm(forms.Form):
    id_type = forms.ChoiceField(
        label=_("Which ID is it?"),
        choices=[(t.value, ID_TYPE_LABELS[t]) for t in IdType],
        widget=forms.RadioSelect,
        error_messages={"required": _("Please choose which ID this is.")},
    )
    file = forms.FileField(
        label=_("Photo or scan of the ID"),
        help_text=lazy(_id_file_help, str)(),
        error_messages={"required": _("Please choose the file to send.")},
    )

    def id_type_groups(self) -> list[tuple[Promise, list[Any]]]:
        """The radio buttons in two groups: with a photo, and without."""
        buttons = list(self["id_type"])
        return [
            (
                _("With a photo (one is enough)"),
                [b for b in buttons if b.data["value"] in PHOTO_IDS],
            ),
            (
                _("Without a photo (two different ones are needed)"),
                [b for b in buttons if b.data["value"] not in PHOTO_IDS],
            ),
        ]


class ConsentSignForm(forms.Form):
    signer_name = forms.CharField(
        label=_("The patient's full name"),
        help_text=_("Type the patient's name as written in the application."),
        max_length=100,
        error_messages={"required": _("Please type the patient's full name.")},
    )
    form_version = forms.CharField(widget=forms.HiddenInput, max_length=20)


class InvitationForm(forms.Form):
    email = forms.EmailField(
        label=_("The patient's e-mail address"),
        help_text=_(
            "We send the link to this address. The patient opens it to link their account."
        ),
        error_messages={
            "required": _("Please enter the patient's e-mail address."),
            "invalid": _("Please check the e-mail address: it does not look complete."),
        },
    )
