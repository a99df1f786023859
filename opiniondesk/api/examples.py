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

# The written opinion and the disclosures of a case (issue #13).
OPINION_EXAMPLE: dict[str, Any] = {
    "case": 1024,
    "versions": [
        {
            "number": 1,
            "state": "signed",
            "written_by": "dr_tanaka",
            "saved_at": "2026-12-04T10:12:03+09:00",
            "signed_by": "dr_tanaka",
            "signed_at": "2026-12-04T10:15:40+09:00",
            "content_hash": "9f2c4e1b7a0d3c5e8f6a1b2c3d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f5a6",
            "corrects": None,
            "correction_reason": "",
            "content": {
                "on_current": "現在の診断と治療方針は妥当と考えます。",
                "on_future": "内服治療を継続し、3か月後に心エコーで再評価してください。",
                "answers": [
                    {"question": "手術は必要でしょうか。", "answer": "現時点では必要ありません。"}
                ],
                "remarks": "",
            },
        },
        {
            "number": 2,
            "state": "draft",
            "written_by": "dr_tanaka",
            "saved_at": "2026-12-05T09:01:00+09:00",
            "signed_by": None,
            "signed_at": None,
            "content_hash": None,
            "corrects": 1,
            "correction_reason": "検査値の誤記",
            "content": None,
        },
    ],
    "deliveries": [
        {
            "id": 7,
            "version": 1,
            "method": "post",
            "recipient_name": "鈴木 一郎",
            "recipient_institution": "見本町内科クリニック",
            "recipient_department": "内科",
            "recipient_email": "",
            "recipient_address": "000-0000 東京都架空区見本町9-99-99",
            "created_by": "coordinator_sato",
            "created_at": "2026-12-04T11:00:00+09:00",
            "expires_at": None,
            "opened_at": None,
            "revoked_at": None,
            "posted_on": "2026-12-04",
            "delivered_at": "2026-12-04T11:00:00+09:00",
        }
    ],
}
DISCLOSURES_EXAMPLE: dict[str, Any] = {
    "requests": [
        {
            "id": 3,
            "wanted": "whole_record",
            "details": "",
            "delivery": "electronic",
            "requested_by": "patient_hana",
            "requested_at": "2026-12-10T20:14:00+09:00",
            "due_on": "2026-12-24",
            "standing": "fulfilled",
            "overdue": False,
            "days_taken": 2,
            "fulfilled_at": "2026-12-12T15:30:00+09:00",
            "fulfilled_by": "coordinator_sato",
            "delivered_via": "electronic",
            "fulfilment_note": "",
        }
    ],
    "third_party": [
        {
            "id": 7,
            "recipient_name": "鈴木 一郎",
            "recipient_institution": "見本町内科クリニック",
            "recipient_department": "内科",
            "what": "セカンドオピニオン回答書 第1版 (9f2c4e1b7a0d)",
            "version": 1,
            "disclosed_at": "2026-12-04T11:00:00+09:00",
            "disclosed_by": "coordinator_sato",
            "method": "post",
            "basis": "application_consent",
            "basis_detail": "privacy policy 2026-04, accepted 2026-11-20 09:41",
        }
    ],
}
