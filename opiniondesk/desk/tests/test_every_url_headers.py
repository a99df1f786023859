"""Every route of the URL conf, walked (SPEC §13): whatever it answers (a page, a redirect, a
refusal), an HTML answer carries the site's Content-Security-Policy with no inline script
allowed, and every answer to a signed-in person or under /api/ is `no-store`. Each route is asked
by a visitor without a session and by a signed-in coordinator and patient, with a real case's
number where the route takes one."""

import uuid

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from opiniondesk.cases.workflow import Status
from opiniondesk.testing.builders import case_in
from opiniondesk.testing.personas import persona

# The same on every database: checked in the SQLite half (marker `contract`, Makefile).
pytestmark = [pytest.mark.django_db, pytest.mark.contract]

SAMPLES = {"int": "1", "id": "1", "str": "x", "slug": "x", "path": "x", "uuid": str(uuid.uuid4())}


def routes(resolver: URLResolver | None = None, prefix: str = ""):
    """The route of every URL pattern with its converters (regex patterns are Django's admin:
    its index and its models' lists stand for it)."""
    for entry in (resolver or get_resolver()).url_patterns:
        pattern = getattr(entry.pattern, "_route", None)
        if pattern is None:  # a regex pattern (the admin's catch-all views)
            continue
        if isinstance(entry, URLResolver):
            yield from routes(entry, prefix + pattern)
        else:
            assert isinstance(entry, URLPattern)
            yield prefix + pattern


def concrete(route: str, case_id: int) -> str:
    path = "/" + route
    while "<" in path:
        start, end = path.index("<"), path.index(">")
        converter, _, name = path[start + 1 : end].rpartition(":")
        value = str(case_id) if name == "case_id" else SAMPLES[converter or "str"]
        path = path[:start] + value + path[end + 1 :]
    return path


def test_the_walk_sees_the_whole_site():
    walked = set(routes())
    assert len(walked) > 100
    assert {"", "dashboard/", "staff/queue/", "api/v1/cases/<int:case_id>"} <= walked


@pytest.mark.parametrize("who", [None, "coordinator_sato", "patient_hana"])
def test_every_route_answers_with_the_security_headers(who, seeded):
    case = case_in(Status.ACCEPTED, applicant=persona("patient_hana"))
    client = Client()
    if who is not None:
        client.force_login(persona(who))
    checked = 0
    for route in sorted(set(routes())):
        if route.startswith(("static/", "media/")):
            continue
        url = concrete(route, case.pk)
        response = client.get(url, secure=True)
        where = f"{url} as {who}: {response.status_code}"
        assert response.status_code < 500, where
        if response.get("Content-Type", "").startswith("text/html"):
            policy = response.get("Content-Security-Policy", "")
            assert "script-src" in policy, where
            script_src = next(p for p in policy.split(";") if p.strip().startswith("script-src"))
            assert "unsafe-inline" not in script_src and "unsafe-eval" not in script_src, where
            assert "frame-ancestors 'none'" in policy, where
        if who is not None or url.startswith("/api/"):
            assert "no-store" in response.get("Cache-Control", ""), where
        checked += 1
    assert checked > 100
