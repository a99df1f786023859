"""The public API's limit per client address: 429 with Retry-After and a JSON body, counted where
every worker process sees it."""

import json

import pytest
from django.test import Client

from opiniondesk.api.tests.conftest import ELIGIBILITY_URL, SPEC_EXAMPLE
from opiniondesk.core.models import CacheEntry

pytestmark = pytest.mark.usefixtures("demo_catalog")


def check(client, **extra):
    return client.post(
        ELIGIBILITY_URL,
        json.dumps(SPEC_EXAMPLE),
        content_type="application/json",
        secure=True,
        HTTP_ACCEPT_LANGUAGE="en",
        **extra,
    )


def test_it_answers_429_with_retry_after_and_json_past_the_rate(client, settings):
    settings.PUBLIC_API_RATE = "3/min"
    for _ in range(3):
        assert check(client).status_code == 200
    response = check(client)
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    assert response["Content-Type"] == "application/json"
    seconds = int(response["Retry-After"])
    with_wait = f"Please try again in {seconds} second{'s' if seconds > 1 else ''}."
    assert response.json()["detail"] == f"Too many requests. {with_wait}"


def test_it_counts_each_address_apart_and_believes_no_forwarded_header(client, settings):
    settings.PUBLIC_API_RATE = "1/min"
    assert check(client).status_code == 200
    # A client cannot buy a new budget with a header of its own (the ASGI server applies a
    # trusted proxy's X-Forwarded-For to REMOTE_ADDR before Django sees the request).
    assert check(client, HTTP_X_FORWARDED_FOR="198.51.100.7").status_code == 429
    assert check(client, REMOTE_ADDR="192.0.2.10").status_code == 200
    # One IPv6 client holds a whole /64.
    assert check(client, REMOTE_ADDR="2001:db8:1:2::1").status_code == 200
    assert check(client, REMOTE_ADDR="2001:db8:1:2:ffff::9").status_code == 429
    # The counts are in the database; the addresses are not.
    keys = list(CacheEntry.objects.values_list("cache_key", flat=True))
    assert keys and not [k for k in keys if "192.0.2.10" in k or "2001:db8" in k]


def test_another_worker_sees_the_same_count(client, settings):
    """A second test client stands for a second worker; they share only the default cache."""
    settings.PUBLIC_API_RATE = "2/min"
    from django.core.cache import caches

    assert check(client).status_code == 200
    first = caches["default"]
    caches["default"] = caches.create_connection("default")
    try:
        assert check(Client()).status_code == 200
        assert check(Client()).status_code == 429
    finally:
        caches["default"] = first


def test_an_empty_rate_turns_the_limit_off(client, settings):
    settings.PUBLIC_API_RATE = ""
    assert all(check(client).status_code == 200 for _ in range(5))
