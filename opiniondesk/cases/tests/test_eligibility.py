"""Who may apply (SPEC §3), against the demo catalog of SPEC §2. Pure: no database."""

from collections.abc import Set as AbstractSet
from dataclasses import replace
from datetime import date
from typing import Any

import pytest

from opiniondesk.cases.eligibility import (
    Application,
    Catalog,
    Consent,
    Declarations,
    DepartmentRules,
    Patient,
    Reason,
    Requester,
    Verdict,
    evaluate,
    refusal_reasons,
    required_documents,
)
from opiniondesk.cases.kinship import Relation
from opiniondesk.catalog.vocabulary import DocumentCode, Mode

REFERRAL_LETTER = DocumentCode.REFERRAL_LETTER
TEST_DATA = DocumentCode.TEST_DATA
CONSENT_FORM = DocumentCode.CONSENT_FORM
RELATIONSHIP_PROOF = DocumentCode.RELATIONSHIP_PROOF
PROXY_ID = DocumentCode.PROXY_ID
MEDICATION_LIST = DocumentCode.MEDICATION_LIST

ONLINE, IN_PERSON = Mode.ONLINE, Mode.IN_PERSON
BOTH_MODES = frozenset({ONLINE, IN_PERSON})

# The demo catalog of SPEC §2, as eligibility sees it.
DEMO_CATALOG: Catalog = {
    "cardiology": DepartmentRules(
        code="cardiology",
        modes=BOTH_MODES,
        diseases=frozenset(
            {"heart_failure", "arrhythmia", "valvular_disease", "ischemic_heart_disease"}
        ),
    ),
    "gastroenterology": DepartmentRules(
        code="gastroenterology",
        modes=BOTH_MODES,
        diseases=frozenset(
            {"gastric_cancer", "colorectal_cancer", "liver_cancer", "inflammatory_bowel_disease"}
        ),
    ),
    "geriatrics": DepartmentRules(
        code="geriatrics",
        modes=BOTH_MODES,
        diseases=frozenset({"dementia", "frailty", "polypharmacy"}),
        extra_documents=(MEDICATION_LIST,),
    ),
    "breast_surgery": DepartmentRules(
        code="breast_surgery",
        modes=BOTH_MODES,
        diseases=frozenset({"breast_cancer", "thyroid_cancer"}),
    ),
    "neurology": DepartmentRules(
        code="neurology",
        modes=frozenset({IN_PERSON}),
        diseases=frozenset({"parkinsons_disease", "als", "epilepsy", "multiple_sclerosis"}),
    ),
}

TODAY = date(2026, 4, 1)
ADULT_BIRTH = date(1958, 7, 14)
# Born 2008-04-02: 18 from 2026-04-01 (the day before the birthday), 17 the day before that.
EDGE_BIRTH = date(2008, 4, 2)
MINOR_BIRTH = date(2015, 9, 30)

BASE_DOCUMENTS = frozenset({REFERRAL_LETTER, TEST_DATA})
PROXY_DOCUMENTS = frozenset({CONSENT_FORM, RELATIONSHIP_PROOF, PROXY_ID})
ALL_DOCUMENTS = frozenset(DocumentCode)

# An adult patient applying herself, online, for a disease cardiology covers, with everything sent.
ELIGIBLE = Application(
    mode=ONLINE,
    department="cardiology",
    disease="heart_failure",
    patient=Patient(birth_date=ADULT_BIRTH),
    requester=Requester(relation=Relation.SELF),
    documents=BASE_DOCUMENTS,
)

# Relations that are not family within 3 degrees (SPEC §3 kinship table).
NOT_FAMILY = {
    Relation.COUSIN,
    Relation.GRAND_UNCLE_AUNT,
    Relation.GRANDNEPHEW_NIECE,
    Relation.GREAT_GREAT_GRANDPARENT,
    Relation.GREAT_GREAT_GRANDCHILD,
    Relation.OTHER,
}


def application(
    *,
    relation: Relation = Relation.SELF,
    consent: Consent = Consent.NONE,
    birth: date = ADULT_BIRTH,
    patient: dict[str, Any] | None = None,
    declarations: dict[str, Any] | None = None,
    **fields: Any,
) -> Application:
    """The eligible application, changed only where a test says so."""
    return replace(
        ELIGIBLE,
        requester=Requester(relation=relation, patient_consent=consent),
        patient=replace(ELIGIBLE.patient, birth_date=birth, **(patient or {})),
        declarations=replace(ELIGIBLE.declarations, **(declarations or {})),
        **fields,
    )


def judge(app: Application, today: date = TODAY) -> Verdict:
    return evaluate(app, catalog=DEMO_CATALOG, today=today)


def test_the_base_application_is_eligible() -> None:
    verdict = judge(ELIGIBLE)

    assert verdict == Verdict(
        reasons=(), missing_documents=(), required_documents=(REFERRAL_LETTER, TEST_DATA)
    )
    assert verdict.eligible
    assert not verdict.refused


def test_the_reason_codes_are_those_of_the_spec_in_its_order() -> None:
    assert [reason.value for reason in Reason] == [
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


def test_the_document_codes_are_those_of_the_spec_in_its_order() -> None:
    assert [code.value for code in DocumentCode] == [
        "REFERRAL_LETTER",
        "TEST_DATA",
        "CONSENT_FORM",
        "RELATIONSHIP_PROOF",
        "PROXY_ID",
        "MEDICATION_LIST",
    ]


# Each reason triggered alone from the eligible application (documents complete).
ONE_REASON = [
    (
        Reason.REQUESTER_NOT_FAMILY,
        application(relation=Relation.OTHER, documents=ALL_DOCUMENTS),
    ),
    (
        Reason.PROXY_CONSENT_MISSING,
        application(relation=Relation.CHILD, consent=Consent.NONE, documents=ALL_DOCUMENTS),
    ),
    (
        Reason.WANTS_TESTS_OR_TREATMENT,
        application(declarations={"wants_tests_or_treatment_here": True}),
    ),
    (Reason.WANTS_TRANSFER, application(declarations={"wants_transfer": True})),
    (Reason.COMPLAINT_OR_LITIGATION, application(declarations={"complaint_or_litigation": True})),
    (Reason.PATIENT_DECEASED, application(patient={"deceased": True})),
    (Reason.FEE_OR_BENEFIT_QUESTION, application(declarations={"fee_or_benefit_question": True})),
    (
        Reason.ATTENDING_PHYSICIAN_NOT_AGREED,
        application(declarations={"attending_physician_agrees": False}),
    ),
    (Reason.MATERIALS_UNAVAILABLE, application(declarations={"can_provide_materials": False})),
    (Reason.NO_SPECIALIST, application(department="dermatology", disease="psoriasis")),
    (
        Reason.OVERSEAS_NO_JP_INSURANCE,
        application(patient={"resides_in_japan": False, "has_japanese_insurance": False}),
    ),
    (Reason.OVERSEAS_ONLINE, application(joining_from_japan=False)),
    (Reason.PRIVACY_NOT_ACCEPTED, application(privacy_policy_accepted=False)),
]


def test_every_reason_has_its_own_row() -> None:
    assert [reason for reason, _ in ONE_REASON] == list(Reason)


@pytest.mark.parametrize(("reason", "app"), ONE_REASON, ids=[r.value for r, _ in ONE_REASON])
def test_one_failing_rule_gives_exactly_its_reason(reason: Reason, app: Application) -> None:
    verdict = judge(app)

    assert verdict.reasons == (reason,)
    assert verdict.missing_documents == ()
    assert verdict.refused
    assert not verdict.eligible
    assert refusal_reasons(app, catalog=DEMO_CATALOG, today=TODAY) == (reason,)


@pytest.mark.parametrize(
    ("app", "reasons"),
    [
        pytest.param(
            application(
                privacy_policy_accepted=False,
                declarations={"wants_transfer": True, "wants_tests_or_treatment_here": True},
            ),
            (Reason.WANTS_TESTS_OR_TREATMENT, Reason.WANTS_TRANSFER, Reason.PRIVACY_NOT_ACCEPTED),
            id="declarations-and-privacy",
        ),
        pytest.param(
            application(
                relation=Relation.COUSIN,
                joining_from_japan=False,
                patient={"resides_in_japan": False, "has_japanese_insurance": False},
            ),
            (
                Reason.REQUESTER_NOT_FAMILY,
                Reason.OVERSEAS_NO_JP_INSURANCE,
                Reason.OVERSEAS_ONLINE,
            ),
            id="cousin-abroad",
        ),
        pytest.param(
            application(
                relation=Relation.SPOUSE,
                department="neurology",
                disease="epilepsy",
                declarations={"attending_physician_agrees": False},
            ),
            (
                Reason.PROXY_CONSENT_MISSING,
                Reason.ATTENDING_PHYSICIAN_NOT_AGREED,
                Reason.NO_SPECIALIST,
            ),
            id="spouse-without-consent-neurology-online",
        ),
        pytest.param(
            application(
                relation=Relation.OTHER,
                department="oncology",
                joining_from_japan=False,
                privacy_policy_accepted=False,
                patient={
                    "deceased": True,
                    "resides_in_japan": False,
                    "has_japanese_insurance": False,
                },
                declarations={
                    "attending_physician_agrees": False,
                    "wants_tests_or_treatment_here": True,
                    "wants_transfer": True,
                    "complaint_or_litigation": True,
                    "fee_or_benefit_question": True,
                    "can_provide_materials": False,
                },
            ),
            tuple(reason for reason in Reason if reason is not Reason.PROXY_CONSENT_MISSING),
            id="everything-but-consent",
        ),
        pytest.param(
            application(
                relation=Relation.GRANDCHILD,
                consent=Consent.NONE,
                department="oncology",
                joining_from_japan=False,
                privacy_policy_accepted=False,
                patient={"resides_in_japan": False, "has_japanese_insurance": False},
                declarations={
                    "attending_physician_agrees": False,
                    "wants_tests_or_treatment_here": True,
                    "wants_transfer": True,
                    "complaint_or_litigation": True,
                    "fee_or_benefit_question": True,
                    "can_provide_materials": False,
                },
            ),
            tuple(
                reason
                for reason in Reason
                if reason not in (Reason.REQUESTER_NOT_FAMILY, Reason.PATIENT_DECEASED)
            ),
            id="everything-but-not-family-and-deceased",
        ),
    ],
)
def test_several_failing_rules_come_in_the_order_of_the_spec(
    app: Application, reasons: tuple[Reason, ...]
) -> None:
    assert judge(app).reasons == reasons


@pytest.mark.parametrize("relation", list(Relation), ids=[r.value for r in Relation])
def test_who_may_apply_for_an_adult_patient_without_consent(relation: Relation) -> None:
    app = application(relation=relation, consent=Consent.NONE, documents=ALL_DOCUMENTS)

    if relation is Relation.SELF:
        expected: tuple[Reason, ...] = ()
    elif relation in NOT_FAMILY:
        # Consent is beside the point when the requester may not apply at all.
        expected = (Reason.REQUESTER_NOT_FAMILY,)
    else:
        expected = (Reason.PROXY_CONSENT_MISSING,)
    assert judge(app).reasons == expected


@pytest.mark.parametrize(
    ("relation", "consent", "birth", "today", "consent_missing"),
    [
        (Relation.CHILD, Consent.SIGNED, ADULT_BIRTH, TODAY, False),
        (Relation.CHILD, Consent.UNABLE_TO_SIGN_NOTE, ADULT_BIRTH, TODAY, False),
        (Relation.CHILD, Consent.NONE, ADULT_BIRTH, TODAY, True),
        (Relation.SPOUSE, Consent.SIGNED, ADULT_BIRTH, TODAY, False),
        (Relation.SPOUSE, Consent.NONE, ADULT_BIRTH, TODAY, True),
        (Relation.PARENT_IN_LAW, Consent.UNABLE_TO_SIGN_NOTE, ADULT_BIRTH, TODAY, False),
        (Relation.PARENT_IN_LAW, Consent.NONE, ADULT_BIRTH, TODAY, True),
        # a patient under 18 needs no consent form
        (Relation.PARENT, Consent.NONE, MINOR_BIRTH, TODAY, False),
        (Relation.GRANDPARENT, Consent.NONE, MINOR_BIRTH, TODAY, False),
        # 18 counts from the day before the 18th birthday
        (Relation.PARENT, Consent.NONE, EDGE_BIRTH, date(2026, 3, 31), False),
        (Relation.PARENT, Consent.NONE, EDGE_BIRTH, date(2026, 4, 1), True),
        (Relation.PARENT, Consent.SIGNED, EDGE_BIRTH, date(2026, 4, 1), False),
        (Relation.PARENT, Consent.NONE, date(2008, 2, 29), date(2026, 2, 27), False),
        (Relation.PARENT, Consent.NONE, date(2008, 2, 29), date(2026, 2, 28), True),
        # the patient never needs their own consent
        (Relation.SELF, Consent.NONE, ADULT_BIRTH, TODAY, False),
    ],
)
def test_proxy_consent(
    relation: Relation, consent: Consent, birth: date, today: date, consent_missing: bool
) -> None:
    app = application(relation=relation, consent=consent, birth=birth, documents=ALL_DOCUMENTS)

    expected = (Reason.PROXY_CONSENT_MISSING,) if consent_missing else ()
    assert judge(app, today=today).reasons == expected


@pytest.mark.parametrize(
    ("relation", "consent"),
    [
        (Relation.SELF, Consent.NONE),
        (Relation.CHILD, Consent.NONE),
        (Relation.CHILD, Consent.SIGNED),
    ],
)
def test_a_deceased_patient_is_refused_for_that_alone(relation: Relation, consent: Consent) -> None:
    app = application(
        relation=relation, consent=consent, patient={"deceased": True}, documents=ALL_DOCUMENTS
    )

    verdict = judge(app)

    assert verdict.reasons == (Reason.PATIENT_DECEASED,)
    assert verdict.refused


# relation, consent, birth, today, department, the required documents in SPEC order
REQUIRED = [
    pytest.param(
        Relation.SELF, Consent.NONE, ADULT_BIRTH, TODAY, "cardiology",
        (REFERRAL_LETTER, TEST_DATA),
        id="self-adult",
    ),
    pytest.param(
        Relation.SELF, Consent.NONE, MINOR_BIRTH, TODAY, "cardiology",
        (REFERRAL_LETTER, TEST_DATA),
        id="self-minor",
    ),
    pytest.param(
        Relation.CHILD, Consent.SIGNED, ADULT_BIRTH, TODAY, "cardiology",
        (REFERRAL_LETTER, TEST_DATA, CONSENT_FORM, RELATIONSHIP_PROOF, PROXY_ID),
        id="proxy-adult-consent-signed",
    ),
    pytest.param(
        Relation.CHILD, Consent.UNABLE_TO_SIGN_NOTE, ADULT_BIRTH, TODAY, "cardiology",
        (REFERRAL_LETTER, TEST_DATA, CONSENT_FORM, RELATIONSHIP_PROOF, PROXY_ID),
        id="proxy-adult-unable-to-sign-note",
    ),
    pytest.param(
        Relation.CHILD, Consent.NONE, ADULT_BIRTH, TODAY, "cardiology",
        (REFERRAL_LETTER, TEST_DATA, CONSENT_FORM, RELATIONSHIP_PROOF, PROXY_ID),
        id="proxy-adult-no-consent",
    ),
    pytest.param(
        Relation.SPOUSE, Consent.SIGNED, ADULT_BIRTH, TODAY, "gastroenterology",
        (REFERRAL_LETTER, TEST_DATA, CONSENT_FORM, RELATIONSHIP_PROOF, PROXY_ID),
        id="spouse-adult",
    ),
    pytest.param(
        Relation.PARENT, Consent.NONE, MINOR_BIRTH, TODAY, "cardiology",
        (REFERRAL_LETTER, TEST_DATA, RELATIONSHIP_PROOF, PROXY_ID),
        id="proxy-minor",
    ),
    pytest.param(
        Relation.PARENT, Consent.NONE, EDGE_BIRTH, date(2026, 3, 31), "cardiology",
        (REFERRAL_LETTER, TEST_DATA, RELATIONSHIP_PROOF, PROXY_ID),
        id="proxy-two-days-before-18th",
    ),
    pytest.param(
        Relation.PARENT, Consent.NONE, EDGE_BIRTH, date(2026, 4, 1), "cardiology",
        (REFERRAL_LETTER, TEST_DATA, CONSENT_FORM, RELATIONSHIP_PROOF, PROXY_ID),
        id="proxy-day-before-18th",
    ),
    pytest.param(
        Relation.SELF, Consent.NONE, ADULT_BIRTH, TODAY, "geriatrics",
        (REFERRAL_LETTER, TEST_DATA, MEDICATION_LIST),
        id="geriatrics-self",
    ),
    pytest.param(
        Relation.CHILD, Consent.SIGNED, ADULT_BIRTH, TODAY, "geriatrics",
        (REFERRAL_LETTER, TEST_DATA, CONSENT_FORM, RELATIONSHIP_PROOF, PROXY_ID, MEDICATION_LIST),
        id="geriatrics-proxy-adult",
    ),
    pytest.param(
        Relation.PARENT, Consent.NONE, MINOR_BIRTH, TODAY, "geriatrics",
        (REFERRAL_LETTER, TEST_DATA, RELATIONSHIP_PROOF, PROXY_ID, MEDICATION_LIST),
        id="geriatrics-proxy-minor",
    ),
    pytest.param(
        Relation.SELF, Consent.NONE, ADULT_BIRTH, TODAY, "neurology",
        (REFERRAL_LETTER, TEST_DATA),
        id="neurology-self",
    ),
    pytest.param(
        Relation.SELF, Consent.NONE, ADULT_BIRTH, TODAY, "dermatology",
        (REFERRAL_LETTER, TEST_DATA),
        id="unknown-department-self",
    ),
    pytest.param(
        Relation.CHILD, Consent.SIGNED, ADULT_BIRTH, TODAY, "dermatology",
        (REFERRAL_LETTER, TEST_DATA, CONSENT_FORM, RELATIONSHIP_PROOF, PROXY_ID),
        id="unknown-department-proxy",
    ),
    pytest.param(
        Relation.OTHER, Consent.NONE, ADULT_BIRTH, TODAY, "cardiology",
        (REFERRAL_LETTER, TEST_DATA, CONSENT_FORM, RELATIONSHIP_PROOF, PROXY_ID),
        id="not-family-still-a-proxy",
    ),
]  # fmt: skip


@pytest.mark.parametrize(
    ("relation", "consent", "birth", "today", "department", "required"), REQUIRED
)
def test_required_documents(
    relation: Relation,
    consent: Consent,
    birth: date,
    today: date,
    department: str,
    required: tuple[DocumentCode, ...],
) -> None:
    app = application(
        relation=relation,
        consent=consent,
        birth=birth,
        department=department,
        documents=frozenset(),
    )

    verdict = judge(app, today=today)

    assert required_documents(app, catalog=DEMO_CATALOG, today=today) == required
    assert verdict.required_documents == required
    # nothing was sent, so everything required is missing
    assert verdict.missing_documents == required
    assert not verdict.eligible


# relation, department, the documents sent, the documents still missing
MISSING = [
    pytest.param(Relation.SELF, "cardiology", BASE_DOCUMENTS, (), id="self-complete"),
    pytest.param(
        Relation.SELF, "cardiology", {REFERRAL_LETTER}, (TEST_DATA,), id="self-no-test-data"
    ),
    pytest.param(
        Relation.SELF, "cardiology", {TEST_DATA}, (REFERRAL_LETTER,), id="self-no-referral"
    ),
    pytest.param(
        Relation.SELF, "cardiology", ALL_DOCUMENTS, (), id="extra-documents-are-ignored"
    ),
    pytest.param(
        Relation.SELF, "geriatrics", BASE_DOCUMENTS, (MEDICATION_LIST,),
        id="geriatrics-no-medication-list",
    ),
    pytest.param(
        Relation.SELF, "geriatrics", BASE_DOCUMENTS | {MEDICATION_LIST}, (),
        id="geriatrics-complete",
    ),
    pytest.param(
        Relation.CHILD, "cardiology", BASE_DOCUMENTS,
        (CONSENT_FORM, RELATIONSHIP_PROOF, PROXY_ID),
        id="proxy-base-only",
    ),
    pytest.param(
        Relation.CHILD, "cardiology", BASE_DOCUMENTS | {CONSENT_FORM, PROXY_ID},
        (RELATIONSHIP_PROOF,),
        id="proxy-no-relationship-proof",
    ),
    pytest.param(
        Relation.CHILD, "geriatrics", {PROXY_ID, MEDICATION_LIST},
        (REFERRAL_LETTER, TEST_DATA, CONSENT_FORM, RELATIONSHIP_PROOF),
        id="proxy-geriatrics-partial",
    ),
    pytest.param(
        Relation.CHILD, "geriatrics", ALL_DOCUMENTS, (), id="proxy-geriatrics-complete"
    ),
]  # fmt: skip


@pytest.mark.parametrize(("relation", "department", "sent", "missing"), MISSING)
def test_missing_documents(
    relation: Relation,
    department: str,
    sent: AbstractSet[DocumentCode],
    missing: tuple[DocumentCode, ...],
) -> None:
    disease = {"cardiology": "arrhythmia", "geriatrics": "frailty"}[department]
    app = application(
        relation=relation,
        consent=Consent.SIGNED,
        department=department,
        disease=disease,
        documents=frozenset(sent),
    )

    verdict = judge(app)

    assert verdict.reasons == ()
    assert verdict.missing_documents == missing
    assert verdict.eligible is (missing == ())
    assert not verdict.refused


# Every department, disease and mode the demo catalog offers.
OFFERED = [
    (department, disease, mode)
    for department, rules in DEMO_CATALOG.items()
    for disease in sorted(rules.diseases)
    for mode in (ONLINE, IN_PERSON)
    if mode in rules.modes
]


def test_the_demo_catalog_offers_what_the_spec_lists() -> None:
    assert len(OFFERED) == 4 * 2 + 4 * 2 + 3 * 2 + 2 * 2 + 4 * 1


@pytest.mark.parametrize(("department", "disease", "mode"), OFFERED)
def test_a_specialist_covers_every_offered_disease_and_mode(
    department: str, disease: str, mode: Mode
) -> None:
    app = application(department=department, disease=disease, mode=mode)

    assert judge(app).reasons == ()


@pytest.mark.parametrize(
    ("department", "disease", "mode"),
    [
        pytest.param("dermatology", "psoriasis", ONLINE, id="unknown-department"),
        pytest.param("", "heart_failure", ONLINE, id="no-department"),
        pytest.param("Cardiology", "heart_failure", ONLINE, id="codes-are-exact"),
        pytest.param("cardiology", "common_cold", ONLINE, id="unknown-disease"),
        pytest.param("cardiology", "", IN_PERSON, id="no-disease"),
        pytest.param("cardiology", "breast_cancer", ONLINE, id="disease-of-breast-surgery"),
        pytest.param("geriatrics", "epilepsy", IN_PERSON, id="disease-of-neurology"),
        pytest.param("neurology", "dementia", IN_PERSON, id="disease-of-geriatrics"),
        pytest.param("neurology", "parkinsons_disease", ONLINE, id="neurology-not-online"),
        pytest.param("neurology", "als", ONLINE, id="neurology-als-not-online"),
    ],
)
def test_no_specialist(department: str, disease: str, mode: Mode) -> None:
    app = application(department=department, disease=disease, mode=mode)

    assert judge(app).reasons == (Reason.NO_SPECIALIST,)


def test_no_specialist_in_an_empty_catalog() -> None:
    verdict = evaluate(ELIGIBLE, catalog={}, today=TODAY)

    assert verdict.reasons == (Reason.NO_SPECIALIST,)
    assert verdict.required_documents == (REFERRAL_LETTER, TEST_DATA)


@pytest.mark.parametrize(
    ("mode", "joining_from_japan", "refused"),
    [
        (ONLINE, True, False),
        (ONLINE, False, True),
        (IN_PERSON, True, False),
        (IN_PERSON, False, False),  # the flag only matters for a video call
    ],
)
def test_overseas_online(mode: Mode, joining_from_japan: bool, refused: bool) -> None:
    app = application(mode=mode, joining_from_japan=joining_from_japan)

    assert judge(app).reasons == ((Reason.OVERSEAS_ONLINE,) if refused else ())


@pytest.mark.parametrize(
    ("resides_in_japan", "has_japanese_insurance", "refused"),
    [
        (True, True, False),
        (True, False, False),
        (False, True, False),
        (False, False, True),
    ],
)
@pytest.mark.parametrize("mode", [ONLINE, IN_PERSON])
def test_overseas_without_japanese_insurance(
    mode: Mode, resides_in_japan: bool, has_japanese_insurance: bool, refused: bool
) -> None:
    app = application(
        mode=mode,
        patient={
            "resides_in_japan": resides_in_japan,
            "has_japanese_insurance": has_japanese_insurance,
        },
    )

    assert judge(app).reasons == ((Reason.OVERSEAS_NO_JP_INSURANCE,) if refused else ())


def test_default_declarations_are_the_eligible_ones() -> None:
    assert Declarations() == ELIGIBLE.declarations
    assert judge(replace(ELIGIBLE, declarations=Declarations())).eligible


@pytest.mark.parametrize("relation", [Relation.SELF, Relation.CHILD])
def test_a_birth_date_after_the_application_date_is_an_error(relation: Relation) -> None:
    app = application(relation=relation, birth=date(2026, 4, 2))

    with pytest.raises(ValueError):
        judge(app, today=date(2026, 4, 1))
