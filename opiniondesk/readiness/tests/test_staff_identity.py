"""The coordinator's identity check on the staff case page (SPEC §6, §11.2): what the case still
needs before its consult, each uploaded ID with its type and state, and accepting or refusing it.
Hana booked her online cardiology consult and uploaded her passport; Sato checks it."""

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from opiniondesk.audit.models import AuditAction, AuditEvent
from opiniondesk.cases.models import Case
from opiniondesk.cases.workflow import Status
from opiniondesk.documents.models import Document
from opiniondesk.documents.tests import samples
from opiniondesk.readiness.models import IdentityReview
from opiniondesk.readiness.panels import ITEM_LABELS
from opiniondesk.readiness.rules import PHOTO_IDS, IdType, Item
from opiniondesk.readiness.services import id_document_add
from opiniondesk.readiness.wording import ID_TYPE_LABELS
from opiniondesk.scheduling.services import booking_create
from opiniondesk.scheduling.tests import conftest as scheduling_fixtures
from opiniondesk.scheduling.tests import factories, test_staff_offer
from opiniondesk.scheduling.tests.test_staff_offer import case_url, signed_in, written

pytestmark = pytest.mark.django_db

# The scheduling tests' fixtures: the personas, Hana's accepted case, and "now".

accepted = scheduling_fixtures.accepted


@pytest.fixture(autouse=True)
def _now():
    """The morning the scheduling staff tests are set in (Wednesday 25 November 2026)."""
    with time_machine.travel(test_staff_offer.NOW, tick=True):
        yield


def upload(case, actor, id_type: IdType) -> Document:
    return id_document_add(
        case_id=case.pk,
        actor=actor,
        uploaded=SimpleUploadedFile("id.pdf", samples.pdf(), content_type="application/pdf"),
        id_type=id_type,
    )


@pytest.fixture
def booked(accepted, coordinator_sato, patient_hana):
    offer = factories.offer(accepted, coordinator_sato, factories.free_slots(accepted, limit=1))
    booking_create(case_id=accepted.pk, actor=patient_hana, offered_slot_id=offer.slots.get().pk)
    accepted.refresh_from_db()
    return accepted


@pytest.fixture
def passport(booked, patient_hana):
    return upload(booked, patient_hana, IdType.PASSPORT)


def check(client, case, document, decision, reason=""):
    return client.post(
        reverse("staff-identity-check", args=[case.pk, document.pk]),
        {"decision": decision, "reject_reason": reason},
    )


def test_it_names_every_kind_of_id_and_every_item():
    assert set(ID_TYPE_LABELS) == set(IdType)
    assert set(ITEM_LABELS) == set(Item)


def test_it_shows_the_checklist_and_the_id_waiting(passport, booked, coordinator_sato):
    response = signed_in(coordinator_sato).get(case_url(booked))

    html = response.content.decode()
    assert 'id="identity"' in html and 'href="#identity"' in html
    assert 'data-item="identity" data-done="false"' in html
    assert 'data-item="patient_account" data-done="true"' in html
    assert f'data-document="{passport.pk}" data-state="waiting"' in html
    assert f'href="{reverse("document-file", args=[passport.pk])}"' in html
    assert 'Passport</strong> <span class="tag">with photo</span>' in html
    assert reverse("staff-identity-check", args=[booked.pk, passport.pk]) in html
    for id_type in IdType:  # which IDs count, and which carry a photo
        photo = "with photo" if id_type in PHOTO_IDS else "no photo"
        assert f'data-id-type="{id_type}">' in html
        assert f"{ID_TYPE_LABELS[id_type]} — {photo}".replace("'", "&#x27;") in html


def test_a_stored_id_type_that_does_not_exist_still_opens_the_pages(
    passport, booked, coordinator_sato, patient_hana
):
    # Only bad data (an import, a hand edit) can hold one: the pages once failed with 500.
    Document.objects.filter(pk=passport.pk).update(id_type="library_card")

    staff = signed_in(coordinator_sato).get(case_url(booked))
    patient = signed_in(patient_hana).get(reverse("case-identity", args=[booked.pk]))

    assert staff.status_code == 200 and patient.status_code == 200
    html = staff.content.decode()
    assert f'data-document="{passport.pk}" data-state="waiting"' in html
    assert "library_card" in html  # shown as stored, for the coordinator to see and refuse
    assert 'data-item="identity" data-done="false"' in html


def test_it_accepts_an_id(passport, booked, coordinator_sato):
    sato = coordinator_sato

    response = check(signed_in(sato), booked, passport, "verify")

    assert response.status_code == 302
    assert response["Location"] == case_url(booked) + "#identity"
    review = IdentityReview.objects.get(document=passport)
    assert review.verified and review.reviewed_by == sato
    assert AuditEvent.objects.filter(
        action=AuditAction.UPDATE, case_id=booked.pk, object_id=str(passport.pk), user=sato
    ).exists()
    html = signed_in(sato).get(case_url(booked)).content.decode()
    assert f'data-document="{passport.pk}" data-state="verified"' in html
    assert 'data-item="identity" data-done="true"' in html
    assert "佐藤 美咲" in html


def test_it_refuses_an_id_with_the_reason(passport, booked, coordinator_sato):
    response = check(
        signed_in(coordinator_sato), booked, passport, "reject", "The photo is blurred."
    )

    assert response.status_code == 302
    review = IdentityReview.objects.get(document=passport)
    assert not review.verified and review.reason == "The photo is blurred."
    html = signed_in(coordinator_sato).get(case_url(booked)).content.decode()
    assert f'data-document="{passport.pk}" data-state="rejected"' in html
    assert "The photo is blurred." in html


@pytest.mark.parametrize(("decision", "reason"), [("reject", ""), ("reject", "  "), ("x", "")])
def test_it_changes_nothing_on_bad_input(passport, booked, coordinator_sato, decision, reason):
    before = written()

    response = check(signed_in(coordinator_sato), booked, passport, decision, reason)

    assert response.status_code == 200
    assert written() == before
    assert 'class="error-' in response.content.decode()


def test_it_checks_an_id_only_once(passport, booked, coordinator_sato):
    client = signed_in(coordinator_sato)
    check(client, booked, passport, "verify")
    before = written()

    response = check(client, booked, passport, "reject", "Changed my mind")

    assert response.status_code == 200
    assert "already been checked" in response.content.decode()
    assert written() == before


def test_it_answers_404_for_a_document_of_another_case_or_of_another_kind(
    passport, booked, proxy_ken, coordinator_sato, dr_tanaka
):
    other = factories.accepted_case(proxy_ken, coordinator=coordinator_sato, specialist=dr_tanaka)
    letter = Document.objects.filter(case=booked).exclude(pk=passport.pk).first()
    client = signed_in(coordinator_sato)
    before = written()

    assert check(client, other, passport, "verify").status_code == 404
    assert check(client, booked, letter, "verify").status_code == 404
    assert (
        client.post(
            reverse("staff-identity-check", args=[booked.pk, 99999999]), {"decision": "verify"}
        ).status_code
        == 404
    )
    assert written() == before


@pytest.mark.parametrize(
    "who",
    [
        "patient_hana",
        "proxy_ken",
        "outsider_eve",
        "dr_tanaka",
        "dr_mori",
        "billing_ito",
        "admin_kato",
    ],
)
def test_it_lets_only_coordinators_check(passport, booked, personas, who):
    response = check(signed_in(personas[who]), booked, passport, "verify")

    assert response.status_code in (403, 404)
    assert not IdentityReview.objects.exists()


def test_it_shows_no_identity_check_to_the_specialist(passport, booked, dr_tanaka):
    html = signed_in(dr_tanaka).get(case_url(booked)).content.decode()

    assert 'id="identity"' not in html
    assert reverse("staff-identity-check", args=[booked.pk, passport.pk]) not in html


def test_after_the_consult_the_ids_stay_without_the_checklist(passport, booked, coordinator_sato):
    # "Before the consult" is over; the IDs and their checks stay as the record.
    Case.objects.filter(pk=booked.pk).update(status=Status.COMPLETED)

    html = signed_in(coordinator_sato).get(case_url(booked)).content.decode()

    assert 'id="identity-title">Identity check</h2>' in html and 'href="#identity"' in html
    assert "Before the consult" not in html and "data-item=" not in html
    assert f'data-document="{passport.pk}" data-state="waiting"' in html
