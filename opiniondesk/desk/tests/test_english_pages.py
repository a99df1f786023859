"""English mode in full (#16 item 4): the main pages of a patient and of the staff, chosen in
English, show no Japanese but the patient's own data, the hospital's name and address and the
language switch's 日本語; and the same pages in Japanese are in Japanese."""

import html
import re

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import translation

from opiniondesk.cases.models import Case, DocumentRequest
from opiniondesk.cases.wizard import steps
from opiniondesk.cases.workflow import Status
from opiniondesk.catalog.models import Department
from opiniondesk.testing.builders import case_in
from opiniondesk.testing.personas import USERNAMES, persona

pytestmark = pytest.mark.django_db

# Hiragana, katakana, CJK ideographs, full-width forms and Japanese punctuation.
JAPANESE = re.compile(r"[\u3000-\u303f\u3040-\u30ff\u3400-\u9fff\uff01-\uffef]+")
INVISIBLE = re.compile(r"<(script|style)\b.*?</\1>|<!--.*?-->", re.DOTALL | re.IGNORECASE)
TAG = re.compile(r"<[^>]+>")

# The Japanese names of papers and offices, given in brackets beside their English so that a
# reader can ask for them: "a referral letter (診療情報提供書)".
PAPERS_AND_OFFICES = [
    "診療情報提供書",
    "相談同意書",
    "相談シート",
    "申込書",
    "住民票",
    "戸籍謄本",
    "健康保険証",
    "お薬手帳",
    "プレパラート",
    "患者相談窓口",
    "医療安全支援センター",
]

# (who, URL name, the case it is about: None, a status, or a wizard step of a draft)
PATIENT_PAGES = [
    (None, "public:home", None),
    (None, "public:departments", None),
    (None, "public:fees", None),
    (None, "public:contact", None),
    (None, "public:check", None),
    (None, "account_login", None),
    (None, "account_signup", None),
    ("patient_hana", "dashboard", None),
    ("patient_hana", "case-detail", Status.SUBMITTED),
    ("patient_hana", "case-detail", Status.ACCEPTED),
    ("patient_hana", "case-documents", Status.AWAITING_DOCUMENTS),
    ("patient_hana", "case-identity", Status.ACCEPTED),
    ("patient_hana", "case-consent", Status.ACCEPTED),
    ("patient_hana", "device-check", Status.ACCEPTED),
]
STAFF_PAGES = [
    ("coordinator_sato", "staff-home", None),
    ("coordinator_sato", "staff-queue", None),
    ("coordinator_sato", "staff-case", Status.SCREENING),
    ("coordinator_sato", "staff-case", Status.ACCEPTED),
    ("coordinator_sato", "staff-case-history", Status.ACCEPTED),
    ("coordinator_sato", "staff-schedule", None),
    ("coordinator_sato", "staff-disclosures", None),
    ("dr_tanaka", "staff-case", Status.REFERRED),
    ("dr_tanaka", "staff-consults", None),
    ("billing_ito", "staff-home", None),
]


def _client(language: str, username: str | None) -> Client:
    client = Client(headers={"Accept-Language": language})
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    if username:
        client.force_login(persona(username))
    return client


def _text(content: bytes) -> str:
    """What a reader sees: the text and the attributes read aloud or shown (title, alt,
    aria-label, placeholder)."""
    page = INVISIBLE.sub(" ", content.decode())
    shown = re.findall(r'\b(?:title|alt|aria-label|placeholder)="([^"]*)"', page)
    return html.unescape(" ".join([TAG.sub(" ", page), *shown]))


def _allowed(case: Case | None) -> list[str]:
    """The Japanese a page in English may show: the people's own data as they typed it, the
    hospital's name, address and desk as configured, the switch to Japanese."""
    hospital = settings.HOSPITAL
    allowed = [
        "日本語",
        hospital["name"],
        hospital["address"],
        hospital["desk"],
        f"〒{hospital['postal_code']}",
        *PAPERS_AND_OFFICES,
    ]
    for username in USERNAMES:
        user = persona(username)
        allowed += [user.get_full_name(), user.last_name, user.first_name]
    if case is not None:
        allowed += [
            value
            for field in Case._meta.concrete_fields
            if isinstance(value := getattr(case, field.attname), str)
        ]
        # What the hospital wrote to the patient about this case.
        allowed += [r.message for r in DocumentRequest.objects.filter(case=case)]
    return sorted({a for a in allowed if a}, key=len, reverse=True)  # the longest first


def _url(name: str, case: Case | None, step: str | None = None) -> str:
    if case is None:
        return reverse(name)
    if step:
        return reverse("case-step", args=[case.pk, step])
    return reverse(name, args=[case.pk])


def _japanese_left(content: bytes, case: Case | None) -> list[str]:
    # 〒 before a postal code is part of a Japanese address, which is the people's data.
    text = re.sub(r"〒(?=\s*\d)", " ", _text(content))
    for allowed in _allowed(case):
        text = text.replace(allowed, " ")
    return [
        " ".join(text[max(0, m.start() - 25) : m.end() + 25].split())
        for m in JAPANESE.finditer(text)
    ]


def _get(language: str, username: str | None, name: str, status: Status | None):
    case = case_in(status, applicant=persona("patient_hana")) if status else None
    response = _client(language, username).get(_url(name, case), follow=True)
    assert response.status_code == 200, (name, response.status_code)
    return response, case


@pytest.mark.parametrize(("username", "name", "status"), PATIENT_PAGES + STAFF_PAGES)
def test_each_page_in_english_shows_no_japanese_of_its_own(username, name, status, seeded):
    response, case = _get("en", username, name, status)
    assert _japanese_left(response.content, case) == []


def test_the_calendar_in_english_names_the_holidays_in_english(seeded):
    # January 2027: New Year's Day, Coming of Age Day and the end of the year-end closure.
    response = _client("en", "coordinator_sato").get(
        reverse("staff-schedule"), {"view": "month", "date": "2027-01-15"}
    )
    assert response.status_code == 200
    assert "National holiday (Coming of Age Day)" in response.content.decode()
    assert _japanese_left(response.content, None) == []


@pytest.mark.parametrize("step", [step.slug for step in steps()])
def test_each_step_of_the_application_in_english_shows_no_japanese_of_its_own(step, seeded):
    case = case_in(Status.DRAFT, applicant=persona("patient_hana"))
    response = _client("en", "patient_hana").get(_url("case-step", case, step), follow=True)
    assert response.status_code == 200
    assert _japanese_left(response.content, case) == []


def test_the_department_and_disease_names_are_english_in_english(seeded):
    response, __ = _get("en", "patient_hana", "case-detail", Status.ACCEPTED)
    page = response.content.decode()
    assert "Cardiology" in page and "Heart failure" in page


@pytest.mark.parametrize(
    ("username", "name", "status"),
    [
        (None, "public:departments", None),
        ("patient_hana", "case-detail", Status.ACCEPTED),
        ("coordinator_sato", "staff-case", Status.ACCEPTED),
    ],
)
def test_the_same_pages_in_japanese_are_in_japanese(username, name, status, seeded):
    response, _case = _get("ja", username, name, status)
    page = response.content.decode()
    assert '<html lang="ja"' in page
    assert "循環器内科" in page
    with translation.override("ja"):  # a label the catalog translates, when it does
        assert str(Department._meta.verbose_name) in page or "診療科" in page
