"""A case goes only to a department that sees patients the way it asks: online or in person."""

import pytest
from django.test import Client
from django.urls import reverse

from opiniondesk.cases import screening
from opiniondesk.cases.models import Case
from opiniondesk.cases.workflow import Status
from opiniondesk.catalog.models import Department

pytestmark = pytest.mark.django_db


@pytest.fixture
def screened(wizard_for, proxy_ken, coordinator_sato):
    """Ken's online application for his mother (cardiology), in screening."""
    wizard = wizard_for(proxy_ken)
    wizard.fill_all()
    assert wizard.submit().status_code == 302
    return screening.case_start_screening(case_id=wizard.case.pk, actor=coordinator_sato)


def test_the_service_refuses_an_in_person_only_department_for_an_online_case(
    screened, coordinator_sato
):
    neurology = Department.objects.get(code="neurology")  # in person only (SPEC §2)
    with pytest.raises(screening.NotAllowed):
        screening.case_refer(case_id=screened.pk, actor=coordinator_sato, department=neurology)
    screened.refresh_from_db()
    assert (screened.status, screened.department.code) == (Status.SCREENING, "cardiology")


def test_the_coordinators_form_says_why(screened, coordinator_sato):
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(coordinator_sato)
    neurology = Department.objects.get(code="neurology")
    response = client.post(
        reverse("staff-case-refer", args=[screened.pk]),
        {"seen_status": "screening", "department": neurology.pk},
    )
    assert response.status_code == 200
    assert "This department does not offer online consults." in response.content.decode()
    assert Case.objects.get(pk=screened.pk).status == Status.SCREENING


def test_the_api_answers_400_with_the_field(screened, coordinator_sato):
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(coordinator_sato)
    response = client.post(
        f"/api/v1/cases/{screened.pk}/transitions",
        {"to": "referred", "department": "neurology"},
        content_type="application/json",
        secure=True,
    )
    assert response.status_code == 400
    assert response.json() == {"department": ["This department does not offer online consults."]}
    assert Case.objects.get(pk=screened.pk).status == Status.SCREENING
