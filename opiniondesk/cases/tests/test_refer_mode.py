"""A case goes only to a department that sees patients the way it asks: online or in person."""

import pytest
from django.test import Client
from django.urls import reverse

from opiniondesk.cases import screening
from opiniondesk.cases.models import Case, CaseTransition
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


# A referral to another department names that department's disease (issue #16 item 11).


def _refer_page(client, case, data):
    return client.post(
        reverse("staff-case-refer", args=[case.pk]), {"seen_status": "screening", **data}
    )


def _sato(coordinator_sato):
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(coordinator_sato)
    return client


def test_the_refer_form_offers_each_departments_diseases_with_the_cases_own_chosen(
    screened, coordinator_sato
):
    page = _sato(coordinator_sato).get(reverse("staff-case", args=[screened.pk])).content.decode()
    assert '<optgroup label="Gastroenterology">' in page
    own = screened.disease_id
    assert f'<option value="{own}" selected>Heart failure</option>' in page


def test_a_disease_of_another_department_is_refused_and_nothing_changes(screened, coordinator_sato):
    gastro = Department.objects.get(code="gastroenterology")
    response = _refer_page(
        _sato(coordinator_sato),
        screened,
        {"department": gastro.pk, "disease": screened.disease_id},  # heart failure
    )
    assert response.status_code == 200
    assert "Heart failure is not a disease of Gastroenterology." in response.content.decode()
    case = Case.objects.get(pk=screened.pk)
    assert (case.status, case.department.code, case.disease.code) == (
        Status.SCREENING,
        "cardiology",
        "heart_failure",
    )


def test_the_disease_must_be_chosen(screened, coordinator_sato):
    gastro = Department.objects.get(code="gastroenterology")
    response = _refer_page(_sato(coordinator_sato), screened, {"department": gastro.pk})
    assert "Please choose the disease." in response.content.decode()
    assert Case.objects.get(pk=screened.pk).status == Status.SCREENING


def test_it_refers_to_another_department_with_its_disease(screened, coordinator_sato):
    gastro = Department.objects.get(code="gastroenterology")
    cancer = gastro.diseases.get(code="gastric_cancer")
    response = _refer_page(
        _sato(coordinator_sato), screened, {"department": gastro.pk, "disease": cancer.pk}
    )
    assert response.status_code == 302
    case = Case.objects.get(pk=screened.pk)
    assert (case.status, case.department, case.disease) == (Status.REFERRED, gastro, cancer)
    transition = CaseTransition.objects.filter(case=case, to_status="referred").get()
    assert transition.detail == {"department": "gastroenterology", "disease": "gastric_cancer"}


def test_the_service_refuses_to_keep_a_disease_the_department_does_not_cover(
    screened, coordinator_sato
):
    gastro = Department.objects.get(code="gastroenterology")
    with pytest.raises(screening.NotAllowed):
        screening.case_refer(case_id=screened.pk, actor=coordinator_sato, department=gastro)
    with pytest.raises(screening.NotAllowed):
        screening.case_refer(
            case_id=screened.pk,
            actor=coordinator_sato,
            department=gastro,
            disease=Department.objects.get(code="cardiology").diseases.first(),
        )
    case = Case.objects.get(pk=screened.pk)
    assert (case.status, case.department.code) == (Status.SCREENING, "cardiology")


@pytest.mark.parametrize(
    ("disease", "status", "answer"),
    [
        (None, 400, {"disease": ["Please choose the disease."]}),
        ("heart_failure", 400, {"disease": ["Not a disease of this department."]}),
        ("gastric_cancer", 201, None),
    ],
)
def test_the_api_asks_for_the_departments_disease(
    screened, coordinator_sato, disease, status, answer
):
    body = {"to": "referred", "department": "gastroenterology"}
    if disease:
        body["disease"] = disease
    response = _sato(coordinator_sato).post(
        f"/api/v1/cases/{screened.pk}/transitions",
        body,
        content_type="application/json",
        secure=True,
    )
    assert response.status_code == status
    if answer:
        assert response.json() == answer
    case = Case.objects.get(pk=screened.pk)
    expected = "gastric_cancer" if status == 201 else "heart_failure"
    assert case.disease.code == expected
