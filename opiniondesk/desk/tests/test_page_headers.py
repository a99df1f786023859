"""The headers of the pages each persona opens most (SPEC §13): every HTML page has the site's
Content-Security-Policy, its scripts carry the nonce of that policy and no inline script is
allowed without it; every page with personal data, and every API answer, is `no-store`; the
public pages an anonymous visitor opens stay cacheable."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from opiniondesk.cases.workflow import Status
from opiniondesk.testing.builders import case_in
from opiniondesk.testing.personas import persona

# The same on every database: checked in the SQLite half (marker `contract`, Makefile).
pytestmark = [pytest.mark.django_db, pytest.mark.contract]

SCRIPT = re.compile(r"<script\b([^>]*)>", re.IGNORECASE)
NONCE = re.compile(r"""\bnonce="([^"]*)\"""")
HEADER_NONCE = re.compile(r"'nonce-([^']+)'")

# (who, URL name, the case it is about: None, "draft" or "accepted")
PAGES = [
    ("patient_hana", "dashboard", None),
    ("patient_hana", "case-detail", "accepted"),
    ("patient_hana", "case-step", "draft"),  # the review step: an inline script
    ("patient_hana", "case-documents", "accepted"),  # the upload module
    ("patient_hana", "case-identity", "accepted"),
    ("patient_hana", "case-consent", "accepted"),
    ("coordinator_sato", "staff-home", None),
    ("coordinator_sato", "staff-queue", None),
    ("coordinator_sato", "staff-case", "accepted"),  # the free dates, with htmx
    ("coordinator_sato", "staff-case-history", "accepted"),
    ("coordinator_sato", "staff-disclosures", None),
    ("coordinator_sato", "referral-upload", None),
    ("dr_tanaka", "staff-case", "accepted"),
    ("coordinator_sato", "staff-schedule", None),
    ("dr_tanaka", "staff-consults", None),
    ("billing_ito", "staff-home", None),
    ("coordinator_sato", "api-cases", None),
    ("coordinator_sato", "api-case", "accepted"),
    ("patient_hana", "api-docs", None),
    ("patient_hana", "api-redoc", None),
]
CACHEABLE = ["public:home", "public:departments", "public:fees", "public:contact"]


def _url(name: str, case_kind: str | None, user) -> str:
    if case_kind is None:
        return reverse(name)
    case = case_in(Status(case_kind), applicant=persona("patient_hana"))
    if name == "case-step":
        return reverse(name, args=[case.pk, "review"])
    return reverse(name, args=[case.pk])


def assert_csp_with_the_pages_nonce(response) -> None:
    policy = response["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert "unsafe-inline" not in directives["script-src"]
    assert "unsafe-eval" not in directives["script-src"]
    assert directives["object-src"] == "'none'" and directives["frame-ancestors"] == "'none'"
    scripts = [
        attributes
        for attributes in SCRIPT.findall(response.content.decode())
        if 'type="application/json"' not in attributes  # data, never run
    ]
    header_nonces = HEADER_NONCE.findall(directives["script-src"])
    page_nonces = {match for attributes in scripts for match in NONCE.findall(attributes)}
    if scripts:  # every script the page runs carries the nonce of this answer's policy
        assert len(header_nonces) == 1 and len(page_nonces) == 1
        assert page_nonces == set(header_nonces) and len(header_nonces[0]) >= 16
        assert all(NONCE.search(attributes) for attributes in scripts)


@pytest.mark.parametrize(("username", "name", "case_kind"), PAGES)
def test_each_page_has_the_csp_and_is_not_stored(username, name, case_kind, seeded):
    user = persona(username)
    client = Client()
    client.force_login(user)
    response = client.get(_url(name, case_kind, user))
    assert response.status_code == 200, name
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
    if response["Content-Type"].startswith("text/html"):
        assert_csp_with_the_pages_nonce(response)


def test_two_answers_have_two_nonces(patient_hana):
    case = case_in(Status.DRAFT, applicant=patient_hana)
    client = Client()
    client.force_login(patient_hana)
    url = reverse("case-step", args=[case.pk, "review"])
    first, second = client.get(url), client.get(url)
    assert_csp_with_the_pages_nonce(first)
    assert "<script nonce=" in first.content.decode()  # the inline script of the review step
    nonces = [HEADER_NONCE.findall(r["Content-Security-Policy"]) for r in (first, second)]
    assert nonces[0] != nonces[1]


@pytest.mark.parametrize("name", CACHEABLE)
def test_a_public_page_has_the_csp_and_may_be_cached_for_a_visitor(name, demo_catalog):
    response = Client().get(reverse(name))
    assert response.status_code == 200
    assert_csp_with_the_pages_nonce(response)
    assert "no-store" not in response.get("Cache-Control", "")


def test_the_self_check_has_the_csp_and_its_script_the_nonce(demo_catalog):
    response = Client().get(reverse("public:check"))  # never cached: it holds the answers
    assert_csp_with_the_pages_nonce(response)
    assert 'nonce="' in response.content.decode()


def test_a_public_page_is_not_stored_for_a_signed_in_patient(patient_hana, demo_catalog):
    client = Client()
    client.force_login(patient_hana)
    response = client.get(reverse("public:check"))
    assert "no-store" in response["Cache-Control"]


def test_the_public_api_is_not_stored(demo_catalog):
    response = Client().get(reverse("api-departments"))
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
