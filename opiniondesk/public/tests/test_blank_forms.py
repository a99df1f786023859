"""The blank paper forms (申込書, 相談シート, 相談同意書) as PDFs on the public pages (SPEC §3,
issue #16 item 8): each downloads as a valid PDF with its own name, cacheable, rendered once
per version; it asks every question of the online form; the public pages link to it."""

import re
from urllib.parse import quote

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from opiniondesk.cases.forms import DECLARATION_QUESTIONS, PatientForm, SheetForm
from opiniondesk.cases.models import Case
from opiniondesk.public import blank_forms
from opiniondesk.public.blank_forms import BLANK_FORMS, blank_form_pdf, online_questions
from opiniondesk.testing.pdf import pdf_fonts, pdf_text

pytestmark = pytest.mark.django_db

JAPANESE_TITLES = {
    "application": "セカンドオピニオン外来申込書",
    "sheet": "セカンドオピニオン外来相談シート",
    "consent": "相談同意書",
}


def _squeezed(text: str) -> str:
    """Without spaces and line breaks (pdftotext wraps long questions), in lower case (a form
    field's label is its model field's name with a capital)."""
    return re.sub(r"\s+", "", text).lower()


def _get(lang: str, form: str, etag: str = ""):
    headers = {"If-None-Match": etag} if etag else {}
    return Client().get(reverse("public:blank-form", args=[lang, form]), headers=headers)


@pytest.mark.parametrize("form", sorted(BLANK_FORMS))
def test_each_form_downloads_as_a_cacheable_pdf_with_its_name(form):
    response = _get("en", form)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-") and b"%%EOF" in response.content[-64:]
    disposition = response["Content-Disposition"]
    with translation.override("en"):
        name = f"{BLANK_FORMS[form].title}.pdf"
    assert f'filename="{BLANK_FORMS[form].ascii_filename}"' in disposition
    assert f"filename*=UTF-8''{quote(name)}" in disposition
    cache = response["Cache-Control"]
    assert "public" in cache and "max-age=86400" in cache and "no-store" not in cache
    # Asked again with the version it has: not sent again.
    again = _get("en", form, etag=response["ETag"])
    assert again.status_code == 304 and not again.content


def test_the_japanese_file_name_is_encoded_for_the_browser():
    response = _get("ja", "consent")
    with translation.override("ja"):
        name = f"{BLANK_FORMS['consent'].title}.pdf"
    assert f"filename*=UTF-8''{quote(name)}" in response["Content-Disposition"]
    assert 'filename="second-opinion-consent-form.pdf"' in response["Content-Disposition"]


def test_an_unknown_form_or_language_is_not_found():
    assert _get("en", "receipt").status_code == 404
    assert _get("fr", "application").status_code == 404


def test_the_fonts_are_embedded_noto_cjk():
    fonts = pdf_fonts(_get("ja", "application").content)
    assert fonts and all(f["emb"] == "yes" for f in fonts)
    assert any("Noto-Sans-CJK-JP" in f["name"] for f in fonts)


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_the_paper_forms_ask_every_question_of_the_online_form(lang):
    paper = _squeezed(
        pdf_text(_get(lang, "application").content) + pdf_text(_get(lang, "sheet").content)
    )
    # After the requests: a request leaves its own language active.
    with translation.override(lang):
        questions = online_questions()
        # Named here too, so that a form the reader no longer finds fails this test.
        named = [
            *DECLARATION_QUESTIONS.values(),
            PatientForm.base_fields["patient_birth_date"].label,
            Case._meta.get_field("patient_phone").verbose_name,
            *(Case._meta.get_field(name).verbose_name for name in SheetForm.Meta.fields),
        ]
        assert len(questions) > 30
        missing = [q for q in [*questions, *map(str, named)] if _squeezed(q) not in paper]
    assert missing == []


def test_the_sheet_holds_the_consultation_sheet_and_the_application_the_rest():
    sheet = _squeezed(pdf_text(_get("en", "sheet").content))
    application = _squeezed(pdf_text(_get("en", "application").content))
    with translation.override("en"):
        questions = _squeezed(str(Case._meta.get_field("questions").verbose_name))
        physician = _squeezed(str(Case._meta.get_field("physician_name").verbose_name))
    assert questions in sheet and questions not in application
    assert physician in application and physician not in sheet


def test_the_english_forms_have_their_headings_and_the_hospitals_address(settings):
    for form in BLANK_FORMS:
        text = pdf_text(_get("en", form).content)
        with translation.override("en"):  # after the request, which leaves its language active
            assert _squeezed(str(BLANK_FORMS[form].title)) in _squeezed(text)
        assert settings.HOSPITAL["address"] in text and settings.HOSPITAL["phone"] in text
    consent = _squeezed(pdf_text(_get("en", "consent").content))
    assert _squeezed("Signature of the patient") in consent
    assert _squeezed("If the patient cannot sign") in consent


def test_the_japanese_forms_have_their_japanese_headings():
    """Needs the `ja` catalog with this item's strings."""
    for form, title in JAPANESE_TITLES.items():
        text = _squeezed(pdf_text(_get("ja", form).content))
        assert title in text, form
    application = _squeezed(pdf_text(_get("ja", "application").content))
    assert "患者さんご本人" in application and "生年月日" in application


def test_a_form_is_rendered_once_per_version(settings):
    blank_forms._rendered.clear()
    first = _get("en", "sheet")
    with translation.override("en"):
        kept = blank_form_pdf("sheet", hospital=settings.HOSPITAL)
    assert kept.pdf == first.content and len(blank_forms._rendered) == 1
    with translation.override("en"):
        assert blank_form_pdf("sheet", hospital=settings.HOSPITAL) is kept
    # A changed setting is a new version: rendered again, with a new ETag.
    settings.HOSPITAL = {**settings.HOSPITAL, "phone": "03-0000-9999"}
    changed = _get("en", "sheet")
    assert changed["ETag"] != first["ETag"] and "03-0000-9999" in pdf_text(changed.content)
    assert _get("en", "sheet", etag=first["ETag"]).status_code == 200


@pytest.mark.parametrize("page", ["public:home", "public:contact"])
@pytest.mark.parametrize("lang", ["ja", "en"])
def test_the_public_pages_link_to_the_three_forms(page, lang, settings):
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = lang
    html = client.get(reverse(page)).content.decode()
    for form in BLANK_FORMS:
        assert f'href="{reverse("public:blank-form", args=[lang, form])}"' in html
