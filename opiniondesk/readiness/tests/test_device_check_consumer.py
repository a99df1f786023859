"""The device check's WebSocket, through the whole ASGI application (origin check, session)."""

import json

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client

from config.asgi import application
from opiniondesk.readiness.consumers import MAX_MESSAGES

# The consumer's session lookup runs in another thread: the data must be committed.
pytestmark = pytest.mark.django_db(transaction=True)

PATH = "/ws/device-check/"
ORIGIN = (b"origin", b"http://127.0.0.1:8000")


def _session_cookie(user) -> tuple[bytes, bytes]:
    client = Client()
    client.force_login(user)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    return (b"cookie", f"{settings.SESSION_COOKIE_NAME}={session}".encode())


@pytest.fixture
def hana(patient_hana):
    return patient_hana


def _run(scenario):
    return async_to_sync(scenario)()


def test_it_answers_a_signed_in_users_pings(hana):
    headers = [ORIGIN, _session_cookie(hana)]

    async def scenario():
        socket = WebsocketCommunicator(application, PATH, headers=headers)
        connected, __ = await socket.connect()
        assert connected
        for seq in range(5):
            await socket.send_to(text_data=json.dumps({"type": "ping", "seq": seq}))
            assert json.loads(await socket.receive_from()) == {"type": "pong", "seq": seq}
        await socket.disconnect()

    _run(scenario)


def test_it_refuses_a_signed_out_visitor():
    async def scenario():
        socket = WebsocketCommunicator(application, PATH, headers=[ORIGIN])
        connected, __ = await socket.connect()
        assert not connected

    _run(scenario)


def test_it_refuses_a_session_that_has_signed_out(hana):
    client = Client()
    client.force_login(hana)
    name = settings.SESSION_COOKIE_NAME
    cookie = (b"cookie", f"{name}={client.cookies[name].value}".encode())
    client.logout()

    async def scenario():
        socket = WebsocketCommunicator(application, PATH, headers=[ORIGIN, cookie])
        connected, __ = await socket.connect()
        assert not connected

    _run(scenario)


def test_it_refuses_another_sites_page(hana):
    headers = [(b"origin", b"https://evil.example.com"), _session_cookie(hana)]

    async def scenario():
        socket = WebsocketCommunicator(application, PATH, headers=headers)
        connected, __ = await socket.connect()
        assert not connected

    _run(scenario)


@pytest.mark.parametrize(
    "message",
    [
        "not json",
        json.dumps({"type": "pong", "seq": 1}),
        json.dumps({"type": "ping", "seq": "1"}),
        json.dumps({"type": "ping", "seq": True}),
        json.dumps({"type": "ping", "seq": 1, "pad": "x" * 300}),
    ],
)
def test_it_closes_on_anything_but_a_ping(hana, message):
    headers = [ORIGIN, _session_cookie(hana)]

    async def scenario():
        socket = WebsocketCommunicator(application, PATH, headers=headers)
        assert (await socket.connect())[0]
        await socket.send_to(text_data=message)
        assert await socket.receive_output() == {"type": "websocket.close", "code": 4400}

    _run(scenario)


def test_it_stops_answering_after_too_many_pings(hana):
    headers = [ORIGIN, _session_cookie(hana)]

    async def scenario():
        socket = WebsocketCommunicator(application, PATH, headers=headers)
        assert (await socket.connect())[0]
        for seq in range(MAX_MESSAGES):
            await socket.send_to(text_data=json.dumps({"type": "ping", "seq": seq}))
            await socket.receive_from()
        await socket.send_to(text_data=json.dumps({"type": "ping", "seq": MAX_MESSAGES}))
        assert await socket.receive_output() == {"type": "websocket.close", "code": 4400}

    _run(scenario)
