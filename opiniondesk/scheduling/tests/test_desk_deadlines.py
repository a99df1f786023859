"""Every deadline a patient is given ends when the phone desk answers (SPEC §5, issue #16 item
9): the hold on offered dates (page and API), documents asked for (page and API) and the
patient's invitation link. Wednesday 25 November 2026, 10:00 in Japan: +3 days is a Saturday."""

from datetime import datetime, timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from opiniondesk.api.tests.conftest import CASES_URL
from opiniondesk.cases import screening
from opiniondesk.cases.models import DocumentRequest
from opiniondesk.cases.workflow import Status
from opiniondesk.catalog.desk_hours import desk_is_open
from opiniondesk.core.time import JST
from opiniondesk.readiness.models import PatientInvitation
from opiniondesk.readiness.services import invitation_create
from opiniondesk.scheduling.models import Offer
from opiniondesk.scheduling.tests import factories
from opiniondesk.testing.builders import case_in

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=JST)


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=True):
        yield


def _api(user):
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(user)
    return client


@pytest.fixture
def accepted(demo_catalog, patient_hana, coordinator_sato, dr_tanaka):
    return factories.accepted_case(patient_hana, coordinator=coordinator_sato, specialist=dr_tanaka)


@pytest.mark.parametrize(
    ("hold_until", "accepted_by_api"),
    [
        ("2026-11-28T17:00:00+09:00", False),  # Saturday
        ("2026-11-27T08:00:00Z", True),  # Friday 17:00 in Japan, sent in UTC
        ("2026-11-27T17:01:00+09:00", False),  # a minute after the desk closes
    ],
)
def test_the_api_refuses_a_hold_the_patient_could_not_call_about(
    accepted, coordinator_sato, hold_until, accepted_by_api
):
    slots = factories.free_slots(accepted, limit=1)
    body = {
        "slots": [
            {"specialist": slots[0].specialist_id, "starts_at": slots[0].starts_at.isoformat()}
        ],
        "hold_until": hold_until,
    }
    response = _api(coordinator_sato).post(
        f"{CASES_URL}/{accepted.pk}/offers", body, content_type="application/json", secure=True
    )
    if accepted_by_api:
        assert response.status_code == 201
        assert Offer.objects.get(case=accepted).hold_until == datetime(
            2026, 11, 27, 17, 0, tzinfo=JST
        )
    else:
        assert response.status_code == 400
        assert "could not call us" in response.json()["hold_until"][0]
        assert not Offer.objects.filter(case=accepted).exists()


@pytest.fixture
def in_screening(demo_catalog, policy, patient_hana, coordinator_sato):
    case = case_in(Status.SUBMITTED, applicant=patient_hana)
    return screening.case_start_screening(case_id=case.pk, actor=coordinator_sato)


def test_the_request_form_proposes_an_open_day_and_refuses_a_closed_one(
    in_screening, coordinator_sato
):
    sato = _api(coordinator_sato)
    page = sato.get(reverse("staff-case", args=[in_screening.pk]), {"open": "request"})
    page = page.content.decode()
    # 14 days ahead is Wednesday 9 December: open, proposed as is.
    assert 'name="due_date" value="2026-12-09"' in page

    response = sato.post(
        reverse("staff-case-request-documents", args=[in_screening.pk]),
        {
            "seen_status": "screening",
            "items": ["TEST_DATA"],
            "message": "CTの画像をお送りください。",
            "due_date": "2026-12-30",  # the year-end closure
        },
    )

    assert response.status_code == 200
    assert (
        "The phone desk is closed on that day, so the applicant could not call us about it. "
        "Please choose an open day, for example 2026-12-28."
    ) in response.content.decode()
    assert not DocumentRequest.objects.filter(case=in_screening).exists()


def test_the_api_refuses_a_due_date_on_a_holiday(in_screening, coordinator_sato):
    response = _api(coordinator_sato).post(
        f"{CASES_URL}/{in_screening.pk}/transitions",
        {
            "to": "awaiting_documents",
            "items": ["TEST_DATA"],
            "message": "CTの画像をお送りください。",
            "due_date": "2027-01-11",  # 成人の日
        },
        content_type="application/json",
        secure=True,
    )
    assert response.status_code == 400
    assert "example 2027-01-08" in response.json()["due_date"][0]
    assert not DocumentRequest.objects.filter(case=in_screening).exists()


@pytest.mark.parametrize(
    ("now", "expires"),
    [
        # 14 days from Wednesday 10:00 is a Wednesday 10:00: as is.
        (NOW, datetime(2026, 12, 9, 10, 0, tzinfo=JST)),
        # From Saturday noon: Saturday again, so the Friday before at 17:00.
        (datetime(2026, 11, 28, 12, 0, tzinfo=JST), datetime(2026, 12, 11, 17, 0, tzinfo=JST)),
        # From 16 December 20:00: 30 December, in the year-end closure, so 28 December 17:00.
        (datetime(2026, 12, 16, 20, 0, tzinfo=JST), datetime(2026, 12, 28, 17, 0, tzinfo=JST)),
    ],
)
def test_the_patients_invitation_ends_when_the_desk_answers(
    demo_catalog, policy, proxy_ken, now, expires
):
    with time_machine.travel(now, tick=False):
        case = case_in(Status.ACCEPTED, applicant=proxy_ken, relation="child")
        invitation_create(case_id=case.pk, actor=proxy_ken, email="hana@example.jp")
    invitation = PatientInvitation.objects.get(case=case)
    assert invitation.expires_at == expires
    assert desk_is_open(invitation.expires_at)
    assert invitation.expires_at - now <= timedelta(days=14)
