"""bench/browser_resend.py: the load test's people send a request again, once, when the server
resets the kept-alive connection before answering it, as a browser does; anything else fails
as before. Against a real socket server that resets a connection's second request."""

import socket
import struct
import threading
from collections.abc import Iterator

import pytest
import requests

from bench.browser_resend import RESENT, resend_like_a_browser


def read_request(conn: socket.socket) -> bytes | None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(body) < length:
        body += conn.recv(65536)
    return body


def reset(conn: socket.socket) -> None:
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()


class Server:
    """Answers a connection's first request and resets it at the second (a keep-alive
    connection closed while the request came in); with `always`, resets every request."""

    def __init__(self, always: bool = False) -> None:
        self.always = always
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.bodies: list[bytes] = []
        self.connections = 0
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self.handle, args=(conn,), daemon=True).start()

    def handle(self, conn: socket.socket) -> None:
        answered = 0
        while (body := read_request(conn)) is not None:
            if self.always or answered:
                reset(conn)
                return
            self.bodies.append(body)
            answer = f"connection {self.connections}".encode()
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(answer), answer))
            answered += 1
        conn.close()


@pytest.fixture(autouse=True)
def _nothing_resent_before() -> None:
    RESENT.clear()


@pytest.fixture
def server() -> Iterator[Server]:
    s = Server()
    yield s
    s.sock.close()


def test_a_plain_session_fails_on_the_reset_connection(server: Server) -> None:
    session = requests.Session()
    assert session.get(f"http://127.0.0.1:{server.port}/").status_code == 200
    with pytest.raises(requests.ConnectionError):
        session.get(f"http://127.0.0.1:{server.port}/")


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_the_request_is_sent_again_once_and_counted(server: Server, method: str) -> None:
    session = requests.Session()
    resend_like_a_browser(session)
    url = f"http://127.0.0.1:{server.port}/cases/1/"
    assert session.request(method, url, data=b"first").text == "connection 1"
    second = session.request(method, url, data=b"second")
    assert (second.status_code, second.text) == (200, "connection 2")
    assert server.bodies == [b"first", b"second"]  # the resend carried the body
    assert [r["url"] for r in RESENT] == ["/cases/1/"]
    assert "Connection" in RESENT[0]["error"]


def test_a_server_that_resets_every_time_fails_after_one_resend() -> None:
    server = Server(always=True)
    session = requests.Session()
    resend_like_a_browser(session)
    with pytest.raises(requests.ConnectionError):
        session.get(f"http://127.0.0.1:{server.port}/")
    assert (server.connections, len(RESENT)) == (2, 1)
    server.sock.close()


def test_a_refused_connection_is_not_resent() -> None:
    with socket.create_server(("127.0.0.1", 0)) as s:
        port = s.getsockname()[1]  # closed when the block ends: nothing listens there
    session = requests.Session()
    resend_like_a_browser(session)
    with pytest.raises(requests.ConnectionError):
        session.get(f"http://127.0.0.1:{port}/")
    assert RESENT == []
