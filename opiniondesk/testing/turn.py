"""A real coturn on loopback for the tests, and a small TURN client (RFC 5389/5766, stdlib only).

`running_coturn` starts Debian's `turnserver` as the README's production setup has it
(`use-auth-secret`, `static-auth-secret`, `no-cli`), but on 127.0.0.1 without TLS, and with
loopback peers allowed so that a test can be the peer. `TurnClient` speaks just enough TURN to
allocate a relay with a credential, open a permission and send data through the relay, and it
reports what the server answered.
"""

import contextlib
import hashlib
import hmac
import ipaddress
import os
import random
import secrets
import shutil
import socket
import ssl
import struct
import subprocess
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

TURNSERVER = shutil.which("turnserver")
REALM = "opiniondesk.test"

MAGIC_COOKIE = 0x2112A442
# Message types (method and class, RFC 5389 §6).
BINDING, BINDING_OK = 0x0001, 0x0101
ALLOCATE, ALLOCATE_OK, ALLOCATE_ERROR = 0x0003, 0x0103, 0x0113
PERMISSION, PERMISSION_OK, PERMISSION_ERROR = 0x0008, 0x0108, 0x0118
SEND_INDICATION, DATA_INDICATION = 0x0016, 0x0017
# Attributes.
USERNAME, MESSAGE_INTEGRITY, ERROR_CODE = 0x0006, 0x0008, 0x0009
XOR_PEER_ADDRESS, DATA, REALM_ATTR, NONCE = 0x0012, 0x0013, 0x0014, 0x0015
XOR_RELAYED_ADDRESS, REQUESTED_TRANSPORT, FINGERPRINT = 0x0016, 0x0019, 0x8028
UDP = 17


@dataclass(frozen=True)
class Coturn:
    """A running turnserver: where it listens, its shared secret and its relay ports."""

    host: str
    port: int
    secret: str
    relay_ports: range
    log: Path
    tls_port: int | None = None

    @property
    def url(self) -> str:
        return f"turn:{self.host}:{self.port}?transport=udp"

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def logged(self, text: str, timeout: float = 5.0) -> bool:
        """Whether the server's log says `text` (within `timeout`: it may still be writing)."""
        deadline = time.monotonic() + timeout
        while text not in self.log_text():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True


@dataclass
class Answer:
    """What the server answered a request: its type, error code and attributes."""

    type: int
    attributes: dict[int, bytes]
    raw: bytes = field(repr=False)

    @property
    def error(self) -> int | None:
        value = self.attributes.get(ERROR_CODE)
        return None if value is None else (value[2] & 0x07) * 100 + value[3]

    @property
    def reason(self) -> str:
        value = self.attributes.get(ERROR_CODE, b"\0\0\0\0")
        return value[4:].decode(errors="replace")

    def address(self, attribute: int) -> tuple[str, int] | None:
        value = self.attributes.get(attribute)
        return None if value is None else xor_address(value)


def free_port() -> int:
    """A port free for both UDP and TCP on loopback (coturn listens on both)."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind(("127.0.0.1", 0))
            port: int = udp.getsockname()[1]
            with socket.socket() as tcp:
                try:
                    tcp.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port


@contextlib.contextmanager
def running_coturn(directory: Path) -> Iterator[Coturn]:
    """coturn with use-auth-secret and a random secret on a free loopback port, for the tests."""
    # A window of relay ports of its own, so that two test workers rarely share one.
    low = random.randrange(50_000, 60_000, 100)
    server = Coturn(
        host="127.0.0.1",
        port=free_port(),
        secret=secrets.token_hex(32),
        relay_ports=range(low, low + 100),
        log=directory / "turnserver.log",
    )
    options = [
        "-n",  # no configuration file: /etc/turnserver.conf is not ours
        f"--listening-ip={server.host}",
        f"--listening-port={server.port}",
        f"--relay-ip={server.host}",
        f"--min-port={server.relay_ports.start}",
        f"--max-port={server.relay_ports.stop - 1}",
        "--use-auth-secret",
        f"--static-auth-secret={server.secret}",
        f"--realm={REALM}",
        "--allow-loopback-peers",  # the test is the peer; never in production
        "--no-tls",
        "--no-dtls",
        "--no-cli",
        "--no-rfc5780",  # it would listen on a second port
        *unprivileged_options(directory, server.log),
    ]
    with running_turnserver(options, server, directory):
        yield server


def unprivileged_options(directory: Path, log: Path) -> list[str]:
    """Where turnserver keeps its files when it runs as anyone, in `directory`."""
    return [
        f"--pidfile={directory / 'turnserver.pid'}",
        f"--userdb={directory / 'turndb'}",
        f"--log-file={log}",
        "--simple-log",
        "--no-stdout-log",
    ]


@contextlib.contextmanager
def running_turnserver(options: list[str], server: Coturn, directory: Path) -> Iterator[Coturn]:
    """Start turnserver with `options` in `directory`, wait until it answers a STUN Binding
    request on `server`'s port, and stop it afterwards."""
    if TURNSERVER is None:
        raise RuntimeError("turnserver is not installed (apt-get install coturn)")
    with (directory / "turnserver.out").open("wb") as out:
        process = subprocess.Popen(
            [TURNSERVER, *options], stdout=out, stderr=subprocess.STDOUT, cwd=directory
        )
    try:
        _wait_until_it_answers(process, server)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_it_answers(process: subprocess.Popen[bytes], server: Coturn) -> None:
    deadline = time.monotonic() + 15
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.settimeout(0.2)
        while True:
            if process.poll() is not None:
                raise RuntimeError(
                    f"turnserver exited with {process.returncode}:\n{server.log_text()[-3000:]}"
                )
            if time.monotonic() > deadline:
                raise RuntimeError(f"turnserver did not answer:\n{server.log_text()[-3000:]}")
            request = stun_message(BINDING, os.urandom(12), [])
            probe.sendto(request, (server.host, server.port))
            try:
                reply, _ = probe.recvfrom(2048)
            except OSError:
                continue
            if parse(reply).type == BINDING_OK:
                return


# The STUN message format (RFC 5389 §6, §15).


def _attribute(kind: int, value: bytes) -> bytes:
    return struct.pack("!HH", kind, len(value)) + value + b"\0" * (-len(value) % 4)


def stun_message(
    kind: int, transaction: bytes, attributes: list[tuple[int, bytes]], key: bytes | None = None
) -> bytes:
    """A STUN message; with `key`, signed with MESSAGE-INTEGRITY, then FINGERPRINT as WebRTC
    browsers send it."""
    body = b"".join(_attribute(k, v) for k, v in attributes)

    def header(length: int) -> bytes:
        return struct.pack("!HHI", kind, length, MAGIC_COOKIE) + transaction

    if key is not None:
        # The integrity covers the header with the length as if the attribute were there.
        mac = hmac.new(key, header(len(body) + 24) + body, hashlib.sha1).digest()
        body += _attribute(MESSAGE_INTEGRITY, mac)
    crc = zlib.crc32(header(len(body) + 8) + body) ^ 0x5354554E
    body += _attribute(FINGERPRINT, struct.pack("!I", crc))
    return header(len(body)) + body


def parse(data: bytes) -> Answer:
    kind, length, cookie = struct.unpack("!HHI", data[:8])
    if cookie != MAGIC_COOKIE or len(data) != 20 + length:
        raise ValueError("not a STUN message")
    attributes: dict[int, bytes] = {}
    offset = 20
    while offset < len(data):
        attribute, size = struct.unpack("!HH", data[offset : offset + 4])
        attributes.setdefault(attribute, data[offset + 4 : offset + 4 + size])
        offset += 4 + size + (-size % 4)
    return Answer(kind, attributes, data)


def integrity_ok(answer: Answer, key: bytes) -> bool:
    """Whether the server signed its answer with the key of our credential (RFC 5389 §15.4):
    it proves the server derived the same password from its secret."""
    data, offset = answer.raw, 20
    while offset < len(data):
        attribute, size = struct.unpack("!HH", data[offset : offset + 4])
        if attribute == MESSAGE_INTEGRITY:
            header = data[:2] + struct.pack("!H", offset + 24 - 20) + data[4:20]
            expected = hmac.new(key, header + data[20:offset], hashlib.sha1).digest()
            return hmac.compare_digest(expected, data[offset + 4 : offset + 24])
        offset += 4 + size + (-size % 4)
    return False


def xor_address(value: bytes) -> tuple[str, int]:
    family, port = struct.unpack("!xBH", value[:4])
    if family != 0x01:
        raise ValueError("only IPv4 is used on loopback")
    address = struct.unpack("!I", value[4:8])[0] ^ MAGIC_COOKIE
    return str(ipaddress.IPv4Address(address)), port ^ (MAGIC_COOKIE >> 16)


def xor_address_value(host: str, port: int) -> bytes:
    address = int(ipaddress.IPv4Address(host)) ^ MAGIC_COOKIE
    return struct.pack("!xBHI", 0x01, port ^ (MAGIC_COOKIE >> 16), address)


def long_term_key(username: str, realm: str, password: str) -> bytes:
    """RFC 5389 §15.4 (SASLprep leaves coturn's base64 credentials as they are)."""
    return hashlib.md5(f"{username}:{realm}:{password}".encode()).digest()


class TurnClient:
    """One TURN client with a username and credential from the app: over UDP, or with `tls`
    over TLS to the server's TLS port (as `turns:` URLs are used)."""

    def __init__(
        self,
        server: Coturn,
        *,
        username: str,
        credential: str,
        tls: ssl.SSLContext | None = None,
        server_name: str = "",
    ) -> None:
        self.username, self.credential = username, credential
        self.realm = b""
        self.nonce = b""
        self.stream = tls is not None
        if tls is None:
            self.server = (server.host, server.port)
            self.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self.socket.bind(("127.0.0.1", 0))
        else:
            assert server.tls_port is not None
            self.server = (server.host, server.tls_port)
            connection = socket.create_connection(self.server, timeout=3)
            self.socket = tls.wrap_socket(connection, server_hostname=server_name or None)
        self.socket.settimeout(3)

    def _send(self, message: bytes) -> None:
        if self.stream:
            self.socket.sendall(message)
        else:
            self.socket.sendto(message, self.server)

    def _receive(self) -> bytes:
        if not self.stream:
            return self.socket.recvfrom(4096)[0]
        header = self._read(20)  # over a stream, each message says its length
        return header + self._read(struct.unpack("!H", header[2:4])[0])

    def _read(self, size: int) -> bytes:
        data = b""
        while len(data) < size:
            chunk = self.socket.recv(size - len(data))
            if not chunk:
                raise ConnectionError("the server closed the connection")
            data += chunk
        return data

    def close(self) -> None:
        self.socket.close()

    def __enter__(self) -> "TurnClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def key(self) -> bytes:
        return long_term_key(self.username, self.realm.decode(), self.credential)

    def _ask(self, kind: int, attributes: list[tuple[int, bytes]], signed: bool) -> Answer:
        transaction = os.urandom(12)
        if signed:
            attributes = [
                (USERNAME, self.username.encode()),
                (REALM_ATTR, self.realm),
                (NONCE, self.nonce),
                *attributes,
            ]
        self._send(stun_message(kind, transaction, attributes, self.key if signed else None))
        while True:
            data = self._receive()
            if data[8:20] == transaction:
                return parse(data)

    def allocate(self) -> Answer:
        """Allocate a UDP relay as a browser does: unsigned first, which the server answers
        with 401 and its realm and nonce, then signed with the credential. Returns the answer
        to the signed request."""
        transport = [(REQUESTED_TRANSPORT, bytes([UDP, 0, 0, 0]))]
        challenge = self._ask(ALLOCATE, transport, signed=False)
        if challenge.error != 401 or NONCE not in challenge.attributes:
            raise AssertionError(f"expected a 401 challenge, not {challenge}")
        self.realm, self.nonce = challenge.attributes[REALM_ATTR], challenge.attributes[NONCE]
        return self._ask(ALLOCATE, transport, signed=True)

    def permit(self, peer: tuple[str, int]) -> Answer:
        return self._ask(PERMISSION, [(XOR_PEER_ADDRESS, xor_address_value(*peer))], signed=True)

    def send(self, peer: tuple[str, int], data: bytes) -> None:
        attributes = [(XOR_PEER_ADDRESS, xor_address_value(*peer)), (DATA, data)]
        self._send(stun_message(SEND_INDICATION, os.urandom(12), attributes))

    def receive(self) -> tuple[tuple[str, int], bytes]:
        """The next Data indication: who sent it through the relay, and what."""
        while True:
            answer = parse(self._receive())
            if answer.type == DATA_INDICATION:
                peer = answer.address(XOR_PEER_ADDRESS)
                assert peer is not None
                return peer, answer.attributes[DATA]
