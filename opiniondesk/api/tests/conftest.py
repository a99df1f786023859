"""Fixtures of the public API tests: the SPEC §10 example body and an HTTPS JSON client."""

import copy
import json
from typing import Any

import pytest

ELIGIBILITY_URL = "/api/v1/eligibility/check"
FEE_QUOTE_URL = "/api/v1/fees/quote"
DEPARTMENTS_URL = "/api/v1/departments"
CLOSED_DAYS_URL = "/api/v1/calendar/closed-days"

# The example body of SPEC §10, verbatim.
SPEC_EXAMPLE: dict[str, Any] = {
    "as_of": "2026-11-25",
    "mode": "online",
    "department": "cardiology",
    "disease": "heart_failure",
    "patient": {
        "birth_date": "1950-04-01",
        "deceased": False,
        "resides_in_japan": True,
        "has_japanese_insurance": True,
    },
    "requester": {"relation": "child", "patient_consent": "signed"},
    "joining_from_japan": True,
    "declarations": {
        "attending_physician_agrees": True,
        "wants_tests_or_treatment_here": False,
        "wants_transfer": False,
        "complaint_or_litigation": False,
        "fee_or_benefit_question": False,
        "can_provide_materials": True,
    },
    "privacy_policy_accepted": True,
    "documents": ["REFERRAL_LETTER", "TEST_DATA", "CONSENT_FORM", "RELATIONSHIP_PROOF", "PROXY_ID"],
}

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

    def get(self, url: str, params: dict[str, Any] | None = None) -> Any:
        return self.client.get(url, params or {}, secure=True)

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
