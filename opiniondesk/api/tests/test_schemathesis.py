"""Schemathesis against the authenticated API, in-process through the WSGI app of config/wsgi.py:
each staff role's API token, every operation of the consult, the fee, the opinion and the
disclosures (and the older case and scheduling operations), 0 server errors and every answer as
the OpenAPI document says.

Generated bodies are valid by the schema (positive mode); the case id is the id of a real
completed case (for the opinion and the disclosures, a case with a signed, posted opinion and a
disclosure request), so the views do their work rather than answer 404. Derandomized and a few
examples per operation: the suite stays quick."""

import pytest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import openapi
from schemathesis.specs.openapi.checks import positive_data_acceptance

from opiniondesk.accounts import services as tokens
from opiniondesk.accounts.vocabulary import Scope
from opiniondesk.billing import services as billing
from opiniondesk.billing.models import Charge
from opiniondesk.interop import services as interop
from opiniondesk.opinions import services as opinions
from opiniondesk.testing.builders import completed_case, opinion_signed

BASE_URL = "https://localhost"  # production settings redirect plain HTTP
EXAMPLES = 12
# GETs whose only parameter is the case (fixed below): a few examples say all; the PDF is slow.
OPINION_EXAMPLES = 3
ROLES = ["coordinator_sato", "dr_tanaka", "billing_ito", "admin_kato"]
NEW_PATHS = {
    "/api/v1/cases/{case_id}/consult",
    "/api/v1/cases/{case_id}/charge",
    "/api/v1/cases/{case_id}/charge/collect",
    "/api/v1/cases/{case_id}/charge/waive",
    "/api/v1/cases/{case_id}/charge/refund",
}
OPINION_PATHS = {
    "/api/v1/cases/{case_id}/opinion",
    "/api/v1/cases/{case_id}/opinion/pdf",
    "/api/v1/cases/{case_id}/disclosures",
}


# The contract is the same on every database: checked once, in the SQLite half (Makefile).
pytestmark = pytest.mark.contract


@pytest.fixture
def schema(db):
    """The document, read from the app; requests keep the test's database connection (as
    django.test.Client does, which a WSGI client is not: Django would close it)."""
    from config.wsgi import application

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield openapi.from_wsgi("/api/schema/?format=json", application, base_url=BASE_URL)
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def operations(schema, paths=None):
    for result in schema.get_all_operations():
        operation = result.ok()
        if "x-token-scope" not in operation.definition.raw:
            continue  # the public endpoints: fuzzed in test_fuzz.py
        if paths is None or operation.path in paths:
            yield operation


def fuzz(operation, secret, case_id, excluded=(), examples=EXAMPLES):
    @settings(
        max_examples=examples,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(data=st.data())
    def run(data):
        case = data.draw(operation.as_strategy())
        if "case_id" in (case.path_parameters or {}):
            case.path_parameters["case_id"] = case_id
        # Given as explicit credentials, so that Schemathesis also checks that the operation
        # refuses the request without them and with a made-up token.
        auth = {"Authorization": f"Bearer {secret}"}
        response = case.call(base_url=BASE_URL, headers=auth)
        assert response.status_code < 500, (operation.label, response.status_code)
        case.validate_response(response, headers=auth, excluded_checks=list(excluded))

    run()


@pytest.mark.parametrize("role", ROLES)
def test_the_new_endpoints_keep_to_their_schema(request, schema, admin_kato, role):
    case = completed_case(call_minutes=25, review_minutes=5)
    _token, secret = tokens.api_token_create(
        name="fuzz",
        user=request.getfixturevalue(role),
        scopes=list(Scope.values),
        expires_at=None,
        actor=admin_kato,
    )
    checked = list(operations(schema, NEW_PATHS))
    assert {op.path for op in checked} == NEW_PATHS
    for operation in checked:
        fuzz(operation, secret, case.pk)


@pytest.mark.parametrize("role", ROLES)
def test_the_opinion_endpoints_keep_to_their_schema(
    request, schema, admin_kato, billing_ito, coordinator_sato, role
):
    case = completed_case(call_minutes=25)
    billing.collect(charge_id=Charge.objects.get(case=case).pk, actor=billing_ito, method="cash")
    opinion_signed(case)
    opinions.post_record(case_id=case.pk, actor=coordinator_sato, posted_on=timezone.localdate())
    interop.disclosure_request_create(
        case_id=case.pk, actor=case.applicant, wanted="whole_record", details="", delivery="post"
    )
    _token, secret = tokens.api_token_create(
        name="fuzz",
        user=request.getfixturevalue(role),
        scopes=list(Scope.values),
        expires_at=None,
        actor=admin_kato,
    )
    checked = list(operations(schema, OPINION_PATHS))
    assert {op.path for op in checked} == OPINION_PATHS
    for operation in checked:
        fuzz(operation, secret, case.pk, examples=OPINION_EXAMPLES)


def test_the_older_endpoints_keep_to_their_schema_with_a_token(
    schema, admin_kato, coordinator_sato
):
    case = completed_case(call_minutes=25)
    _token, secret = tokens.api_token_create(
        name="fuzz",
        user=coordinator_sato,
        scopes=list(Scope.values),
        expires_at=None,
        actor=admin_kato,
    )
    for operation in operations(schema):
        if operation.path not in NEW_PATHS | OPINION_PATHS:
            # Their cross-field rules (offered_slot or slot, ...) are not in the document, so a
            # schema-valid body may be refused with 400; every answer must still match it.
            fuzz(operation, secret, case.pk, excluded=[positive_data_acceptance])
