"""GET /api/v1/cases/{id}/fhir: the case as a FHIR R4 Bundle, for coordinators only, audited as
a download."""

import pytest
from fhir.resources.bundle import Bundle

from opiniondesk.api.tests.conftest import CASES_URL
from opiniondesk.audit.models import AuditAction, AuditEvent
from opiniondesk.interop.tests.conftest import charged_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(seeded, billing_ito):
    return charged_case(billing_ito)


def fhir_url(case) -> str:
    return f"{CASES_URL}/{case.pk}/fhir"


def test_it_gives_the_coordinator_the_bundle_as_fhir_json(api_as, case, coordinator_sato):
    response = api_as(coordinator_sato).get(fhir_url(case))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/fhir+json")
    bundle = Bundle.parse_raw(response.content)
    assert bundle.identifier.value == case.reference
    (download,) = AuditEvent.objects.filter(action=AuditAction.DOWNLOAD, case_id=case.pk)
    assert (download.user, download.detail) == (coordinator_sato, {"api": "fhir"})


def test_it_answers_plain_json_when_asked(api_as, case, coordinator_sato):
    response = api_as(coordinator_sato).client.get(fhir_url(case), HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["resourceType"] == "Bundle"


def test_it_refuses_anonymous_callers(api_as, case):
    response = api_as(None).get(fhir_url(case))
    assert response.status_code == 401
    assert "credentials" in response.json()["detail"]


@pytest.mark.parametrize(
    "who", ["patient_hana", "proxy_ken", "dr_tanaka", "billing_ito", "admin_kato"]
)
def test_it_refuses_every_other_role(api_as, case, who, request):
    user = request.getfixturevalue(who)
    response = api_as(user).get(fhir_url(case))
    # Hana's own case and the staff who see it: 403; those who may not see it: 404.
    assert response.status_code in (403, 404)
    assert "resourceType" not in response.json()
    assert not AuditEvent.objects.filter(action=AuditAction.DOWNLOAD).exists()
    assert AuditEvent.objects.filter(action=AuditAction.DENIED, case_id=case.pk).exists()


def test_the_patient_is_refused_her_own_case(api_as, case, patient_hana):
    assert api_as(patient_hana).get(fhir_url(case)).status_code == 403


def test_it_hides_a_case_from_an_outsider(api_as, case, outsider_eve):
    assert api_as(outsider_eve).get(fhir_url(case)).status_code == 404


def test_it_is_in_the_openapi_document(client):
    document = client.get("/api/schema/", {"format": "json"}, secure=True).json()
    operation = document["paths"]["/api/v1/cases/{case_id}/fhir"]["get"]
    assert operation["tags"] == ["cases"]
    assert operation["security"] == [{"apiToken": []}, {"cookieAuth": []}]
    assert operation["x-token-scope"] == "cases:read"
    assert set(operation["responses"]) == {"200", "401", "403", "404"}
    assert "application/fhir+json" in operation["responses"]["200"]["content"]
