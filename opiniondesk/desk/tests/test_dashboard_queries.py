"""The patient's dashboard asks the database the same number of times for one case as for five,
in every state it shows something for (issue #16 item 11): Hana's applications."""

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from opiniondesk.cases.workflow import Status
from opiniondesk.scheduling.services import booking_create
from opiniondesk.scheduling.tests import factories
from opiniondesk.testing.builders import case_in, ready_case

pytestmark = pytest.mark.django_db

# A Wednesday morning: dates can be offered and booked, the desk is open.
NOW = "2026-11-25 10:00 +0900"


def _offered(hana, sato, tanaka):
    case = factories.accepted_case(hana, coordinator=sato, specialist=tanaka)
    factories.offer(case, sato, factories.free_slots(case, limit=1))
    return case


def _booked(hana, sato, tanaka):
    case = factories.accepted_case(hana, coordinator=sato, specialist=tanaka)
    [slot] = factories.held(factories.offer(case, sato, factories.free_slots(case, limit=1)))
    booking_create(case_id=case.pk, actor=hana, offered_slot_id=slot.pk)
    return case


MAKERS = {
    "submitted": lambda hana, sato, tanaka: case_in(Status.SUBMITTED, applicant=hana),
    "awaiting_documents": lambda hana, sato, tanaka: case_in(
        Status.AWAITING_DOCUMENTS, applicant=hana
    ),
    "accepted": lambda hana, sato, tanaka: case_in(Status.ACCEPTED, applicant=hana),
    "offered": _offered,
    "booked": _booked,
    "ready": lambda hana, sato, tanaka: ready_case(applicant=hana),
}


def _dashboard_queries(hana):
    client = Client()
    client.force_login(hana)
    client.get(reverse("dashboard"))  # the session and the language warmed up
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("dashboard"))
    assert response.status_code == 200
    return len(queries), response.content.decode()


@pytest.mark.parametrize("state", list(MAKERS))
def test_the_dashboard_asks_as_often_for_five_cases_as_for_one(
    state, demo_catalog, policy, patient_hana, coordinator_sato, dr_tanaka
):
    make = MAKERS[state]
    with time_machine.travel(NOW, tick=True):
        first = make(patient_hana, coordinator_sato, dr_tanaka)
        one, page = _dashboard_queries(patient_hana)
        assert first.reference in page
        more = [make(patient_hana, coordinator_sato, dr_tanaka) for _ in range(4)]
        five, page = _dashboard_queries(patient_hana)
    assert all(case.reference in page for case in more)
    assert five == one


def test_a_mixed_dashboard_asks_as_often_as_one_case_of_each_state(
    demo_catalog, policy, patient_hana, coordinator_sato, dr_tanaka
):
    with time_machine.travel(NOW, tick=True):
        for make in MAKERS.values():
            make(patient_hana, coordinator_sato, dr_tanaka)
        once, _page = _dashboard_queries(patient_hana)
        for make in MAKERS.values():
            make(patient_hana, coordinator_sato, dr_tanaka)
            make(patient_hana, coordinator_sato, dr_tanaka)
        thrice, page = _dashboard_queries(patient_hana)
    assert thrice == once
    assert page.count('class="card case-card"') == 3 * len(MAKERS)
