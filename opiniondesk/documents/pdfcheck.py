"""What a PDF would do when opened (issue 15, item 5): scripts, actions, files it carries.

`pdf_problem` opens the PDF with pikepdf (qpdf), which reads objects as they are needed, and
names the first thing a hospital does not want to open: JavaScript, an action run on opening
or on an event (`/AA`), a program launched, a file embedded, an XFA form (which can hold
scripts). Links to a page of the document or to a web address are fine, and so is an
`/OpenAction` that only says which page to show first (Word and LibreOffice write one).
Pure: no Django, settings or clock.
"""

from enum import StrEnum
from typing import IO, BinaryIO, cast

import pikepdf

__all__ = ["PdfProblem", "pdf_problem"]


class PdfProblem(StrEnum):
    ACTIVE = "active"  # scripts, actions, embedded files
    ENCRYPTED = "encrypted"  # needs a password to open
    UNREADABLE = "unreadable"


# Actions that only move within the document or open a web page in the browser.
_HARMLESS_ACTIONS = frozenset({"/GoTo", "/URI"})
_MAX_ACTION_CHAIN = 100


def pdf_problem(fp: IO[bytes]) -> tuple[PdfProblem, str] | None:
    """(problem, English detail) for a PDF we will not keep, or None."""
    fp.seek(0)
    try:
        with pikepdf.open(cast(BinaryIO, fp)) as pdf:
            if len(pdf.pages) == 0:
                return PdfProblem.UNREADABLE, "no pages"
            if found := _active_content(pdf):
                return PdfProblem.ACTIVE, found
    except pikepdf.PasswordError:
        return PdfProblem.ENCRYPTED, "a password is needed to open it"
    except Exception as exc:  # qpdf's errors on data it cannot repair, and its limits
        return PdfProblem.UNREADABLE, f"{type(exc).__name__}: {exc}"
    return None


def _active_content(pdf: pikepdf.Pdf) -> str | None:
    root = pdf.Root
    if "/OpenAction" in root and (found := _action_problem(root.OpenAction)):
        return f"/OpenAction: {found}"
    if "/AA" in root:
        return "/AA on the catalog"
    names = root.get("/Names")
    if isinstance(names, pikepdf.Dictionary):
        for key in ("/JavaScript", "/EmbeddedFiles"):
            if key in names:
                return f"/Names {key}"
    form = root.get("/AcroForm")
    if isinstance(form, pikepdf.Dictionary) and "/XFA" in form:
        return "an XFA form"
    for number, page in enumerate(pdf.pages, start=1):
        if found := _page_problem(page.obj):
            return f"page {number}: {found}"
    return None


def _page_problem(page: pikepdf.Dictionary) -> str | None:
    if "/AA" in page:
        return "/AA"
    annotations = page.get("/Annots")
    if not isinstance(annotations, pikepdf.Array):
        return None
    for annotation in annotations:
        if not isinstance(annotation, pikepdf.Dictionary):
            continue
        if annotation.get("/Subtype") == pikepdf.Name.FileAttachment:
            return "an embedded file (FileAttachment annotation)"
        if "/AA" in annotation:
            return "/AA on an annotation"
        if "/A" in annotation and (found := _action_problem(annotation.A)):
            return found
    return None


def _action_problem(action: pikepdf.Object) -> str | None:
    """Why this action (and those chained after it with /Next) is not harmless, or None.

    A destination array (`/OpenAction [page /Fit]`: the page to show first) is no action."""
    pending, seen = _actions(action), 0
    while pending:
        current = pending.pop()
        seen += 1
        kind = str(current.get("/S", ""))
        if kind not in _HARMLESS_ACTIONS:
            return f"a {kind or 'nameless'} action"
        if seen >= _MAX_ACTION_CHAIN:
            return "a chain of actions too long to check"
        pending += _actions(current.get("/Next"))
    return None


def _actions(value: pikepdf.Object | None) -> list[pikepdf.Dictionary]:
    """The action dictionaries of an /A or /OpenAction value, or of a /Next (one or a list)."""
    if isinstance(value, pikepdf.Dictionary):
        return [value]
    if isinstance(value, pikepdf.Array):
        return [item for item in value if isinstance(item, pikepdf.Dictionary) and "/S" in item]
    return []
