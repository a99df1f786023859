"""The coordinator's work queue shows the consult date and the IDs waiting for a check."""

import pytest
from django.test import Client
from django.urls import reverse

from opiniondesk.demo.documents import demo_pdf
from opiniondesk.readiness.services import id_document_add, identity_review
from opiniondesk.scheduling import services
from opiniondesk.scheduling.tests import factories

pytestmark = pytest.mark.django_db


def _as(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def booked(coordinator_sato, patient_hana, accepted):
    slots = factories.free_slots(accepted, limit=2)
    offer = services.offer_create(
        case_id=accepted.pk,
        actor=coordinator_sato,
        slots=[(slot.specialist_id, slot.starts_at) for slot in slots],
        hold_until=factories.hold_until_for(slots),
    )
    services.booking_create(
        case_id=accepted.pk, actor=patient_hana, offered_slot_id=offer.slots.first().pk
    )
    return accepted


def _rows(client, **params):
    response = client.get(reverse("staff-queue"), {"state": "all", **params})
    assert response.status_code == 200
    return response.context["page"].items


def test_the_queue_shows_the_consult_and_filters_ids_to_check(
    coordinator_sato, patient_hana, booked
):
    sato = _as(coordinator_sato)
    [row] = [case for case in _rows(sato) if case.pk == booked.pk]
    assert row.consult_at == booked.bookings.get().starts_at
    assert not row.id_waiting
    assert _rows(sato, ids="on") == []

    document = id_document_add(
        case_id=booked.pk,
        actor=patient_hana,
        uploaded=demo_pdf("ID", "id.pdf"),
        id_type="drivers_licence",
    )
    [row] = _rows(sato, ids="on")
    assert row.pk == booked.pk and row.id_waiting
    assert b"data-id-waiting" in sato.get(reverse("staff-queue"), {"state": "all"}).content

    identity_review(document_id=document.pk, actor=coordinator_sato, verified=True)
    assert _rows(sato, ids="on") == []
