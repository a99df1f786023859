"""The name a document is stored and served under: the sender's, with the extension of the
type its content was found to be (issue 15, item 5). A PNG sent as "scan.jpg" is "scan.png",
so that whoever downloads it opens it with the right program. Pure."""

import re

__all__ = ["EXTENSIONS", "named_for"]

# The first extension is the one given; the others are kept as they were written.
EXTENSIONS = {
    "pdf": (".pdf",),
    "jpeg": (".jpg", ".jpeg", ".jpe", ".jfif"),
    "png": (".png",),
    "heic": (".heic", ".heif", ".hif"),
    "dicom": (".dcm", ".dicom"),
    "zip": (".zip",),
    "fhir_json": (".json",),
    "text": (".txt",),
}
# What reads as an extension to replace ("report.exe", "scan.jpg"), and what does not
# ("検査 2026.04.01", "v1.2"): a letter, then up to four letters or digits.
_EXTENSION = re.compile(r"\.[A-Za-z][A-Za-z0-9]{0,4}$")
_MAX_LENGTH = 255


def named_for(name: str, file_kind: str) -> str:
    """`name` ending in an extension of `file_kind` (a `content.FileKind` value)."""
    base = name.strip() or "document"
    written = next((e for e in EXTENSIONS[file_kind] if base.lower().endswith(e)), None)
    if written is not None:  # kept as the sender wrote it: "IMG_0001.JPG"
        stem, extension = base[: -len(written)], base[-len(written) :]
    else:
        stem, extension = _EXTENSION.sub("", base), EXTENSIONS[file_kind][0]
    return (stem or "document")[: _MAX_LENGTH - len(extension)] + extension
