"""Everything works across processes (issue #17 item 3): two ASGI server processes share
PostgreSQL and Redis, as the workers behind the proxy of `make run-scaled` do. A session begun on
one is valid on the other, the rate limits and the staff idle timeout count and end there too,
a channel group message reaches a WebSocket of the other process, two task workers never run a
task twice and two sealers never seal an event twice.

The two servers start once for the module (each start costs seconds); the tests make their own
data and use client addresses of their own (X-Forwarded-For from loopback, believed by uvicorn
as from a proxy), so that their counts in the shared Redis never meet another test's.
"""

import asyncio
import json
import os
import re
import secrets
import subprocess
import sys
import time
from importlib import import_module

import httpx
import pytest
from django.conf import settings
from django.core.mail import EmailMessage
from django.db import connections, transaction
from django.test import Client, override_settings
from django.urls import reverse
from django_tasks_db.models import DBTaskResult
from websockets.asyncio.client import connect

from opiniondesk.accounts.activity import LAST_ACTIVITY_KEY
from opiniondesk.audit.models import AuditAction, AuditCheckpoint, AuditEvent, AuditSeal
from opiniondesk.audit.services import audit_record
from opiniondesk.audit.verify import verify
from opiniondesk.consults.consumers import join_token
from opiniondesk.consults.models import Consult
from opiniondesk.consults.services import consult_open
from opiniondesk.core.mail import queue_email, send_email
from opiniondesk.desk.tests.test_kill import Inbox, inbox  # noqa: F401 (a fixture)
from opiniondesk.testing.builders import ready_case
from opiniondesk.testing.processes import manage, site_env, start_server, stop, wait_until_up

pytestmark = [pytest.mark.postgresql, pytest.mark.django_db(transaction=True)]

REDIS_URL = os.environ.get("REDIS_URL_FOR_TESTS", "")
PASSWORD = "across-processes-2026"
ROOM_ALWAYS_OPEN = str(60 * 24 * 366)  # minutes: the booking is days away, real time runs on
SERVER_KEY: list[str] = []  # the servers' SECRET_KEY, which signs the sessions they write


@pytest.fixture(scope="module")
def servers(django_db_setup, django_db_blocker, static_root):
    """Two uvicorn processes on the test database, with Redis as cache and channel layer."""
    if not REDIS_URL:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but REDIS_URL_FOR_TESTS is not set")
        pytest.skip("REDIS_URL_FOR_TESTS is not set: the processes would share no cache")
    env = site_env(
        REDIS_URL=REDIS_URL,
        STATIC_ROOT=str(static_root),
        CONSULT_ROOM_OPENS_MINUTES=ROOM_ALWAYS_OPEN,
        PUBLIC_API_RATE="4/min",
    )
    started = []
    try:
        started = [start_server(env) for __ in range(2)]
        for server, url in started:
            wait_until_up(server, url)
        SERVER_KEY.append(env["SECRET_KEY"])
        yield [url for __, url in started]
    finally:
        for server, __ in started:
            stop(server)


def an_address() -> str:
    """A client address of this test's own (TEST-NET-2, never routed)."""
    return f"198.51.100.{secrets.randbelow(250) + 1}"


def browser(url: str, address: str, session: str | None = None) -> httpx.Client:
    cookies = {settings.SESSION_COOKIE_NAME: session} if session else None
    return httpx.Client(
        base_url=url, headers={"X-Forwarded-For": address}, cookies=cookies, timeout=30
    )


def sign_in(client: httpx.Client, login: str, password: str) -> httpx.Response:
    form = client.get(reverse("account_login"))
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
    return client.post(
        reverse("account_login"),
        data={"login": login, "password": password, "csrfmiddlewaretoken": token},
    )


@pytest.fixture
def hana(patient_hana, settings):
    """Hana, with a password the servers' hasher (Argon2) reads: the tests' is MD5."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
    patient_hana.set_password(PASSWORD)
    patient_hana.save(update_fields=["password"])
    return patient_hana


def session_of(user, url: str) -> str:
    """A session of the user, as the servers keep it: made here (force_login), then seen once by
    a server, which signs it again with its own SECRET_KEY (the test run's is its fallback) and
    so gives it a new key, as Django does after a key rotation."""
    client = Client()
    client.force_login(user)
    name = settings.SESSION_COOKIE_NAME
    first = httpx.get(f"{url}/", cookies={name: client.cookies[name].value}, timeout=30)
    assert name in first.cookies, "the server did not take the session"
    return first.cookies[name]


def test_a_session_begun_on_one_process_is_valid_on_the_other(servers, hana):
    one, other = servers
    address = an_address()
    with browser(one, address) as first:
        assert sign_in(first, "patient_hana", PASSWORD).status_code == 302
        session = first.cookies[settings.SESSION_COOKIE_NAME]
    with browser(other, address, session) as second:
        dashboard = second.get(reverse("dashboard"))
        assert dashboard.status_code == 200
        # Signing out there ends it on the first process too.
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', dashboard.text).group(1)
        assert (
            second.post(reverse("account_logout"), data={"csrfmiddlewaretoken": token}).status_code
            == 302
        )
    with browser(one, address, session) as first:
        assert first.get(reverse("dashboard")).status_code == 302  # to the sign-in page


def test_failed_sign_ins_count_across_processes(servers, hana):
    """5 failures in 5 minutes for one account (settings.ACCOUNT_RATE_LIMITS): 3 on one process
    and 2 on the other reach it; each process alone would have counted fewer."""
    one, other = servers
    address = an_address()
    with browser(one, address) as first, browser(other, address) as second:
        for client in (first, second, first, second, first):
            answer = sign_in(client, "patient_hana", "not-her-password")
            assert answer.status_code == 200
        # Now even her right password is refused, on either.
        for client in (second, first):
            answer = sign_in(client, "patient_hana", PASSWORD)
            assert answer.status_code != 302
            assert settings.SESSION_COOKIE_NAME not in client.cookies


def test_the_public_api_limit_counts_across_processes(servers):
    one, other = servers
    address = an_address()
    elsewhere = an_address()
    while elsewhere == address:  # 1 in 250: the "someone else" would be the same client
        elsewhere = an_address()
    path = reverse("api-departments")
    with browser(one, address) as first, browser(other, address) as second:
        statuses = [client.get(path).status_code for client in (first, second, first, second)]
        assert statuses == [200, 200, 200, 200]
        assert second.get(path).status_code == 429  # the 5th of 4/min, on either
        assert first.get(path).status_code == 429
    with browser(other, elsewhere) as someone_else:
        assert someone_else.get(path).status_code == 200


def idle(session_key: str, minutes: float) -> None:
    """As if the session's last request was this long ago, written in the store every process
    shares (signed with the servers' key, as they wrote it)."""
    with override_settings(SECRET_KEY=SERVER_KEY[-1]):
        store = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
        assert store.get(LAST_ACTIVITY_KEY), "a session the servers wrote"
        store[LAST_ACTIVITY_KEY] = time.time() - minutes * 60
        store.save()


@pytest.mark.parametrize("ends_on", [0, 1])
def test_the_staff_idle_timeout_is_enforced_from_either_process(servers, coordinator_sato, ends_on):
    queue = reverse("staff-queue")
    session = session_of(coordinator_sato, servers[0])
    address = an_address()
    clients = [browser(url, address, session) for url in servers]
    try:
        assert [c.get(queue).status_code for c in clients] == [200, 200]
        limit = settings.STAFF_IDLE_TIMEOUT_MINUTES
        idle(session, limit - 1)  # still within: either process lets her on
        assert clients[1 - ends_on].get(queue).status_code == 200
        idle(session, limit + 1)
        ended = clients[ends_on].get(queue)
        assert ended.status_code == 302
        assert reverse("account_login") in ended.headers["location"]
        # Signed out there: the other process does not know her either.
        assert clients[1 - ends_on].get(queue).status_code == 302
    finally:
        for client in clients:
            client.close()


def test_a_group_message_reaches_a_websocket_on_the_other_process(
    servers, patient_hana, dr_tanaka, settings
):
    """The specialist's lobby and the consult room on one process, the patient's waiting room
    on the other: her arrival, and the call's signalling, cross through Redis."""
    settings.CONSULT_ROOM_OPENS_MINUTES = int(ROOM_ALWAYS_OPEN)
    ready = ready_case()
    consult = consult_open(case=ready)
    hospital_url, patient_url = (url.replace("http://", "ws://") for url in servers)
    cookie = settings.SESSION_COOKIE_NAME
    tanaka, hana = session_of(dr_tanaka, servers[0]), session_of(patient_hana, servers[1])

    def socket(base, path, session):
        return connect(
            f"{base}{path}",
            origin=base.replace("ws://", "http://"),
            additional_headers={"Cookie": f"{cookie}={session}"},
            open_timeout=20,
        )

    async def next_of(websocket, kind):
        while True:
            message = json.loads(await asyncio.wait_for(websocket.recv(), 20))
            if message["type"] == kind:
                return message

    async def scenario():
        async with socket(hospital_url, "/ws/consults/lobby/", tanaka) as lobby:
            room = f"/ws/consults/{consult.pk}/?token={join_token(consult.pk, patient_hana.pk)}"
            async with socket(patient_url, room, hana) as patient:
                await patient.send(json.dumps({"type": "hello", "device": "d" * 32}))
                arrived = await next_of(lobby, "arrived")
                assert (arrived["consult"], arrived["case"]) == (consult.pk, ready.pk)
                room = f"/ws/consults/{consult.pk}/?token={join_token(consult.pk, dr_tanaka.pk)}"
                async with socket(hospital_url, room, tanaka) as hospital:
                    await next_of(hospital, "state")
                    candidate = {
                        "candidate": {"candidate": "candidate:1 1 udp 1 127.0.0.1 9 typ host"}
                    }
                    await hospital.send(json.dumps({"type": "signal", "payload": candidate}))
                    relayed = await next_of(patient, "signal")
                    assert relayed["payload"] == candidate

    asyncio.run(scenario())
    # Both sides' servers record the leaving after the sockets closed, on their own time: the
    # flush after the test must not meet those writes (a deadlock).
    wait_until(
        lambda: Consult.objects.filter(
            pk=consult.pk, patient_channel="", hospital_channel=""
        ).exists(),
        "the servers to record that both sides left",
    )


def test_two_task_workers_never_run_a_task_twice(servers, inbox):  # noqa: F811
    """Two db_worker processes let go at once on one queue of mails: each mail is sent once,
    each task claimed once, and both workers took part (the SMTP server answers slowly, so that
    they overlap)."""
    handler, port = inbox
    original = handler.handle_DATA

    async def slowly(server, session, envelope):
        await asyncio.sleep(0.1)
        return await original(server, session, envelope)

    handler.handle_DATA = slowly
    count = 24
    with transaction.atomic():
        for n in range(count):
            queue_email(
                EmailMessage(f"mail {n}", "body", "desk@example.jp", ["someone@example.jp"])
            )
    env = site_env(REDIS_URL=REDIS_URL, EMAIL_HOST="127.0.0.1", EMAIL_PORT=str(port))
    # Both let go at the same moment: the queue's table is locked until both wait for it.
    with connections["default"].cursor() as lock, transaction.atomic():
        lock.execute(f'LOCK TABLE "{DBTaskResult._meta.db_table}" IN ACCESS EXCLUSIVE MODE')
        workers = [
            manage(
                "db_worker",
                "--queue-name",
                "*",
                "--batch",
                "--no-startup-delay",
                f"--worker-id=worker-{n}",
                env=env,
            )
            for n in (1, 2)
        ]
        wait_until(
            lambda: (
                waiting_for_a_lock(lock) == 2
                or any(worker.poll() is not None for worker in workers)
            ),
            "both workers to wait for the queue",
            seconds=120,
        )
    try:
        for worker in workers:
            assert worker.wait(180) == 0
    finally:
        for worker in workers:
            stop(worker)
    subjects = sorted(message["subject"] for message in handler.messages)
    assert subjects == sorted(f"mail {n}" for n in range(count))  # each once
    rows = DBTaskResult.objects.filter(task_path=send_email.module_path)
    assert rows.count() == count  # no other mail was queued
    assert all(len(row.worker_ids) == 1 for row in rows)  # claimed once
    assert {row.worker_ids[0] for row in rows} == {"worker-1", "worker-2"}


def test_two_sealers_at_once_seal_each_event_once(servers, coordinator_sato):
    """Two `seal_audit_log` processes let go at the same moment on an empty chain (the table
    of checkpoints is locked until both wait for it), in small batches: every event is sealed
    once, in one chain without a gap, and the log verifies."""
    events = 400
    with transaction.atomic():
        for n in range(events):
            audit_record(action=AuditAction.READ, user=coordinator_sato, case_id=n)
    env = site_env(AUDIT_CHECKPOINT_DIR=str(settings.AUDIT_CHECKPOINT_DIR))
    table = AuditCheckpoint._meta.db_table
    with connections["default"].cursor() as lock, transaction.atomic():
        lock.execute(f'LOCK TABLE "{table}" IN ACCESS EXCLUSIVE MODE')
        sealers = [
            subprocess.Popen(
                [sys.executable, "manage.py", "seal_audit_log", "--lag=0", "--batch=10"],
                cwd=settings.BASE_DIR,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for __ in range(2)
        ]
        deadline = time.monotonic() + 120
        while waiting_for_a_lock(lock) < 2:
            assert all(sealer.poll() is None for sealer in sealers), "a sealer stopped"
            assert time.monotonic() < deadline, "the sealers did not reach the checkpoints"
            time.sleep(0.1)
    outputs = [sealer.communicate(timeout=300) for sealer in sealers]
    assert [sealer.returncode for sealer in sealers] == [0, 0], [err for __, err in outputs]
    sealed = [int(re.search(r"Sealed (\d+) events", out).group(1)) for out, __ in outputs]
    assert sum(sealed) == AuditEvent.objects.count() >= events
    assert AuditSeal.objects.count() == sum(sealed)
    assert AuditSeal.objects.values("event_id").distinct().count() == sum(sealed)
    positions = list(AuditSeal.objects.order_by("position").values_list("position", flat=True))
    assert positions == list(range(1, sum(sealed) + 1))
    report = verify(full=True)
    assert report.intact, report.faults


def wait_until(condition, what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def waiting_for_a_lock(cursor) -> int:
    # Inside a transaction the statistics are a snapshot: cleared, to see them now.
    cursor.execute("SELECT pg_stat_clear_snapshot()")
    cursor.execute(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    return int(cursor.fetchone()[0])
