"""Least data: the family member's ID and the proof of relationship are the coordinators' and
the patient's side's, like the patient's ID; the specialist sees the clinical materials only,
on no page, list or API answer."""

import pytest
from django.test import Client
from django.urls import reverse

from opiniondesk.audit.models import AuditAction, AuditEvent
from opiniondesk.cases.workflow import Status
from opiniondesk.testing.builders import case_in

pytestmark = pytest.mark.django_db

HIDDEN = ("proxy_id", "relationship_proof")
MATERIALS = ("referral_letter", "test_data", "consent_form")


def _as(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def kens_case(proxy_ken, coordinator_sato, dr_tanaka):
    """Ken's application for his mother, accepted by Dr Tanaka: with Ken's ID and the proof."""
    return case_in(Status.ACCEPTED, relation="child", applicant=proxy_ken)


def _files(case, kinds):
    return [reverse("document-file", args=[d.pk]) for d in case.documents.filter(kind__in=kinds)]


def test_the_specialist_neither_lists_nor_opens_the_family_papers(kens_case, dr_tanaka):
    tanaka = _as(dr_tanaka)
    hidden, materials = _files(kens_case, HIDDEN), _files(kens_case, MATERIALS)
    assert len(hidden) == 2 and len(materials) == 3
    pages = [
        reverse("staff-case", args=[kens_case.pk]),
        reverse("staff-case-history", args=[kens_case.pk]),
        reverse("case-documents", args=[kens_case.pk]),
        reverse("case-detail", args=[kens_case.pk]),
    ]
    for page in pages:
        response = tanaka.get(page)
        assert response.status_code == 200, page
        html = response.content.decode()
        assert not [url for url in hidden if url in html], page
        assert "proxy_id.pdf" not in html and "relationship_proof.pdf" not in html, page
    for page in pages[:3]:  # where the materials are linked
        html = tanaka.get(page).content.decode()
        assert all(url in html for url in materials), page

    for url in hidden:
        assert tanaka.get(url).status_code == 404
    denied = AuditEvent.objects.filter(action=AuditAction.DENIED, case_id=kens_case.pk)
    assert denied.count() == 2

    listed = tanaka.get(f"/api/v1/cases/{kens_case.pk}/documents", secure=True)
    assert sorted(row["kind"] for row in listed.json()) == sorted(MATERIALS)
    # The FHIR export, which lists every document, is the coordinators' alone.
    assert tanaka.get(f"/api/v1/cases/{kens_case.pk}/fhir", secure=True).status_code == 403


def test_the_coordinator_and_the_applicant_see_them(kens_case, coordinator_sato, proxy_ken):
    for user in (coordinator_sato, proxy_ken):
        client = _as(user)
        for url in _files(kens_case, HIDDEN):
            assert client.get(url).status_code == 200
        listed = client.get(f"/api/v1/cases/{kens_case.pk}/documents", secure=True).json()
        assert {"proxy_id", "relationship_proof"} <= {row["kind"] for row in listed}
    html = _as(coordinator_sato).get(reverse("staff-case", args=[kens_case.pk])).content.decode()
    assert all(url in html for url in _files(kens_case, HIDDEN))
