"""Example bodies of the public API, shared by its OpenAPI document, its tests and bench/."""

from typing import Any

# SPEC §10's example: a child asks for a second opinion on a parent's heart failure.
SPEC_ELIGIBILITY_EXAMPLE: dict[str, Any] = {
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
