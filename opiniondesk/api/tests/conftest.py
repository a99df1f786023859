"""Fixtures of the API tests: the SPEC §10 example body, an HTTPS JSON client, and for the case
endpoints the personas of the cases tests and cases made through the real services."""

import copy
import json
from typing import Any

import pytest

from opiniondesk.api.examples import SPEC_ELIGIBILITY_EXAMPLE
from opiniondesk.cases.tests.conftest import wizard_for  # noqa: F401 (the wizard helper)

ELIGIBILITY_URL = "/api/v1/eligibility/check"
FEE_QUOTE_URL = "/api/v1/fees/quote"
DEPARTMENTS_URL = "/api/v1/departments"
CLOSED_DAYS_URL = "/api/v1/calendar/closed-days"

# The example body of SPEC §10, verbatim.
SPEC_EXAMPLE = SPEC_ELIGIBILITY_EXAMPLE

# The vocabularies of SPEC §3, in the order of its tables (written out, not imported, so a
# reordered enum in the code fails these tests).
REASONS_IN_SPEC_ORDER = [
    "REQUESTER_NOT_FAMILY",
    "PROXY_CONSENT_MISSING",
    "WANTS_TESTS_OR_TREATMENT",
    "WANTS_TRANSFER",
    "COMPLAINT_OR_LITIGATION",
    "PATIENT_DECEASED",
    "FEE_OR_BENEFIT_QUESTION",
    "ATTENDING_PHYSICIAN_NOT_AGREED",
    "MATERIALS_UNAVAILABLE",
    "NO_SPECIALIST",
    "OVERSEAS_NO_JP_INSURANCE",
    "OVERSEAS_ONLINE",
    "PRIVACY_NOT_ACCEPTED",
]
DOCUMENTS_IN_SPEC_ORDER = [
    "REFERRAL_LETTER",
    "TEST_DATA",
    "CONSENT_FORM",
    "RELATIONSHIP_PROOF",
    "PROXY_ID",
    "MEDICATION_LIST",
]
NESTED = ("patient", "requester", "declarations")


def example(**changes: Any) -> dict[str, Any]:
    """The SPEC example with top-level keys replaced; a dict value for a nested object is
    merged into it (patient={"deceased": True} changes only that key)."""
    body = copy.deepcopy(SPEC_EXAMPLE)
    for key, value in changes.items():
        if key in NESTED and isinstance(value, dict):
            body[key].update(value)
        else:
            body[key] = value
    return body


class Api:
    """The test client over HTTPS (production settings redirect plain HTTP) speaking JSON."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def post(self, url: str, body: Any, content_type: str = "application/json") -> Any:
        """POST `body` JSON-encoded; a str is sent as it is, bytes byte for byte (whatever
        charset the content type names: Client.post() would re-encode them)."""
        if isinstance(body, bytes):
            return self.client.generic("POST", url, body, content_type=content_type, secure=True)
        data = body if isinstance(body, str) else json.dumps(body)
        return self.client.post(url, data, content_type=content_type, secure=True)

    def get(self, url: str, params: dict[str, Any] | None = None, **extra: Any) -> Any:
        return self.client.get(url, params or {}, secure=True, **extra)

    def check(self, body: Any) -> Any:
        return self.post(ELIGIBILITY_URL, body)

    def quote(self, body: Any) -> Any:
        return self.post(FEE_QUOTE_URL, body)


@pytest.fixture
def api(client: Any) -> Api:
    return Api(client)


def assert_verdict_shape(payload: Any) -> None:
    """A 200 answer of the eligibility check: exactly SPEC §10's keys and vocabularies."""
    assert set(payload) == {"eligible", "reasons", "missing_documents"}
    reasons, missing = payload["reasons"], payload["missing_documents"]
    assert reasons == [r for r in REASONS_IN_SPEC_ORDER if r in reasons]
    assert missing == [d for d in DOCUMENTS_IN_SPEC_ORDER if d in missing]
    assert payload["eligible"] is (not reasons and not missing)


# The authenticated case endpoints (test_cases_api.py) --------------------------------------

CASES_URL = "/api/v1/cases"


@pytest.fixture
def api_as(db):
    """An API client signed in as `user` (None: nobody), each with its own session, asking for
    English so that messages can be compared (Japanese is the default)."""
    from django.test import Client

    def sign_in(user: Any, **client_options: Any) -> Api:
        client = Client(headers={"Accept-Language": "en"}, **client_options)
        if user is not None:
            client.force_login(user)
        return Api(client)

    return sign_in


@pytest.fixture
def make_case(seeded):
    """A case as the services leave it (written directly, opiniondesk.testing.builders):
    `submitted` with the referral letter and test data, or `awaiting_documents` without them
    (moved there by the system on submission, as case_submit does); `draft` is not sent."""
    from opiniondesk.cases.workflow import Status
    from opiniondesk.testing import builders

    def make(
        applicant: Any,
        *,
        department: str = "cardiology",
        disease: str = "heart_failure",
        mode: str = "online",
        documents: bool = True,
        send: bool = True,
    ) -> Any:
        status = Status.SUBMITTED if documents else Status.AWAITING_DOCUMENTS
        return builders.case_in(
            status if send else Status.DRAFT,
            applicant=applicant,
            department=department,
            disease=disease,
            mode=mode,
            documents=documents,
        )

    return make
