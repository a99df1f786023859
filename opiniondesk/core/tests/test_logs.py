"""Structured logs: the request id goes in from the proxy (or is made), back on the answer and
onto every record of the request — through the middleware, the ASGI application, a WebSocket
and a task run by the worker — and the JSON lines parse, carry it and no one's name or address."""

import io
import json
import logging
import os
import re
import subprocess
import sys
from datetime import datetime

import pytest
from asgiref.sync import async_to_sync
from asgiref.testing import ApplicationCommunicator
from django.conf import settings
from django.tasks import task

from opiniondesk.core import logs

HEX32 = re.compile(r"[0-9a-f]{32}")


@pytest.fixture
def json_lines():
    """What the console handler would write with LOG_FORMAT=json, for this test's records."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.JsonFormatter())
    handler.addFilter(logs.RequestContextFilter())
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)


@pytest.mark.django_db
def test_the_proxys_id_comes_back_on_the_answer(client):
    response = client.get("/contact/", headers={"X-Request-ID": "0123456789abcdef-proxy"})
    assert response["X-Request-ID"] == "0123456789abcdef-proxy"


@pytest.mark.django_db
def test_without_one_an_id_is_made(client):
    first = client.get("/contact/")["X-Request-ID"]
    second = client.get("/contact/")["X-Request-ID"]
    assert HEX32.fullmatch(first) and HEX32.fullmatch(second) and first != second


@pytest.mark.parametrize(
    "incoming",
    [
        "short",
        "x" * 129,
        "has space in it",
        'quote"d-0123456',
        "line\nbreak-0123",
        "日本語のIDです12",
    ],
)
def test_a_malformed_id_is_replaced(incoming):
    made = logs.request_id_from(incoming)
    assert made != incoming and HEX32.fullmatch(made)


@pytest.mark.django_db
def test_a_malformed_incoming_id_is_replaced_on_the_answer(client):
    response = client.get("/contact/", headers={"X-Request-ID": "bad id; rm -rf"})
    assert HEX32.fullmatch(response["X-Request-ID"])


@pytest.mark.django_db
def test_every_json_line_of_a_request_parses_and_carries_its_id(client, json_lines):
    # A refused request: the security warning and the access line, both of this request.
    response = client.get("/cases/999999/", headers={"X-Request-ID": "req-0000000000000042"})
    assert response.status_code in (302, 404)
    lines = json_lines()
    assert lines, "nothing was logged"
    assert {line["request_id"] for line in lines} == {"req-0000000000000042"}
    access = [line for line in lines if line["logger"] == "opiniondesk.access"]
    assert len(access) == 1
    line = access[0]
    assert line["level"] == "INFO"
    assert line["path"] == "/cases/999999/"
    assert line["status"] == response.status_code
    assert line["method"] == "GET"
    assert isinstance(line["duration_ms"], float)
    assert datetime.fromisoformat(line["time"]).utcoffset() is not None  # a zone, ISO 8601
    assert line["message"].startswith(f"GET /cases/999999/ {response.status_code} ")


@pytest.mark.django_db
def test_a_signed_in_users_id_is_logged_never_their_name_or_address(
    client, patient_hana, json_lines
):
    client.force_login(patient_hana)
    response = client.get("/dashboard/", headers={"X-Request-ID": "req-hana-0000000001"})
    assert response.status_code == 200
    lines = json_lines()
    access = next(line for line in lines if line["logger"] == "opiniondesk.access")
    assert access["user_id"] == patient_hana.pk
    text = "\n".join(json.dumps(line, ensure_ascii=False) for line in lines)
    for personal in (
        patient_hana.username,
        patient_hana.email,
        patient_hana.last_name,
        patient_hana.first_name,
    ):
        assert personal and personal not in text


@pytest.mark.django_db
def test_secret_parts_of_a_path_are_not_logged(client, json_lines):
    token = "Sn8kQ2rJfXv0aLdT7wYc4pHu"
    client.get(f"/upload/{token}/")
    client.get(f"/opinion/{token}/")
    text = json.dumps(json_lines())
    assert token not in text
    assert "/upload/<token>/" in text and "/opinion/<token>/" in text


@pytest.mark.django_db
def test_the_health_probe_is_not_an_access_line(client, json_lines):
    assert client.get("/healthz").status_code == 200
    assert not [line for line in json_lines() if line["logger"] == "opiniondesk.access"]


def test_the_readable_format_shows_the_id():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "hello %s", ("there",), None)
    token = logs.begin("req-readable-000001")
    try:
        logs.RequestContextFilter().filter(record)
    finally:
        logs.end(token)
    assert logs.TextFormatter().format(record) == "[req-readable-000001] hello there"
    outside = logging.LogRecord("x", logging.INFO, __file__, 1, "hello", (), None)
    logs.RequestContextFilter().filter(outside)
    assert logs.TextFormatter().format(outside) == "hello"


def _environment(**extra):
    env = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME"}}
    return env | {"SECRET_KEY": "test-only-secret-key", "DEMO_MODE": "true"} | extra


def test_log_format_json_makes_the_console_write_json_lines():
    code = "import logging; logging.getLogger('opiniondesk.x').warning('hello %s', 'json')"
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=settings.BASE_DIR,
        env=_environment(LOG_FORMAT="json"),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    line = json.loads(result.stderr.strip().splitlines()[-1])
    assert line["message"] == "hello json" and line["logger"] == "opiniondesk.x"
    assert line["level"] == "WARNING"

    refused = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=settings.BASE_DIR,
        env=_environment(LOG_FORMAT="xml"),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert refused.returncode != 0 and "LOG_FORMAT must be" in refused.stderr


# --- Through the ASGI application, as uvicorn runs it -------------------------------------------


async def _asgi_get(app, path, headers=()):
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        # As the TLS proxy forwards it: the application may have been built (its middleware
        # loaded) before this test's plain-HTTP settings, with the HTTPS redirect on.
        "scheme": "https",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [(b"host", b"127.0.0.1"), *headers],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    communicator = ApplicationCommunicator(app, scope)
    await communicator.send_input({"type": "http.request", "body": b""})
    start = await communicator.receive_output(timeout=10)
    while (await communicator.receive_output(timeout=10)).get("more_body"):
        pass
    return start["status"], dict(start["headers"])


@pytest.fixture
def asgi_application():
    """The site's ASGI application (imported first: its django.setup() configures logging)."""
    from config.asgi import application

    return application


@pytest.mark.django_db
def test_the_asgi_application_carries_the_id(asgi_application, json_lines):
    status, headers = async_to_sync(_asgi_get)(
        asgi_application, "/contact/", [(b"x-request-id", b"asgi-000000000000001")]
    )
    assert status == 200
    assert headers[b"x-request-id"] == b"asgi-000000000000001"
    access = [line for line in json_lines() if line["logger"] == "opiniondesk.access"]
    assert [line["request_id"] for line in access] == ["asgi-000000000000001"]


def test_an_answer_django_never_saw_carries_an_id_too(asgi_application):
    """The body limit's 413 is sent before Django: the wrapper adds the header."""
    too_large = str(settings.REQUEST_MAX_BYTES + 1).encode()
    status, headers = async_to_sync(_asgi_get)(
        asgi_application, "/", [(b"content-length", too_large)]
    )
    assert status == 413
    assert HEX32.fullmatch(headers[b"x-request-id"].decode())


def test_a_websockets_records_carry_its_id(json_lines):
    async_to_sync(_websocket)()
    [line] = json_lines()
    assert line["request_id"] == "ws-00000000000000001"
    assert line["path"] == "/ws/consults/1/"


async def _websocket():
    async def consumer(scope, receive, send):
        logging.getLogger("opiniondesk.consults").warning("in the room")
        await send({"type": "websocket.close"})

    app = logs.RequestIdASGI(consumer)
    scope = {
        "type": "websocket",
        "path": "/ws/consults/1/",
        "headers": [(b"x-request-id", b"ws-00000000000000001")],
    }
    communicator = ApplicationCommunicator(app, scope)
    await communicator.send_input({"type": "websocket.connect"})
    await communicator.receive_output(timeout=5)
    await communicator.wait(timeout=5)


# --- Tasks ----------------------------------------------------------------------------------------


@task()
def logging_task() -> None:
    logging.getLogger("opiniondesk.tasks").warning("working")


@pytest.mark.django_db
def test_a_tasks_records_carry_its_id(run_tasks, json_lines):
    result = logging_task.enqueue()
    run_tasks()
    working = [line for line in json_lines() if line["message"] == "working"]
    assert [line["request_id"] for line in working] == [f"task-{result.id}"]
    assert logs.current() is None, "the task's id does not stay after it"
