"""What we tell a person whose upload was refused, by refusal code."""

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
    "CASE_CLOSED": _("Documents can no longer be added to this application online."),
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
