"""POST /api/v1/eligibility/check (SPEC §3, §10): verdicts and malformed input."""

import copy
import json
from datetime import UTC, datetime

import pytest
import time_machine

from opiniondesk.api.tests.conftest import (
    DOCUMENTS_IN_SPEC_ORDER,
    ELIGIBILITY_URL,
    REASONS_IN_SPEC_ORDER,
    SPEC_EXAMPLE,
    assert_verdict_shape,
    example,
)
from opiniondesk.catalog.models import Department

pytestmark = pytest.mark.usefixtures("demo_catalog")

ALL_DOCUMENTS = DOCUMENTS_IN_SPEC_ORDER


def verdict(api, body):
    response = api.check(body)
    assert response.status_code == 200, (body, response.content)
    payload = response.json()
    assert_verdict_shape(payload)
    return payload


def errors(api, body, content_type="application/json"):
    response = api.post(ELIGIBILITY_URL, body, content_type)
    assert response.status_code == 400, (body, response.content)
    assert response["Content-Type"].startswith("application/json")
    payload = response.json()
    assert isinstance(payload, dict) and payload
    return payload


# --- Verdicts -------------------------------------------------------------------------------


def test_it_finds_the_spec_example_eligible(api):
    assert verdict(api, SPEC_EXAMPLE) == {
        "eligible": True,
        "reasons": [],
        "missing_documents": [],
    }


# One change to the SPEC example that fails exactly one rule of SPEC §3.
ONE_REASON = {
    "REQUESTER_NOT_FAMILY": {"requester": {"relation": "cousin"}},  # 4th degree
    "PROXY_CONSENT_MISSING": {"requester": {"patient_consent": "none"}},
    "WANTS_TESTS_OR_TREATMENT": {"declarations": {"wants_tests_or_treatment_here": True}},
    "WANTS_TRANSFER": {"declarations": {"wants_transfer": True}},
    "COMPLAINT_OR_LITIGATION": {"declarations": {"complaint_or_litigation": True}},
    "PATIENT_DECEASED": {"patient": {"deceased": True}},
    "FEE_OR_BENEFIT_QUESTION": {"declarations": {"fee_or_benefit_question": True}},
    "ATTENDING_PHYSICIAN_NOT_AGREED": {"declarations": {"attending_physician_agrees": False}},
    "MATERIALS_UNAVAILABLE": {"declarations": {"can_provide_materials": False}},
    "NO_SPECIALIST": {"disease": "gastric_cancer"},  # not a cardiology disease
    "OVERSEAS_NO_JP_INSURANCE": {
        "patient": {"resides_in_japan": False, "has_japanese_insurance": False}
    },
    "OVERSEAS_ONLINE": {"joining_from_japan": False},
    "PRIVACY_NOT_ACCEPTED": {"privacy_policy_accepted": False},
}


def test_it_covers_every_reason_code_of_the_spec():
    assert list(ONE_REASON) == REASONS_IN_SPEC_ORDER


@pytest.mark.parametrize("reason", REASONS_IN_SPEC_ORDER)
def test_it_answers_each_reason_code(api, reason):
    assert verdict(api, example(**ONE_REASON[reason])) == {
        "eligible": False,
        "reasons": [reason],
        "missing_documents": [],
    }


def test_it_keeps_a_patient_abroad_with_japanese_insurance_eligible(api):
    body = example(patient={"resides_in_japan": False, "has_japanese_insurance": True})
    assert verdict(api, body)["eligible"] is True


def test_it_accepts_a_note_that_the_patient_cannot_sign_as_consent(api):
    body = example(requester={"patient_consent": "unable_to_sign_note"})
    assert verdict(api, body)["eligible"] is True


def test_it_lists_several_reasons_at_once_in_spec_order(api):
    # Everything goes wrong but the consent rule, which only concerns family.
    body = example(
        mode="online",
        department="dermatology",
        patient={"deceased": True, "resides_in_japan": False, "has_japanese_insurance": False},
        requester={"relation": "other", "patient_consent": "none"},
        joining_from_japan=False,
        declarations={
            "attending_physician_agrees": False,
            "wants_tests_or_treatment_here": True,
            "wants_transfer": True,
            "complaint_or_litigation": True,
            "fee_or_benefit_question": True,
            "can_provide_materials": False,
        },
        privacy_policy_accepted=False,
    )
    expected = [r for r in REASONS_IN_SPEC_ORDER if r != "PROXY_CONSENT_MISSING"]
    assert verdict(api, body)["reasons"] == expected


def test_it_lists_the_consent_reason_in_its_place_among_others(api):
    body = example(
        requester={"relation": "sibling", "patient_consent": "none"},
        declarations={"wants_transfer": True, "attending_physician_agrees": False},
        privacy_policy_accepted=False,
    )
    assert verdict(api, body)["reasons"] == [
        "PROXY_CONSENT_MISSING",
        "WANTS_TRANSFER",
        "ATTENDING_PHYSICIAN_NOT_AGREED",
        "PRIVACY_NOT_ACCEPTED",
    ]


# --- Missing documents ----------------------------------------------------------------------


def test_it_lists_every_document_a_proxy_for_an_adult_still_owes(api):
    assert verdict(api, example(documents=[])) == {
        "eligible": False,
        "reasons": [],
        "missing_documents": [
            "REFERRAL_LETTER",
            "TEST_DATA",
            "CONSENT_FORM",
            "RELATIONSHIP_PROOF",
            "PROXY_ID",
        ],
    }


def test_it_asks_the_patient_applying_alone_for_the_two_medical_documents(api):
    body = example(requester={"relation": "self", "patient_consent": "none"}, documents=[])
    assert verdict(api, body)["missing_documents"] == ["REFERRAL_LETTER", "TEST_DATA"]


def test_it_asks_no_consent_form_for_a_minor_patient(api):
    body = example(
        patient={"birth_date": "2015-06-01"},
        requester={"relation": "parent", "patient_consent": "none"},
        documents=["REFERRAL_LETTER", "TEST_DATA"],
    )
    assert verdict(api, body) == {
        "eligible": False,
        "reasons": [],
        "missing_documents": ["RELATIONSHIP_PROOF", "PROXY_ID"],
    }


def test_it_asks_geriatrics_applicants_for_the_medication_list(api):
    body = example(department="geriatrics", disease="dementia")
    assert verdict(api, body)["missing_documents"] == ["MEDICATION_LIST"]
    body["documents"].append("MEDICATION_LIST")
    assert verdict(api, body)["eligible"] is True


def test_it_ignores_duplicate_and_surplus_documents(api):
    body = example(documents=[*ALL_DOCUMENTS, "TEST_DATA"])
    assert verdict(api, body)["eligible"] is True


def test_it_combines_reasons_and_missing_documents(api):
    body = example(joining_from_japan=False, documents=["REFERRAL_LETTER"])
    assert verdict(api, body) == {
        "eligible": False,
        "reasons": ["OVERSEAS_ONLINE"],
        "missing_documents": ["TEST_DATA", "CONSENT_FORM", "RELATIONSHIP_PROOF", "PROXY_ID"],
    }


# --- Catalog: unknown codes are not errors --------------------------------------------------


@pytest.mark.parametrize(
    ("department", "disease"),
    [
        ("dermatology", "heart_failure"),  # no such department
        ("cardiology", "influenza"),  # no such disease
        ("cardiology", "parkinsons_disease"),  # another department's disease
        ("循環器内科", "心不全"),  # names are not codes
        ("CARDIOLOGY", "heart_failure"),  # codes are case-sensitive
    ],
)
def test_it_answers_no_specialist_for_codes_outside_the_catalog(api, department, disease):
    body = example(department=department, disease=disease)
    assert verdict(api, body)["reasons"] == ["NO_SPECIALIST"]


def test_it_answers_no_specialist_for_neurology_online(api):
    body = example(mode="online", department="neurology", disease="parkinsons_disease")
    assert verdict(api, body)["reasons"] == ["NO_SPECIALIST"]
    body["mode"] = "in_person"
    body["joining_from_japan"] = False  # irrelevant in person
    assert verdict(api, body)["eligible"] is True


def test_it_answers_no_specialist_for_an_inactive_department(api):
    Department.objects.filter(code="cardiology").update(is_active=False)
    assert verdict(api, SPEC_EXAMPLE)["reasons"] == ["NO_SPECIALIST"]


# --- The date: as_of defaults to today in JST -----------------------------------------------

# 2026-11-25 15:30 UTC is already 2026-11-26 00:30 in Tokyo.
LATE_EVENING_UTC = datetime(2026, 11, 25, 15, 30, tzinfo=UTC)
# Born 2008-11-27: 18 from 2026-11-26 on (Japanese law counts the day before the birthday).
TURNS_18_ON_JST_TODAY = "2008-11-27"


def _proxy_without_consent_form(**changes):
    return example(
        patient={"birth_date": TURNS_18_ON_JST_TODAY},
        requester={"relation": "child", "patient_consent": "none"},
        documents=["REFERRAL_LETTER", "TEST_DATA", "RELATIONSHIP_PROOF", "PROXY_ID"],
        **changes,
    )


def test_it_counts_age_on_an_explicit_as_of(api):
    # On 2026-11-25 the patient is 17: no consent form, no consent needed.
    assert verdict(api, _proxy_without_consent_form(as_of="2026-11-25"))["eligible"] is True
    assert verdict(api, _proxy_without_consent_form(as_of="2026-11-26")) == {
        "eligible": False,
        "reasons": ["PROXY_CONSENT_MISSING"],
        "missing_documents": ["CONSENT_FORM"],
    }


def test_it_defaults_as_of_to_today_in_jst(api):
    body = _proxy_without_consent_form()
    del body["as_of"]
    with time_machine.travel(LATE_EVENING_UTC, tick=False):
        # A server counting in UTC would still see a 17-year-old.
        assert verdict(api, body) == {
            "eligible": False,
            "reasons": ["PROXY_CONSENT_MISSING"],
            "missing_documents": ["CONSENT_FORM"],
        }


def test_it_accepts_a_birth_today_in_jst_without_as_of(api):
    body = example(patient={"birth_date": "2026-11-26"}, requester={"relation": "parent"})
    del body["as_of"]
    with time_machine.travel(LATE_EVENING_UTC, tick=False):
        assert api.check(body).status_code == 200
        body["patient"]["birth_date"] = "2026-11-27"
        assert_names(errors(api, body), ("patient", "birth_date"))


# --- Malformed input: 400 naming the fields at fault ----------------------------------------
# Value lists are looped over inside one test (not parametrized): each test loads the catalog.


def assert_names(payload, path):
    """The error body has exactly the field at `path` (nested dicts), with messages."""
    node = payload
    for key in path:
        assert isinstance(node, dict) and set(node) == {key}, payload
        node = node[key]
    assert isinstance(node, list) and node and all(isinstance(m, str) for m in node), payload


def _paths(body, prefix=()):
    for key, value in body.items():
        if isinstance(value, dict):
            yield from _paths(value, (*prefix, key))
        else:
            yield (*prefix, key)


def _value(path):
    node = SPEC_EXAMPLE
    for key in path:
        node = node[key]
    return node


def _without(path):
    body = copy.deepcopy(SPEC_EXAMPLE)
    node = body
    for key in path[:-1]:
        node = node[key]
    del node[path[-1]]
    return body


def _with(path, value):
    body = copy.deepcopy(SPEC_EXAMPLE)
    node = body
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return body


REQUIRED_PATHS = [p for p in _paths(SPEC_EXAMPLE) if p != ("as_of",)]
NESTED_OBJECTS = [("patient",), ("requester",), ("declarations",)]
BOOLEAN_PATHS = [p for p in REQUIRED_PATHS if isinstance(_value(p), bool)]
STRING_PATHS = [p for p in REQUIRED_PATHS if isinstance(_value(p), str)] + [("as_of",)]


def test_it_refuses_a_birth_date_after_as_of(api):
    body = example(as_of="2026-11-25", patient={"birth_date": "2026-11-26"})
    assert_names(errors(api, body), ("patient", "birth_date"))


BAD_DATES = [
    "2026-02-30",
    "2025-02-29",
    "2026-13-01",
    "2026-00-10",
    "2026-11-31",
    "26-11-25",
    "2026/11/25",
    "20261125",  # ISO basic format: Python's parser takes it, the API does not
    "2026-W48-3",  # ISO week date, likewise
    "2026-330",  # ISO ordinal date
    "２０２６-１１-２５",  # full-width digits
    "2026-11-25T00:00:00",
    "2026-11-25\n",
    " 2026-11-25",
    "1899-12-31",
    "2100-01-01",
    "",
    "today",
]


@pytest.mark.parametrize("path", [("as_of",), ("patient", "birth_date")], ids=".".join)
def test_it_refuses_impossible_or_foreign_dates(api, path):
    for bad_date in BAD_DATES:
        assert_names(errors(api, _with(path, bad_date)), path)


def test_it_accepts_a_leap_day(api):
    assert verdict(api, example(as_of="2028-02-29", patient={"birth_date": "2000-02-29"}))


def test_it_refuses_unknown_codes_of_the_fixed_vocabularies(api):
    for changes, path in [
        ({"mode": "video"}, ("mode",)),
        ({"mode": "ONLINE"}, ("mode",)),
        ({"mode": "in-person"}, ("mode",)),
        ({"requester": {"relation": "friend"}}, ("requester", "relation")),
        ({"requester": {"relation": "Child"}}, ("requester", "relation")),
        ({"requester": {"patient_consent": "yes"}}, ("requester", "patient_consent")),
        ({"requester": {"patient_consent": ""}}, ("requester", "patient_consent")),
        ({"documents": ["REFERRAL_LETTER", "PASSPORT"]}, ("documents", "1")),
        ({"documents": ["referral_letter"]}, ("documents", "0")),
    ]:
        assert_names(errors(api, example(**changes)), path)


@pytest.mark.parametrize("path", REQUIRED_PATHS + NESTED_OBJECTS, ids=".".join)
def test_it_refuses_a_missing_field_at_any_level(api, path):
    assert_names(errors(api, _without(path)), path)


def test_it_lets_as_of_be_left_out(api):
    assert verdict(api, _without(("as_of",)))["eligible"] is True


def test_it_names_every_missing_field_of_an_empty_object(api):
    payload = errors(api, {})
    assert set(payload) == {p[0] for p in REQUIRED_PATHS}
    body = {**copy.deepcopy(SPEC_EXAMPLE), "patient": {}, "requester": {}, "declarations": {}}
    payload = errors(api, body)
    assert set(payload) == {"patient", "requester", "declarations"}
    for name in ("patient", "requester", "declarations"):
        assert set(payload[name]) == set(SPEC_EXAMPLE[name])


@pytest.mark.parametrize("path", BOOLEAN_PATHS, ids=".".join)
def test_it_refuses_anything_but_true_or_false_for_a_boolean(api, path):
    for value in ["true", "false", 1, 0, 1.0, None, [], {}, [True]]:
        assert_names(errors(api, _with(path, value)), path)


@pytest.mark.parametrize("path", STRING_PATHS, ids=".".join)
def test_it_refuses_anything_but_a_string_for_a_string(api, path):
    for value in [1, 0, 2026.5, True, None, [], {}, ["online"]]:
        assert_names(errors(api, _with(path, value)), path)


@pytest.mark.parametrize("path", NESTED_OBJECTS, ids=".".join)
def test_it_refuses_anything_but_an_object_for_a_nested_object(api, path):
    for value in ["x", "", 1, True, None, [], [{}]]:
        payload = errors(api, _with(path, value))
        assert set(payload) == set(path)


def test_it_refuses_anything_but_a_list_for_documents(api):
    for value in ["REFERRAL_LETTER", "", 1, True, None, {}, {"REFERRAL_LETTER": True}]:
        assert_names(errors(api, example(documents=value)), ("documents",))


def test_it_refuses_a_non_string_document_code(api):
    for value in [None, 1, True, [], {}, ["TEST_DATA"]]:
        body = example(documents=["REFERRAL_LETTER", value])
        assert_names(errors(api, body), ("documents", "1"))


def test_it_refuses_an_overlong_documents_list(api):
    assert_names(errors(api, example(documents=["TEST_DATA"] * 51)), ("documents",))


@pytest.mark.parametrize("field", ["department", "disease"])
def test_it_refuses_blank_overlong_or_nul_catalog_codes(api, field):
    for value in ["", "   ", "x" * 101, "heart\x00failure"]:
        assert_names(errors(api, example(**{field: value})), (field,))


def test_it_refuses_unknown_keys_at_any_level(api):
    # A typo in a declaration must not pass silently as its default.
    for path in [
        ("nickname",),
        ("patient", "nationality"),
        ("requester", "name"),
        ("declarations", "wants_transfer_later"),
    ]:
        assert_names(errors(api, _with(path, False)), path)


def test_it_refuses_a_body_that_is_not_an_object(api):
    for body in ["[]", "[{}]", '"text"', "42", "4.2", "true", "null"]:
        assert set(errors(api, body)) == {"non_field_errors"}


def test_it_refuses_invalid_json(api):
    for body in [
        "{",
        "{'mode': 'online'}",
        '{"mode": "online",}',
        '{"as_of": NaN}',
        '{"as_of": Infinity}',
        "mode=online",
        "\ufeff{}",
        b"\xff\xfe\x00{",
        '{"a": ' + "9" * 5000 + "}",
    ]:
        assert set(errors(api, body)) == {"detail"}


def test_it_refuses_json_nested_deeper_than_the_parser_goes(api):
    # The C scanner raises RecursionError past some 10,000 levels; that was a 500.
    deep = "[" * 100_000 + "]" * 100_000
    assert set(errors(api, deep)) == {"detail"}
    assert set(errors(api, '{"mode": ' + deep + "}")) == {"detail"}


def test_it_refuses_strings_with_unpaired_surrogates(api):
    # Python's json accepts "\ud800"; an answer quoting it (an unknown key, an unknown code in
    # a message) could not be encoded, so the request failed with a 500.
    for body in ['{"\\ud800": true}', '{"mode": "\\udfff"}', '{"department": "\\ud83d"}']:
        assert set(errors(api, body)) == {"detail"}


def test_it_reads_a_paired_surrogate_escape_as_its_character(api):
    body = json.dumps({**SPEC_EXAMPLE, "department": "😀"})
    assert "\\ud83d\\ude00" in body
    assert verdict(api, body)["reasons"] == ["NO_SPECIALIST"]


def test_it_refuses_a_charset_that_is_not_a_text_encoding(api):
    for charset in ["rot13", "zlib", "hex", "base64", "bz2", "uu"]:
        content_type = f"application/json; charset={charset}"
        assert set(errors(api, json.dumps(SPEC_EXAMPLE).encode(), content_type)) == {"detail"}


def test_it_reads_a_declared_text_charset(api):
    body = json.dumps({**SPEC_EXAMPLE, "department": "循環器内科"}, ensure_ascii=False)
    response = api.post(ELIGIBILITY_URL, body.encode("utf-16"), "application/json; charset=utf-16")
    assert response.status_code == 200
    assert response.json()["reasons"] == ["NO_SPECIALIST"]


def test_it_ignores_an_unknown_charset_name(api):
    body = json.dumps(SPEC_EXAMPLE).encode()
    response = api.post(ELIGIBILITY_URL, body, "application/json; charset=klingon")
    assert response.status_code == 200


def test_it_names_every_field_of_an_empty_body(api):
    payload = errors(api, "")
    assert set(payload) == {p[0] for p in REQUIRED_PATHS}


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "application/xml", "multipart/form-data"],
)
def test_it_reads_other_content_types_as_json_and_refuses_what_is_not(api, content_type):
    # Whatever Content-Type says, the body is read as JSON: a 400, never a 415 or 500.
    assert set(errors(api, "mode=online&department=cardiology", content_type)) == {"detail"}
    response = api.post(ELIGIBILITY_URL, SPEC_EXAMPLE, content_type)
    assert response.status_code == 200
    assert response.json()["eligible"] is True


def test_it_refuses_a_real_form_post(client):
    response = client.post(ELIGIBILITY_URL, {"mode": "online"}, secure=True)  # multipart
    assert response.status_code == 400
    assert set(response.json()) == {"detail"}


def test_it_answers_a_browser_asking_for_html_with_a_400_too(api):
    response = api.client.post(
        ELIGIBILITY_URL,
        "{}",
        content_type="application/json",
        secure=True,
        HTTP_ACCEPT="text/html",
    )
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"


def test_it_only_takes_post(api):
    assert api.get(ELIGIBILITY_URL).status_code == 405


def test_an_unknown_field_named_detail_is_not_taken_for_the_general_error(api):
    body = copy.deepcopy(SPEC_EXAMPLE) | {"detail": "x"}
    assert errors(api, json.dumps(body)) == {"non_field_errors": ["detail: 不明な項目です。"]}
    # Inside an object it is an ordinary unknown field of that object.
    body = copy.deepcopy(SPEC_EXAMPLE)
    body["patient"]["detail"] = "x"
    assert errors(api, json.dumps(body)) == {"patient": {"detail": ["不明な項目です。"]}}
