"""The OpenAPI 3 document and the documentation pages, which must work with no internet."""

import json
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.test import Client
from drf_spectacular.validation import validate_schema

PUBLIC_PATHS = {
    "/api/v1/eligibility/check": "post",
    "/api/v1/fees/quote": "post",
    "/api/v1/departments": "get",
    "/api/v1/calendar/closed-days": "get",
}


@pytest.fixture
def document(client):
    response = client.get("/api/schema/", {"format": "json"}, secure=True)
    assert response.status_code == 200
    return response.json()


def test_it_generates_a_schema_without_warnings(tmp_path):
    # --fail-on-warn turns every drf-spectacular warning (an undocumented field...) into an error.
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    assert out.read_text().startswith("openapi: 3.")


def test_it_serves_a_valid_openapi_3_document(document):
    validate_schema(document)  # against the OpenAPI 3.0 JSON Schema; raises when invalid
    assert document["openapi"].startswith("3.")
    assert document["info"]["title"] == "OpinionDesk API"


def test_it_serves_the_schema_as_yaml_by_default(client):
    response = client.get("/api/schema/", secure=True)
    assert response.status_code == 200
    assert response.content.startswith(b"openapi: 3.")


def test_it_lists_the_four_public_endpoints_under_v1(document):
    for path, method in PUBLIC_PATHS.items():
        assert method in document["paths"][path]
    assert all(path.startswith("/api/v1/") for path in document["paths"])


def test_it_describes_the_bodies_of_spec_section_10(document):
    schemas = document["components"]["schemas"]
    check = document["paths"]["/api/v1/eligibility/check"]["post"]
    request_ref = check["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    request = schemas[request_ref.rsplit("/", 1)[1]]
    assert set(request["properties"]) == {
        "as_of",
        "mode",
        "department",
        "disease",
        "patient",
        "requester",
        "joining_from_japan",
        "declarations",
        "privacy_policy_accepted",
        "documents",
    }
    assert "as_of" not in request["required"]
    assert set(check["responses"]) == {"200", "400", "413", "429"}
    verdict_ref = check["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    verdict = schemas[verdict_ref.rsplit("/", 1)[1]]
    assert set(verdict["properties"]) == {"eligible", "reasons", "missing_documents"}
    closed = document["paths"]["/api/v1/calendar/closed-days"]["get"]
    (year,) = closed["parameters"]
    assert (year["name"], year["in"], year["required"]) == ("year", "query", True)
    assert (year["schema"]["minimum"], year["schema"]["maximum"]) == (1949, 2099)
    quote = document["paths"]["/api/v1/fees/quote"]["post"]
    assert set(quote["responses"]) == {"200", "400", "413", "429"}


def test_it_needs_no_login_for_the_public_operations(document):
    for path, method in PUBLIC_PATHS.items():
        assert document["paths"][path][method].get("security", [{}]) == [{}]


ASSET = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']""")


@pytest.mark.parametrize("page", ["/api/docs/", "/api/redoc/"])
def test_it_renders_the_documentation_from_local_assets_only(settings, page):
    # ServeStatic reads the finders' files in development only; turn that on for a new client.
    settings.SERVESTATIC_USE_FINDERS = True
    settings.SERVESTATIC_AUTOREFRESH = True
    client = Client()
    response = client.get(page, secure=True)
    assert response.status_code == 200
    html = response.content.decode()
    # Nothing from another host: no CDN script, stylesheet, font or preconnect.
    assert not re.search(r"https?://", html), re.findall(r"https?://[^\s\"'<>]+", html)
    assert "//" not in "".join(ASSET.findall(html))
    assets = ASSET.findall(html)
    assert assets, "the page references no script or stylesheet"
    for url in assets:
        assert url.startswith("/static/"), url
        found = finders.find(urlsplit(url).path.removeprefix("/static/"))
        assert found, url
        served = client.get(url, secure=True)
        assert served.status_code == 200, url
        assert int(served["Content-Length"]) == Path(found).stat().st_size > 0, url
    scripts = [u for u in assets if u.endswith(".js")]
    assert scripts, "no script: the page cannot render the document"
    assert "/api/schema/" in html  # the document the page renders


def test_it_names_the_bundles_the_pages_need(client):
    swagger = client.get("/api/docs/", secure=True).content.decode()
    assert "swagger-ui-bundle.js" in swagger and "swagger-ui.css" in swagger
    redoc = client.get("/api/redoc/", secure=True).content.decode()
    assert "redoc.standalone.js" in redoc


def test_it_keeps_the_json_document_free_of_remote_references(document):
    text = json.dumps(document)
    assert '"$ref": "http' not in text
