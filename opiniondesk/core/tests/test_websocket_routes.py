"""A WebSocket path no app serves is refused at the handshake, through the whole application
(origin check, session, routes), not failed with a server error."""

import logging

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator

from config.asgi import application

pytestmark = pytest.mark.django_db(transaction=True)


@async_to_sync
async def handshake(path: str) -> tuple[bool, int | None]:
    """(accepted, close code) of a WebSocket handshake on `path` from the site's origin."""
    socket = WebsocketCommunicator(
        application, path, headers=[(b"origin", b"http://127.0.0.1:8000")]
    )
    connected, code = await socket.connect()
    await socket.disconnect()
    return connected, code


@pytest.mark.parametrize("path", ["/ws/lobby/", "/ws/consults/abc/", "/ws/", "/nothing"])
def test_an_unknown_socket_path_is_refused(path, caplog):
    with caplog.at_level(logging.ERROR):
        assert handshake(path) == (False, 1008)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_a_known_path_still_reaches_its_consumer():
    # The consult's consumer refuses a forged token with its own code, not the catch-all's.
    connected, code = handshake("/ws/consults/1/?token=forged")
    assert not connected and code != 1008, code
