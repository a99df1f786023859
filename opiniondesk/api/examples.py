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

# The consult record and the fee as the authenticated API shows them (issue #13).
CONSULT_EXAMPLE: dict[str, Any] = {
    "id": 41,
    "state": "ended",
    "mode": "online",
    "planned_minutes": 30,
    "specialist": "dr_tanaka",
    "present_patient_side": ["山田 花", "山田 健"],
    "present_hospital_side": ["田中 一郎"],
    "patient_confirmed_at": "2026-12-03T14:01:10+09:00",
    "hospital_confirmed_at": "2026-12-03T14:00:40+09:00",
    "started_at": "2026-12-03T14:01:30+09:00",
    "ended_at": "2026-12-03T14:26:45+09:00",
    "limit_at": "2026-12-03T14:46:30+09:00",
    "end_reason": "specialist",
    "review_seconds": 900,
    "call_seconds": 1515,
    "billable_minutes": 40,
    "notes": None,
    "notes_saved_at": None,
    "messages": None,
}
CHARGE_EXAMPLE: dict[str, Any] = {
    "id": 17,
    "case": 1024,
    "state": "collected",
    "provider": "desk",
    "amount": 33000,
    "tax": 3000,
    "tax_rate_percent": 10,
    "tier": 2,
    "fee_schedule": "2026-04-01",
    "review_seconds": 900,
    "call_seconds": 1515,
    "billable_minutes": 40,
    "over_limit": False,
    "created_at": "2026-12-03T14:26:45+09:00",
    "settled_at": "2026-12-03T15:02:11+09:00",
    "settled_by": "billing_ito",
    "collect_method": "terminal",
    "decision_reason": "",
    "failure_message": "",
    "refunded": 0,
    "refundable": 33000,
    "card": None,
    "attempts": [],
    "refunds": [],
    "receipts": [
        {
            "number": 305,
            "kind": "original",
            "issued_on": "2026-12-03",
            "amount": 33000,
            "tax": 3000,
            "tax_rate_percent": 10,
            "method": "クレジットカード（院内端末）",
            "corrects": None,
            "superseded": False,
            "first_downloaded_at": None,
        }
    ],
}
COLLECT_EXAMPLE: dict[str, Any] = {"method": "terminal"}
WAIVE_EXAMPLE: dict[str, Any] = {"reason": "The call was cut short by the hospital's network."}
REFUND_EXAMPLE: dict[str, Any] = {"amount": 11000, "reason": "Charged at the wrong tier."}
