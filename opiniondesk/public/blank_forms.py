"""The blank paper forms as PDFs (SPEC §3): the application form (申込書), the consultation
sheet (相談シート) and the consent form for a family member (相談同意書), for people who apply
by post.

The questions are read from the online application's own forms (the wizard's steps), so the
paper and the online form cannot drift apart: a question added online is on the paper too.
A PDF holds no personal data; it is rendered once per version (the digest of its HTML: the
questions, the hospital's details and the language) and kept in memory, since WeasyPrint
takes a good part of a second per form.
"""

import hashlib
import threading
from dataclasses import dataclass
from typing import Any

from django import forms
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext_lazy

from opiniondesk.cases.fields import BirthDateField
from opiniondesk.cases.forms import PrivacyForm, ProxyForm
from opiniondesk.cases.kinship import Relation
from opiniondesk.cases.models import Case
from opiniondesk.cases.wizard import steps
from opiniondesk.core.pdf import html_to_pdf

# The consultation sheet's own step; every other step with a form is on the application form.
SHEET_STEP = "sheet"
PROXY_ROWS = 3  # lines for the family members attending
# More options than fit as boxes to tick (the relations): a line to write on.
MAX_TICK_OPTIONS = 6


@dataclass(frozen=True)
class Question:
    """One question as printed: `kind` is line, box (several lines), date, tick (one of
    `options`) or check (a box to tick)."""

    label: str
    kind: str
    options: tuple[str, ...] = ()
    help: str = ""


@dataclass(frozen=True)
class Section:
    title: str
    questions: tuple[Question, ...] = ()
    columns: tuple[str, ...] = ()  # a table to fill in, `rows` lines of these columns
    rows: int = 0


@dataclass(frozen=True)
class BlankForm:
    slug: str
    title: Any  # lazy: in the language the form is rendered in; also its file name
    ascii_filename: str  # for a browser that does not read the UTF-8 name (RFC 6266)
    template: str = "public/blank_forms/form.html"


BLANK_FORMS = {
    form.slug: form
    for form in (
        BlankForm(
            "application",
            gettext_lazy("Second opinion application form"),
            "second-opinion-application-form.pdf",
        ),
        BlankForm(
            "sheet",
            gettext_lazy("Second opinion consultation sheet"),
            "second-opinion-consultation-sheet.pdf",
        ),
        BlankForm(
            "consent",
            gettext_lazy("Consent form for a consultation by family members"),
            "second-opinion-consent-form.pdf",
            template="public/blank_forms/consent.html",
        ),
    )
}


def _options(bound: forms.Field) -> tuple[str, ...] | None:
    """The options to tick, or None when the answer is written (a list from the catalog, or
    more options than fit)."""
    if isinstance(bound, forms.ModelChoiceField) or not isinstance(bound, forms.ChoiceField):
        return None
    options = [(value, label) for value, label in bound.choices if value != ""]
    if any(isinstance(label, list | tuple) for _value, label in options):
        return None  # grouped (the relations)
    if len(options) > MAX_TICK_OPTIONS:
        return None
    return tuple(str(label) for _value, label in options)


def question_of(name: str, bound: forms.Field) -> Question:
    """How one field of an online form is printed."""
    label, help_text = str(bound.label or name), str(bound.help_text or "")
    if isinstance(bound, BirthDateField):
        return Question(label, "date", help=help_text)
    if isinstance(bound.widget, forms.CheckboxInput):
        return Question(label, "check", help=help_text)
    options = _options(bound)
    if options:
        return Question(label, "tick", options, help_text)
    if isinstance(bound.widget, forms.Textarea) or isinstance(bound, forms.ModelChoiceField):
        kind = "box" if isinstance(bound.widget, forms.Textarea) else "line"
        return Question(label, kind, help=help_text)
    return Question(label, "line", help=help_text)


def questions_of(form: forms.BaseForm) -> tuple[Question, ...]:
    return tuple(
        question_of(bound.name, bound.field)
        for bound in form.visible_fields()
        if bound.name not in ("revision", "DELETE")
    )


def _blank_case() -> Case:
    # A family member applying: the form asks every question (the patient's consent too).
    return Case(applicant_relation=Relation.CHILD)


def _step_section(slug: str) -> Section | None:
    step = next(s for s in steps() if s.slug == slug)
    if step.form is not None:
        return Section(step.title, questions_of(step.form(instance=_blank_case(), partial=True)))
    if slug == "proxies":
        columns = tuple(str(f.label) for f in ProxyForm().visible_fields())
        return Section(step.title, columns=columns, rows=PROXY_ROWS)
    if slug == "privacy":
        return Section(step.title, questions_of(PrivacyForm()))
    return None  # documents, review: what the online form does after the questions


def sections(slug: str) -> list[Section]:
    """The sections of a blank form, in the order of the online wizard."""
    if slug == "consent":
        return []
    wanted = [s.slug for s in steps() if (s.slug == SHEET_STEP) == (slug == "sheet")]
    return [section for s in wanted if (section := _step_section(s)) is not None]


def online_questions() -> list[str]:
    """Every question the online application asks, as labelled there (for the check that the
    paper forms ask them all)."""
    labels = []
    for step in steps():
        if step.form is not None:
            form = step.form(instance=_blank_case(), partial=True)
            labels += [q.label for q in questions_of(form)]
    labels += [str(f.label) for f in ProxyForm().visible_fields()]
    labels += [q.label for q in questions_of(PrivacyForm())]
    return labels


def blank_form_html(slug: str, *, hospital: dict[str, str]) -> tuple[str, str]:
    """The HTML and CSS of a blank form in the active language."""
    form = BLANK_FORMS[slug]
    context = {
        "form": form,
        "title": str(form.title),
        "sections": sections(slug),
        "hospital": hospital,
        "lang": translation.get_language(),
        "proxy_rows": range(PROXY_ROWS),
    }
    return (
        render_to_string(form.template, context),
        render_to_string("public/blank_forms/form.css"),
    )


@dataclass(frozen=True)
class RenderedForm:
    pdf: bytes
    digest: str  # of the HTML and CSS it was rendered from: its version


_rendered: dict[str, RenderedForm] = {}
_lock = threading.Lock()
_KEEP = 24  # 3 forms x 2 languages, with room for a changed setting or a new version


def blank_form_pdf(slug: str, *, hospital: dict[str, str]) -> RenderedForm:
    """The blank form as a PDF in the active language, rendered once per version."""
    html, css = blank_form_html(slug, hospital=hospital)
    digest = hashlib.sha256(f"{html}\0{css}".encode()).hexdigest()
    found = _rendered.get(digest)
    if found is not None:
        return found
    with _lock:  # one rendering at a time: a burst of first requests renders it once
        found = _rendered.get(digest)
        if found is None:
            found = RenderedForm(html_to_pdf(html, css), digest)
            if len(_rendered) >= _KEEP:
                _rendered.clear()
            _rendered[digest] = found
    return found


def filename_of(slug: str) -> str:
    """The form's title as its file name, in the active language."""
    return f"{BLANK_FORMS[slug].title}.pdf"
