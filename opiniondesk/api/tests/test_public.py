"""The public endpoints need no login, set no cookie and write nothing (SPEC §10)."""

import json

import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from opiniondesk.api.tests.conftest import (
    CLOSED_DAYS_URL,
    DEPARTMENTS_URL,
    ELIGIBILITY_URL,
    FEE_QUOTE_URL,
    SPEC_EXAMPLE,
    example,
)

pytestmark = pytest.mark.usefixtures("demo_catalog")

FEE_BODY = {"review_minutes": 10, "call_seconds": 1200, "on": "2026-11-25"}

# (method, url, body or query, expected status): good and malformed requests alike.
REQUESTS = [
    ("post", ELIGIBILITY_URL, SPEC_EXAMPLE, 200),
    ("post", ELIGIBILITY_URL, example(documents=[], joining_from_japan=False), 200),
    ("post", ELIGIBILITY_URL, example(mode="video"), 400),
    ("post", ELIGIBILITY_URL, "{", 400),
    ("post", FEE_QUOTE_URL, FEE_BODY, 200),
    ("post", FEE_QUOTE_URL, {**FEE_BODY, "on": "2019-09-30"}, 400),
    ("get", DEPARTMENTS_URL, {}, 200),
    ("get", CLOSED_DAYS_URL, {"year": "2026"}, 200),
    ("get", CLOSED_DAYS_URL, {"year": "abc"}, 400),
]


def send(client, method, url, data):
    if method == "get":
        return client.get(url, data, secure=True)
    body = data if isinstance(data, str) else json.dumps(data)
    return client.post(url, body, content_type="application/json", secure=True)


@pytest.mark.parametrize(("method", "url", "data", "status"), REQUESTS)
def test_it_answers_anonymous_callers_without_a_cookie(method, url, data, status):
    # Cross-site callers send no CSRF token: the public endpoints must not ask for one.
    client = Client(enforce_csrf_checks=True)
    response = send(client, method, url, data)
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert not response.cookies
    assert "Set-Cookie" not in response.headers
    assert not client.cookies
    assert not Session.objects.exists()


@pytest.mark.parametrize(("method", "url", "data", "status"), REQUESTS)
def test_it_writes_nothing_to_the_database(client, method, url, data, status):
    with CaptureQueriesContext(connection) as queries:
        assert send(client, method, url, data).status_code == status
    writes = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].lstrip().split(" ", 1)[0].upper() in {"INSERT", "UPDATE", "DELETE", "REPLACE"}
    ]
    assert writes == []


def test_it_answers_a_signed_in_patient_the_same_and_writes_nothing(client, patient_hana):
    client.force_login(patient_hana)
    with CaptureQueriesContext(connection) as queries:
        response = send(client, "post", ELIGIBILITY_URL, SPEC_EXAMPLE)
    assert response.status_code == 200
    assert response.json()["eligible"] is True
    assert not response.cookies
    assert not [q for q in queries.captured_queries if q["sql"].startswith(("INSERT", "UPDATE"))]
