"""Property-based fuzzing of the public API: malformed input of any shape is a 400, never a 500.

The test client raises any exception a view lets escape, so a server error fails loudly here.
In CI (CI=true) the examples are derandomized: every run tries the same bodies.
"""

import copy
import json
import os
from datetime import date
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, note, settings
from hypothesis import strategies as st

from opiniondesk.api.tests.conftest import (
    CLOSED_DAYS_URL,
    DOCUMENTS_IN_SPEC_ORDER,
    NESTED,
    SPEC_EXAMPLE,
    assert_verdict_shape,
)

settings.register_profile(
    "opiniondesk-api-fuzz",
    max_examples=300,
    deadline=None,
    derandomize=os.environ.get("CI") == "true",
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
fuzz = settings(settings.get_profile("opiniondesk-api-fuzz"))

# The contract is the same on every database: fuzzed once, in the SQLite half (Makefile).
pytestmark = [pytest.mark.usefixtures("demo_catalog"), pytest.mark.contract]

# Any text, unpaired surrogates included: json.dumps escapes them ("\ud800"), as a client may.
any_text = st.text(st.characters(exclude_categories=()), max_size=20)
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()  # NaN and Infinity too: json.dumps writes them, and they are not JSON
    | any_text
    | st.sampled_from(["online", "in_person", "self", "signed", "none", "2026-11-25", ""])
    | st.sampled_from(DOCUMENTS_IN_SPEC_ORDER)
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(any_text, children, max_size=4)
    ),
    max_leaves=12,
)


def assert_client_error(response: Any) -> dict[str, Any]:
    assert response.status_code == 400, response.content
    payload = response.json()
    assert isinstance(payload, dict) and payload
    return payload


def wire(value: Any) -> Any:
    """`value` as the server reads it: json.loads() joins an escaped surrogate pair into one
    character, so "\\ud83d" "\\ude00" drawn separately arrive as one emoji."""
    return json.loads(json.dumps(value))


def is_json(body: Any) -> bool:
    """Whether json.dumps(body) is JSON text: no NaN or Infinity, no unpaired surrogate."""
    try:
        json.dumps(body, allow_nan=False)
    except ValueError:
        return False
    text = json.dumps(wire(body), ensure_ascii=False)
    return not any("\ud800" <= char <= "\udfff" for char in text)


def assert_parse_error_iff_not_json(payload: dict[str, Any], body: Any) -> bool:
    """A body that is not JSON text gets {"detail": ...}, and only such a body. True if so."""
    if is_json(body):
        assert "detail" not in payload, payload
        return False
    assert set(payload) == {"detail"}, payload
    return True


# --- (a) arbitrary JSON values as bodies ----------------------------------------------------


@fuzz
@given(body=json_values)
def test_it_answers_any_json_value_to_the_eligibility_check_with_200_or_400(api, body):
    response = api.check(json.dumps(body))
    assert response.status_code in (200, 400)
    if response.status_code == 400:
        assert_parse_error_iff_not_json(assert_client_error(response), body)
    else:
        assert_verdict_shape(response.json())


@fuzz
@given(body=json_values)
def test_it_answers_any_json_value_to_the_fee_quote_with_200_or_400(api, body):
    response = api.quote(json.dumps(body))
    assert response.status_code in (200, 400)
    if response.status_code == 400:
        payload = assert_client_error(response)
        if not assert_parse_error_iff_not_json(payload, body) and isinstance(body, dict):
            allowed = {*wire(body), "review_minutes", "call_seconds", "non_field_errors"}
            assert set(payload) <= allowed


@fuzz
@given(body=st.binary(max_size=200))
def test_it_answers_any_bytes_with_a_400(api, body):
    assume(body.strip() not in (b"",))
    for url in ("/api/v1/eligibility/check", "/api/v1/fees/quote"):
        response = api.post(url, body)
        assert response.status_code == 400


# --- (b) mutations of the SPEC example ------------------------------------------------------


def _dict_paths(body: dict[str, Any], prefix: tuple = ()) -> list[tuple]:
    paths = []
    for key, value in body.items():
        paths.append((*prefix, key))
        if isinstance(value, dict):
            paths.extend(_dict_paths(value, (*prefix, key)))
    return paths


VALUE_PATHS = _dict_paths(SPEC_EXAMPLE) + [
    ("documents", i) for i in range(len(SPEC_EXAMPLE["documents"]))
]
CONTAINERS = [(), ("patient",), ("requester",), ("declarations",), ("documents",)]


def _node(body: Any, path: tuple) -> Any:
    for key in path:
        body = body[key]
    return body


@st.composite
def mutations(draw: Any) -> tuple[dict[str, Any], str, tuple, Any]:
    """(body, operation, path, old value) for one change to the SPEC example."""
    body = copy.deepcopy(SPEC_EXAMPLE)
    operation = draw(st.sampled_from(["delete", "replace", "add"]))
    if operation == "add":
        container_path = draw(st.sampled_from(CONTAINERS))
        container = _node(body, container_path)
        value = draw(json_values)
        if isinstance(container, list):
            container.append(value)
            return body, operation, (*container_path, len(container) - 1), None
        key = draw(any_text.filter(lambda k: k not in container))
        container[key] = value
        return body, operation, (*container_path, key), None
    path = draw(st.sampled_from(VALUE_PATHS))
    parent, key = _node(body, path[:-1]), path[-1]
    old = parent[key]
    if operation == "delete":
        del parent[key]
    else:
        parent[key] = draw(json_values)
    return body, operation, path, old


def _json_type(value: Any) -> type:
    return type(value)  # bool, int, float, str, list, dict or NoneType: JSON's kinds


@fuzz
@given(mutation=mutations())
def test_it_answers_any_mutation_of_the_spec_example_with_200_or_400(api, mutation):
    body, operation, path, old = mutation
    note(f"{operation} at {path!r}")
    response = api.check(json.dumps(body))
    assert response.status_code in (200, 400)
    top, nested = path[0], len(path) > 1 and path[0] in NESTED

    if response.status_code == 200:
        assert_verdict_shape(response.json())
        # What must fail: a required key gone, an unknown key, or a value of another kind.
        assert not (operation == "delete" and not _may_be_left_out(path))
        assert not (operation == "add" and path[0] != "documents")
        if operation == "replace":
            assert _json_type(_node(body, path)) is _json_type(old)
        return

    payload = assert_client_error(response)
    if assert_parse_error_iff_not_json(payload, body):
        return
    path = tuple(wire(key) for key in path)
    top = path[0]
    if top == "as_of" and "as_of" not in payload:
        # A valid but earlier as_of is the birth date's fault.
        assert payload == {"patient": {"birth_date": payload["patient"]["birth_date"]}}
        return
    assert top in payload, payload
    if nested and isinstance(payload[top], dict) and "non_field_errors" not in payload[top]:
        assert path[1] in payload[top], payload
    if top == "documents" and len(path) > 1 and isinstance(payload["documents"], dict):
        assert str(path[1]) in payload["documents"], payload


def _may_be_left_out(path: tuple) -> bool:
    """as_of defaults to today; a document left out is then missing, which is no error."""
    return path == ("as_of",) or (path[0] == "documents" and len(path) == 2)


# --- (c) fee quote and closed days ----------------------------------------------------------

REVIEW_MAX, CALL_MAX = 100_000, 10_000_000
durations = (
    st.integers(min_value=0, max_value=200)
    | st.integers(min_value=-(10**6), max_value=10**8)
    | st.integers()  # huge, both signs
    | st.floats()
    | any_text
    | st.booleans()
    | st.none()
    | json_values
)
fee_dates = (
    st.dates(min_value=date(1000, 1, 1)).map(date.isoformat)
    | st.dates(min_value=date(2019, 9, 1), max_value=date(2020, 1, 31)).map(date.isoformat)
    | any_text
    | json_values
)
MISSING = object()


def _valid_duration(value: Any, maximum: int) -> bool:
    return type(value) is int and 0 <= value <= maximum


def _on_fault(value: Any) -> str | None:
    """'format' for no date in YYYY-MM-DD form within 1900-2099, 'table' for a date before
    the demo fee table (2019-10-01), None for a date the demo table quotes."""
    if value is MISSING:
        return None
    if not isinstance(value, str) or len(value) != 10 or not value.isascii():
        return "format"
    try:
        day = date.fromisoformat(value)
    except ValueError:
        return "format"
    if not date(1900, 1, 1) <= day <= date(2099, 12, 31):
        return "format"
    return "table" if day < date(2019, 10, 1) else None


def _expected_quote(minutes: int) -> tuple[int, int, int, bool]:
    """The demo table of SPEC §8: (tier, amount, tax, over_limit)."""
    if minutes == 0:
        return 0, 0, 0, False
    if minutes <= 30:
        return 1, 44_000, 4_000, False
    return 2, 88_000, 8_000, minutes > 60


@fuzz
@given(
    review=durations | st.just(MISSING),
    call=durations | st.just(MISSING),
    on=fee_dates | st.just(MISSING),
)
def test_it_quotes_or_names_every_field_at_fault(api, review, call, on):
    fields = {"review_minutes": review, "call_seconds": call, "on": on}
    body = {key: value for key, value in fields.items() if value is not MISSING}
    response = api.quote(json.dumps(body))
    faults = {
        "review_minutes": not _valid_duration(review, REVIEW_MAX),
        "call_seconds": not _valid_duration(call, CALL_MAX),
        "on": _on_fault(on) == "format",
    }
    # Whether a fee table is in force is asked only of an otherwise valid request.
    faults["on"] |= not any(faults.values()) and _on_fault(on) == "table"
    if any(faults.values()) or not is_json(body):
        payload = assert_client_error(response)
        if not assert_parse_error_iff_not_json(payload, body):
            assert set(payload) == {name for name, fault in faults.items() if fault}
        return
    assert response.status_code == 200, response.content
    minutes = review + call // 60
    tier, amount, tax, over_limit = _expected_quote(minutes)
    assert response.json() == {
        "billable_minutes": minutes,
        "tier": tier,
        "amount_jpy": amount,
        "tax_jpy": tax,
        "tax_rate": 0.1,
        "over_limit": over_limit,
    }


years = (
    st.text(max_size=12)
    | st.integers(min_value=1900, max_value=2200).map(str)
    | st.integers().map(str)
    | st.from_regex(r"\A\s*[+-]?[0-9]{1,5}(\.[0-9]*)?\s*\Z")
)


@fuzz
@given(year=years)
def test_it_answers_closed_days_for_a_year_or_names_year(api, year):
    response = api.get(CLOSED_DAYS_URL, {"year": year})
    assert response.status_code in (200, 400)
    if response.status_code == 400:
        assert set(assert_client_error(response)) == {"year"}
        return
    payload = response.json()
    assert 1949 <= payload["year"] <= 2099
    days = [d["date"] for d in payload["closed_days"]]
    assert len(days) >= 104  # every weekend at least
    assert all(d.startswith(f"{payload['year']}-") for d in days)
    try:
        number = int(year)
    except ValueError:
        return
    assert number == payload["year"]


@fuzz
@given(year=st.integers(min_value=1800, max_value=2300))
def test_it_answers_exactly_the_years_1949_to_2099(api, year):
    response = api.get(CLOSED_DAYS_URL, {"year": str(year)})
    assert response.status_code == (200 if 1949 <= year <= 2099 else 400)
