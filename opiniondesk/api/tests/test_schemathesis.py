"""Schemathesis against the whole API, in-process through the WSGI app of config/wsgi.py, with
every check of SPEC §10's contract: no server error, and every status, content type, header and
body as the OpenAPI document says; schema-valid input accepted and schema-violating input
refused; an operation that needs credentials refuses the request without them.

- the public endpoints, anonymously (test_fuzz.py fuzzes their rules far harder);
- every authenticated operation anonymously: a JSON 401 with its challenge;
- each staff role's API token on every operation of the consult, the fee, the opinion and the
  disclosures (and the older case and scheduling operations), with schema-valid bodies, and
  schema-violating ones where an operation takes a body or a query.

The case id is the id of a real completed case (for the opinion and the disclosures, a case with
a signed, posted opinion and a disclosure request), so the views do their work rather than
answer 404. Derandomized and a few examples per operation: the suite stays quick."""

import pytest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode, openapi
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    negative_data_rejection,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from opiniondesk.accounts import services as tokens
from opiniondesk.accounts.vocabulary import Scope
from opiniondesk.billing import services as billing
from opiniondesk.billing.models import Charge
from opiniondesk.interop import services as interop
from opiniondesk.opinions import services as opinions
from opiniondesk.testing.builders import completed_case, opinion_signed

BASE_URL = "https://localhost"  # production settings redirect plain HTTP
EXAMPLES = 8
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
PUBLIC_PATHS = {
    "/api/v1/eligibility/check",
    "/api/v1/fees/quote",
    "/api/v1/departments",
    "/api/v1/calendar/closed-days",
}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
    positive_data_acceptance,
    ignored_auth,
]
# Rules no JSON Schema can state, so that a schema-valid request may still be refused with a
# 400 naming the field: the clock, the hospital's own data (catalog, fee tables), or a choice
# between two fields. The other checks still run on these operations.
REFUSES_VALID_INPUT = {
    ("POST", "/api/v1/eligibility/check"): "a birth date after as_of (today by default)",
    ("GET", "/api/v1/cases"): "a cursor this list did not give, or both page and cursor",
    ("POST", "/api/v1/fees/quote"): "no fee table in force on that day",
    ("GET", "/api/v1/schedule/slots"): "a department the catalog does not have",
    ("POST", "/api/v1/cases/{case_id}/transitions"): "referral to an unknown department",
    ("POST", "/api/v1/cases/{case_id}/phone-logs"): "a call in the future",
    ("POST", "/api/v1/cases/{case_id}/booking/change"): "either offered_slot or slot",
    ("POST", "/api/v1/cases/{case_id}/offers"): "a hold ending when the phone desk is closed",
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


def operations(schema, paths=None, *, public=False):
    for result in schema.get_all_operations():
        operation = result.ok()
        if ("x-token-scope" not in operation.definition.raw) is not public:
            continue
        if paths is None or operation.path in paths:
            yield operation


def fuzz(operation, secret=None, case_id=None, examples=EXAMPLES, mode=GenerationMode.POSITIVE):
    excluded = []
    if (operation.method.upper(), operation.path) in REFUSES_VALID_INPUT:
        excluded.append(positive_data_acceptance)
    fixed = {"case_id": case_id} if "{case_id}" in operation.path else None

    @settings(
        max_examples=examples,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(mode, path_parameters=fixed))
    def run(case):
        # Given as explicit credentials, so that Schemathesis also checks that the operation
        # refuses the request without them and with a made-up token.
        auth = {"Authorization": f"Bearer {secret}"} if secret else {}
        response = case.call(base_url=BASE_URL, headers=auth)
        assert response.status_code < 500, (operation.label, response.status_code)
        if secret is None and "x-token-scope" in operation.definition.raw:
            assert response.status_code == 401, (operation.label, response.status_code)
        case.validate_response(response, headers=auth, checks=CHECKS, excluded_checks=excluded)

    run()


def takes_input(operation):
    """Whether a request can break the schema other than in its path (a body or a query)."""
    raw = operation.definition.raw
    return "requestBody" in raw or any(p["in"] == "query" for p in raw.get("parameters", []))


def test_the_public_endpoints_keep_to_their_schema(schema):
    checked = list(operations(schema, public=True))
    assert {op.path for op in checked} == PUBLIC_PATHS
    for operation in checked:
        fuzz(operation)
        if takes_input(operation):
            fuzz(operation, mode=GenerationMode.NEGATIVE)


def test_every_other_operation_asks_anonymous_callers_for_credentials(schema):
    case = completed_case(call_minutes=25)
    checked = list(operations(schema))
    assert len(checked) >= 20
    for operation in checked:
        fuzz(operation, case_id=case.pk, examples=2)


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
        if takes_input(operation):
            fuzz(operation, secret, case.pk, examples=2, mode=GenerationMode.NEGATIVE)


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
            fuzz(operation, secret, case.pk)
            if takes_input(operation):
                fuzz(operation, secret, case.pk, examples=2, mode=GenerationMode.NEGATIVE)
