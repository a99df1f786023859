"""Every answer under /api/ is JSON, errors included: no route, wrong method, no credentials,
a body too large, a missing CSRF token, a crash; the pages elsewhere keep their HTML."""

import json

import pytest
from django.core.exceptions import RequestDataTooBig
from django.test import Client, RequestFactory
from django.urls import URLPattern, get_resolver

from opiniondesk.api import errors
from opiniondesk.api.tests.conftest import ELIGIBILITY_URL, SPEC_EXAMPLE

PUBLIC = {"api-eligibility-check", "api-fee-quote", "api-departments", "api-closed-days"}


def api_patterns():
    """(name, URL) of every /api/v1/ route, walked from the URL conf (case id 1)."""
    (api,) = [p for p in get_resolver().url_patterns if str(p.pattern) == "api/"]
    for pattern in api.url_patterns:
        assert isinstance(pattern, URLPattern)
        route = str(pattern.pattern)
        if route.startswith("v1/"):
            yield pattern.name, "/api/" + route.replace("<int:case_id>", "1")


def assert_json(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"] in ("application/json", "application/fhir+json")
    assert isinstance(json.loads(response.content)["detail"], str)


@pytest.mark.parametrize(("name", "url"), list(api_patterns()))
def test_it_answers_json_to_no_credentials_and_to_a_wrong_method(name, url, coordinator_sato):
    client = Client(headers={"Accept": "text/html"})
    if name not in PUBLIC:
        # DRF asks for credentials before it looks at the method.
        response = client.put(url, "{}", content_type="application/json", secure=True)
        assert_json(response, 401)
        assert response["WWW-Authenticate"] == 'Bearer realm="api"'
        client.force_login(coordinator_sato)
    response = client.put(url, "{}", content_type="application/json", secure=True)
    assert_json(response, 405)
    assert "PUT" not in response["Allow"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url", ["/api/v1/nothing", "/api/v1/cases/abc", "/api/v1/cases/1/", "/api/v2/departments"]
)
def test_it_answers_json_for_an_api_url_that_matches_no_route(url):
    assert_json(Client().get(url, secure=True), 404)


@pytest.mark.django_db
def test_it_keeps_the_html_page_for_other_urls():
    response = Client().get("/no-such-page", secure=True)
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.django_db
def test_it_answers_a_json_body_over_the_limit_with_a_413(settings, api):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = json.dumps({**SPEC_EXAMPLE, "department": "x" * 1000})
    assert_json(api.post(ELIGIBILITY_URL, body), 413)
    assert api.post(ELIGIBILITY_URL, SPEC_EXAMPLE).status_code == 200


@pytest.mark.django_db
def test_it_answers_a_session_write_without_its_csrf_token_with_json(coordinator_sato):
    client = Client(enforce_csrf_checks=True)
    client.force_login(coordinator_sato)
    response = client.post(
        "/api/v1/cases/1/transitions", {"to": "screening"}, "application/json", secure=True
    )
    assert_json(response, 403)
    assert "CSRF" in response.json()["detail"]


@pytest.mark.parametrize(
    ("handler", "args", "status"),
    [
        (errors.bad_request, [RequestDataTooBig()], 413),
        (errors.bad_request, [ValueError()], 400),
        (errors.permission_denied, [PermissionError()], 403),
        (errors.server_error, [], 500),
    ],
)
def test_its_error_handlers_answer_json_under_api_only(handler, args, status):
    factory = RequestFactory()
    assert_json(handler(factory.get("/api/v1/departments"), *args), status)
    page = handler(factory.get("/dashboard"), *args)
    assert page["Content-Type"].startswith("text/html")
