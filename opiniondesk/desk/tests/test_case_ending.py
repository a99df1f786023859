"""After the fact (issue #16 item 10): once a booking is cancelled or an application withdrawn,
Hana's case page says what happens now (fee, documents kept as medical records, the case is
closed) and how to apply again. Sato (coordinator) cancels or withdraws for her."""

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from opiniondesk.cases.models import Case
from opiniondesk.cases.workflow import Status
from opiniondesk.desk import services as desk
from opiniondesk.scheduling.services import booking_cancel, booking_create
from opiniondesk.scheduling.tests import factories
from opiniondesk.testing.builders import case_in

pytestmark = pytest.mark.django_db

NOW = "2026-11-25 10:00 +0900"  # a Wednesday: the consult is days away


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=True):
        yield


@pytest.fixture
def booked(demo_catalog, policy, patient_hana, coordinator_sato, dr_tanaka):
    case = factories.accepted_case(patient_hana, coordinator=coordinator_sato, specialist=dr_tanaka)
    [slot] = factories.held(
        factories.offer(case, coordinator_sato, factories.free_slots(case, limit=1))
    )
    booking_create(case_id=case.pk, actor=patient_hana, offered_slot_id=slot.pk)
    return case


def _page(user, case):
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(user)
    response = client.get(reverse("case-detail", args=[case.pk]))
    assert response.status_code == 200
    return response.content.decode()


def _says_what_happens_now(page):
    assert 'data-what="fee"' in page
    assert "There is no fee: the fee is only charged for a consultation that took place." in page
    assert "medical records, as the law requires. They are not returned" in page
    assert "This application is closed: it cannot be reopened or booked again." in page
    assert f'action="{reverse("case-new")}"' in page and "Apply again" in page
    assert "Questions? Please call us." in page


def test_it_tells_hana_what_happens_after_she_cancels(booked, patient_hana):
    booking_cancel(case_id=booked.pk, actor=patient_hana)

    page = _page(patient_hana, booked)

    assert 'data-ending="cancelled"' in page
    assert "You cancelled this booking on" in page
    _says_what_happens_now(page)


def test_it_says_the_hospital_cancelled_and_why(booked, patient_hana, coordinator_sato):
    booking_cancel(
        case_id=booked.pk, actor=coordinator_sato, reason="The specialist is unwell that day."
    )

    page = _page(patient_hana, booked)

    assert "The hospital cancelled this booking on" in page
    assert "The specialist is unwell that day." in page
    _says_what_happens_now(page)


def test_it_tells_hana_what_happens_after_she_withdraws(demo_catalog, policy, patient_hana):
    case = case_in(Status.SUBMITTED, applicant=patient_hana)
    desk.case_withdraw(case_id=case.pk, actor=patient_hana, reason="")

    page = _page(patient_hana, case)

    assert 'data-ending="withdrawn"' in page
    assert "You withdrew this application on" in page
    _says_what_happens_now(page)


def test_it_says_staff_withdrew_it_at_her_request(
    demo_catalog, policy, patient_hana, coordinator_sato
):
    case = case_in(Status.SCREENING, applicant=patient_hana)
    desk.case_withdraw(case_id=case.pk, actor=coordinator_sato, reason="By phone, 25 Nov.")

    page = _page(patient_hana, case)

    assert "Our staff withdrew this application on" in page
    assert "By phone, 25 Nov." not in page  # the coordinator's note is internal


def test_apply_again_starts_a_new_application(booked, patient_hana):
    booking_cancel(case_id=booked.pk, actor=patient_hana)
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(patient_hana)

    response = client.post(reverse("case-new"))

    new = Case.objects.exclude(pk=booked.pk).get(applicant=patient_hana)
    assert new.status == Status.DRAFT
    assert response["Location"] == reverse("case-step", args=[new.pk, "applicant"])


def test_an_open_case_has_no_ending_box(booked, patient_hana):
    page = _page(patient_hana, booked)
    assert 'id="what-next"' not in page
