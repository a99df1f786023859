"""The consult across two server processes that share PostgreSQL and Redis (the scale-out setup):
Hana's browser talks to one, Dr Tanaka's to the other; the call, a reload and the end still work,
because the processes keep nothing of a consult that the database and the channel layer do not.
"""

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from django.conf import settings
from django.db import connection
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
from opiniondesk.testing.browser import free_port
from opiniondesk.testing.builders import ready_case
from opiniondesk.testing.personas import persona

pytestmark = [
    pytest.mark.browser,
    pytest.mark.postgresql,
    pytest.mark.django_db(transaction=True),
]

REDIS_URL = os.environ.get("REDIS_URL_FOR_TESTS", "")
ROOT = Path(settings.BASE_DIR)


@pytest.fixture(scope="session")
def static_root(tmp_path_factory) -> Path:
    """The static files, collected once, as production serves them (servestatic)."""
    root = tmp_path_factory.mktemp("static")
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input", "-v0"],
        cwd=ROOT,
        env=os.environ | {"STATIC_ROOT": str(root)},
        check=True,
    )
    return root


def _database_url() -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host, port = db["HOST"] or "127.0.0.1", db["PORT"] or 5432
    return f"postgres://{db['USER']}{password}@{host}:{port}/{db['NAME']}"


@pytest.fixture
def two_servers(transactional_db, static_root):
    """Two uvicorn processes on the test database with Redis as the channel layer."""
    if not REDIS_URL:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but REDIS_URL_FOR_TESTS is not set")
        pytest.skip("REDIS_URL_FOR_TESTS is not set: the two-process consult is not exercised")
    env = os.environ | {
        "DATABASE_URL": _database_url(),
        "REDIS_URL": REDIS_URL,
        "SECRET_KEY": settings.SECRET_KEY,
        "DEMO_MODE": "false",
        "DEBUG": "false",
        "HTTPS_ONLY": "false",
        "STATIC_ROOT": str(static_root),
        # The booking is days away: open its waiting room now (the processes keep real time).
        "CONSULT_ROOM_OPENS_MINUTES": str(60 * 24 * 366),
        # The audit log's keys of this test run (a production server refuses to run without).
        "AUDIT_MAC_KEY_FILE": str(settings.AUDIT_MAC_KEY_FILE),
        "AUDIT_SIGNING_KEY_FILE": str(settings.AUDIT_SIGNING_KEY_FILE),
        "AUDIT_CHECKPOINT_DIR": str(settings.AUDIT_CHECKPOINT_DIR),
    }
    servers, urls = [], []
    for __ in range(2):
        port = free_port()
        servers.append(
            subprocess.Popen(
                [
                    str(Path(sys.executable).with_name("uvicorn")),
                    "config.asgi:application",
                    "--host=127.0.0.1",
                    f"--port={port}",
                    "--ws=websockets-sansio",
                    "--lifespan=off",
                    "--log-level=warning",
                ],
                cwd=ROOT,
                env=env,
            )
        )
        urls.append(f"http://127.0.0.1:{port}")
    try:
        for server, url in zip(servers, urls, strict=True):
            deadline = time.monotonic() + 30
            while True:
                assert server.poll() is None, "the server process stopped"
                try:
                    if httpx.get(f"{url}/", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, f"{url} did not start"
                time.sleep(0.2)
        yield urls
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(10)


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
