"""What we tell a person whose upload was refused, by refusal code."""

from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

REFUSALS = {
    "EMPTY": _("The file is empty (0 bytes). Please choose the file again."),
    "TOO_LARGE": _("The file is too large. Please split it, or send it as several files."),
    "UNSUPPORTED_TYPE": _(
        "We cannot accept this kind of file. Please send a PDF, JPEG, PNG, HEIC, DICOM or ZIP "
        "file. (The file's content is checked, not its name.)"
    ),
    "IMAGE_TOO_LARGE": _(
        "The picture has too many pixels. Please send it at a smaller size, or as a PDF."
    ),
    "CORRUPT": _("The file seems damaged and cannot be opened. Please save it again and retry."),
    "ZIP_EMPTY": _("The ZIP archive is empty."),
    "ZIP_TOO_MANY_MEMBERS": _("The ZIP archive holds too many files. Please split it."),
    "ZIP_TOO_LARGE": _("The ZIP archive unpacks to too much data. Please split it."),
    "ZIP_BOMB": _("The ZIP archive cannot be accepted: its content is unusually compressed."),
    "ZIP_UNSAFE_PATH": _("The ZIP archive holds a file with an unsafe name or folder."),
    "ZIP_SYMLINK": _("The ZIP archive holds a link, which we cannot accept."),
    "ZIP_ENCRYPTED": _("The ZIP archive is password-protected. Please send it without a password."),
    "ZIP_TOO_DEEP": _(
        "The ZIP archive holds ZIP archives inside ZIP archives. Please unpack them."
    ),
    "ZIP_MEMBER_UNSUPPORTED": _(
        "The ZIP archive holds a file we cannot accept. Only PDF, JPEG, PNG, HEIC and DICOM "
        "files can be inside."
    ),
    "ZIP_NOTHING_KEPT": _(
        "The ZIP archive holds only programs or files we cannot accept. Please send the "
        "images (DICOM, JPEG, PNG) and reports (PDF, text) it should contain."
    ),
    "POLYGLOT": _(
        "This file is also another kind of file (for example a picture with an archive or a "
        "program hidden in it), so we cannot accept it. Please save the picture or document "
        "again (for example as a screenshot or with 'Print' → 'Save as PDF') and send that."
    ),
    "PDF_ACTIVE_CONTENT": _(
        "This PDF contains scripts, automatic actions or attached files, which we cannot "
        "accept. Please make a plain copy: open it, choose 'Print', select 'Save as PDF' (or "
        "'Microsoft Print to PDF') as the printer, and send the new file."
    ),
    "PDF_ENCRYPTED": _(
        "This PDF is protected by a password, so we cannot check or open it. Please send it "
        "without the password (open it, choose 'Print' → 'Save as PDF'), or ask the hospital "
        "that issued it for an unprotected copy."
    ),
    "PDF_UNREADABLE": _(
        "This PDF cannot be read: it may be damaged or not really a PDF. Please open it on "
        "your computer, choose 'Print' → 'Save as PDF', and send the new file."
    ),
    "CASE_CLOSED": _("Documents can no longer be added to this application online."),
    "PRIVACY_FIRST": _(
        "Please agree to the privacy policy first (step 2 of the application); then you can "
        "send documents."
    ),
    "ALREADY_CORRECTED": _("That document has already been corrected by a newer version."),
    "BAD_KIND": _("Please choose what the document is."),
    "TEST_DATA_KIND_REQUIRED": _("Please choose the kind of test data."),
    "ID_TYPE_REQUIRED": _("Please choose which ID this is."),
    "ID_FORMAT": _("Please send a photo (JPEG, PNG, HEIC) or a PDF of the ID."),
    "BAD_PROXY": _("Please choose whose ID this is."),
    "BAD_SUPERSEDES": _("Please choose a document of this application."),
    "BAD_DAYS": _("Please choose between 1 and 60 days."),
}


def refusal_message(code: str) -> str:
    return str(REFUSALS.get(code, REFUSALS["UNSUPPORTED_TYPE"]))


_DROPPED_SHOWN = 10


def dropped_message(names: list[str]) -> str:
    """What was left out of a ZIP (an imaging CD's viewer program and the like)."""
    shown = gettext(", ").join(names[:_DROPPED_SHOWN])
    if len(names) > _DROPPED_SHOWN:
        more = len(names) - _DROPPED_SHOWN
        shown += ngettext(" and %(n)d more file", " and %(n)d more files", more) % {"n": more}
    return gettext(
        "From the ZIP archive we kept the images and reports. These files were left out "
        "because they are programs (such as a CD's image viewer) or files we cannot accept: "
        "%(names)s"
    ) % {"names": shown}
