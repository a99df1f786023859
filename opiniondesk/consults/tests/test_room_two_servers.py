"""The consult across two server processes that share PostgreSQL and Redis (the scale-out setup):
Hana's browser talks to one, Dr Tanaka's to the other; the call, a reload and the end still work,
because the processes keep nothing of a consult that the database and the channel layer do not.
"""

import os

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from opiniondesk.cases.workflow import Status
from opiniondesk.consults.models import Consult, ConsultState, EndReason
from opiniondesk.consults.tests.test_room_browser import (
    call_started,
    decoding,
    page_of,
    state_is,
)
from opiniondesk.scheduling.selectors import live_booking
from opiniondesk.testing.builders import ready_case
from opiniondesk.testing.personas import persona
from opiniondesk.testing.processes import site_env, start_server, stop, wait_until_up

pytestmark = [
    pytest.mark.browser,
    pytest.mark.postgresql,
    pytest.mark.django_db(transaction=True),
]

REDIS_URL = os.environ.get("REDIS_URL_FOR_TESTS", "")


@pytest.fixture
def two_servers(transactional_db, static_root):
    """Two uvicorn processes on the test database with Redis as the channel layer."""
    if not REDIS_URL:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but REDIS_URL_FOR_TESTS is not set")
        pytest.skip("REDIS_URL_FOR_TESTS is not set: the two-process consult is not exercised")
    env = site_env(
        REDIS_URL=REDIS_URL,
        STATIC_ROOT=str(static_root),
        # The booking is days away: open its waiting room now (the processes keep real time).
        CONSULT_ROOM_OPENS_MINUTES=str(60 * 24 * 366),
    )
    servers = []
    try:
        servers = [start_server(env) for __ in range(2)]
        for server, url in servers:
            wait_until_up(server, url)
        yield [url for __, url in servers]
    finally:
        for server, __ in servers:
            stop(server)


def signed_in_page(browser, url, username):
    """A page with the user's session (made here, in the shared database)."""
    client = Client()
    client.force_login(persona(username))
    page = page_of(browser)
    name = settings.SESSION_COOKIE_NAME
    page.context.add_cookies([{"name": name, "value": client.cookies[name].value, "url": url}])
    return page


def test_the_two_sides_on_two_server_processes(media_browser, two_servers, seeded):
    ready = ready_case()
    booking = live_booking(ready.pk)
    patient_url, hospital_url = two_servers
    hana = signed_in_page(media_browser, patient_url, "patient_hana")
    hana.goto(f"{patient_url}{reverse('consult-room', args=[ready.pk])}")
    state_is(hana, "waiting")
    tanaka = signed_in_page(media_browser, hospital_url, "dr_tanaka")
    tanaka.goto(f"{hospital_url}{reverse('staff-consult-room', args=[ready.pk])}")

    call_started(hana, tanaka)
    decoding(hana)
    decoding(tanaka)

    # Hana reloads: her new connection again reaches Dr Tanaka's process through Redis.
    hana.reload()
    state_is(hana, "in_call")
    decoding(hana)
    decoding(tanaka)

    tanaka.once("dialog", lambda dialog: dialog.accept())
    tanaka.locator("#end-call").click()
    state_is(hana, "ended")
    consult = Consult.objects.get(booking=booking)
    assert (consult.state, consult.end_reason) == (ConsultState.ENDED, EndReason.SPECIALIST)
    ready.refresh_from_db()
    assert ready.status == Status.COMPLETED
