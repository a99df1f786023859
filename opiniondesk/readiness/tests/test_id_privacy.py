"""The patient's ID is for the coordinators and the patient's side only (data minimisation)."""

import pytest
from django.test import Client
from django.urls import reverse

from opiniondesk.audit.models import AuditAction, AuditEvent
from opiniondesk.demo.documents import demo_pdf
from opiniondesk.readiness.services import id_document_add

pytestmark = pytest.mark.django_db


def _as(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def licence(patient_hana, accepted):
    return id_document_add(
        case_id=accepted.pk,
        actor=patient_hana,
        uploaded=demo_pdf("ID", "licence.pdf"),
        id_type="drivers_licence",
    )


def test_the_coordinator_and_the_patient_open_it(coordinator_sato, patient_hana, licence):
    url = reverse("document-file", args=[licence.pk])
    assert _as(coordinator_sato).get(url).status_code == 200
    assert _as(patient_hana).get(url).status_code == 200


def test_the_specialist_neither_sees_nor_opens_it(dr_tanaka, accepted, licence):
    tanaka = _as(dr_tanaka)
    page = tanaka.get(reverse("staff-case", args=[accepted.pk])).content.decode()
    assert reverse("document-file", args=[licence.pk]) not in page
    referral = accepted.documents.get(kind="referral_letter")
    assert reverse("document-file", args=[referral.pk]) in page  # the materials stay visible

    assert tanaka.get(reverse("document-file", args=[licence.pk])).status_code == 404
    assert AuditEvent.objects.filter(
        action=AuditAction.DENIED, case_id=accepted.pk, object_id=str(licence.pk)
    ).exists()

    listed = tanaka.get(f"/api/v1/cases/{accepted.pk}/documents", secure=True).json()
    assert licence.pk not in [row["id"] for row in listed]
    assert referral.pk in [row["id"] for row in listed]
