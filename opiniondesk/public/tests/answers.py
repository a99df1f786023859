"""Answer sets for the self-check page, as a browser would post them."""

ALL_DOCUMENTS = ["REFERRAL_LETTER", "TEST_DATA", "CONSENT_FORM", "RELATIONSHIP_PROOF", "PROXY_ID"]


def answers(**overrides):
    """Ken (proxy_ken) applies online for his mother Hana (born 1950-04-01) to cardiology,
    with her signed consent and every document: an application that can be accepted."""
    data = {
        "relation": "child",
        "patient_consent": "signed",
        "birth_date_0": "1950",
        "birth_date_1": "4",
        "birth_date_2": "1",
        "alive": "yes",
        "resides_in_japan": "yes",
        "has_japanese_insurance": "yes",
        "mode": "online",
        "joining_from_japan": "yes",
        "department": "cardiology",
        "disease": "cardiology:heart_failure",
        "attending_physician_agrees": "yes",
        "can_provide_materials": "yes",
        "wants_tests_or_treatment_here": "no",
        "wants_transfer": "no",
        "complaint_or_litigation": "no",
        "fee_or_benefit_question": "no",
        "privacy_policy_accepted": "on",
        "documents": list(ALL_DOCUMENTS),
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}
