"""The staff layout (issue #16 item 11): every staff page a GET opens under /staff/ has the staff
header (who is signed in, the staff menu, sign out) and neither the public menu nor the patient
footer; the patient's pages keep the public layout. Each route is walked, as in
test_every_url_headers, with a real case's number."""

import pytest
from django.test import Client
from django.utils import translation

from opiniondesk.cases.workflow import Status
from opiniondesk.desk.tests.test_every_url_headers import concrete, routes
from opiniondesk.testing.builders import case_in
from opiniondesk.testing.personas import persona

pytestmark = pytest.mark.django_db


def html_pages(client: Client, prefix: str, case_id: int):
    for route in sorted(set(routes())):
        if route.startswith(prefix):
            response = client.get(concrete(route, case_id), secure=True)
            html = response.content.decode()
            # Whole pages only: an htmx fragment (the free dates) has no layout of its own.
            if response.status_code == 200 and html.lstrip().startswith("<!DOCTYPE html>"):
                yield route, html


@pytest.mark.parametrize("who", ["coordinator_sato", "dr_tanaka", "billing_ito"])
def test_every_staff_page_has_the_staff_layout(who, seeded):
    case = case_in(Status.ACCEPTED)
    client = Client(headers={"Accept-Language": "en"})
    user = persona(who)
    client.force_login(user)
    pages = dict(html_pages(client, "staff/", case.pk))
    assert len(pages) >= 3, sorted(pages)
    with translation.override("en"):
        role = str(user.get_role_display())
    for route, html in pages.items():
        assert 'class="site-header staff-header"' in html, route
        assert f"{user.get_full_name()} · {role}" in html, route
        assert 'action="/accounts/logout/"' in html, route
        assert 'class="site-footer"' not in html, route
        assert 'href="/fees/"' not in html, route  # the public menu
        assert 'class="skip-link" href="#main"' in html and '<html lang="en">' in html, route


def test_the_patients_pages_keep_the_public_layout(seeded):
    case = case_in(Status.ACCEPTED)
    client = Client()
    client.force_login(persona("patient_hana"))
    pages = dict(html_pages(client, "cases/", case.pk))
    assert len(pages) >= 5, sorted(pages)
    for route, html in pages.items():
        assert "staff-header" not in html, route
        assert 'class="site-footer"' in html and 'href="/fees/"' in html, route
