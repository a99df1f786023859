"""The README's production turnserver.conf, run as it is written: only its ports, certificate,
secrets and files are the test's own (loopback, a self-signed certificate, a temporary folder).

It proves what the README says of it: `turns:` (TLS) allocates a relay with a credential we
issue, every private peer range is refused, and two `static-auth-secret` lines both work.
"""

import datetime as dt
import re
import secrets
import ssl
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.utils import timezone

from opiniondesk.core.ice import consult_ice_servers
from opiniondesk.testing.turn import (
    ALLOCATE_OK,
    PERMISSION_ERROR,
    PERMISSION_OK,
    XOR_RELAYED_ADDRESS,
    Coturn,
    TurnClient,
    free_port,
    integrity_ok,
    running_turnserver,
    unprivileged_options,
)

README = Path(__file__).resolve().parents[3] / "README.md"
NAME = "turn.hospital.example.jp"


def readme_config() -> list[str]:
    text = README.read_text()
    section = text[text.index("### TURN for the video consults") :]
    return re.search(r"```ini\n(.*?)```", section, re.DOTALL).group(1).splitlines()


def _certificate(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, NAME)])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(NAME)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert, pkey = directory / "fullchain.pem", directory / "privkey.pem"
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    pkey.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert, pkey


@pytest.fixture(scope="module")
def production(turnserver, tmp_path_factory):
    """coturn started with the README's configuration file; the old secret of a change of
    secret as a second `static-auth-secret` line."""
    directory = tmp_path_factory.mktemp("coturn-readme")
    cert, pkey = _certificate(directory)
    low = 50_000 + secrets.randbelow(100) * 100
    server = Coturn(
        host="127.0.0.1",
        port=free_port(),
        tls_port=free_port(),
        secret=secrets.token_hex(32),
        relay_ports=range(low, low + 100),
        log=directory / "turnserver.log",
    )
    old_secret = secrets.token_hex(32)
    ours = {
        "listening-port": str(server.port),
        "tls-listening-port": str(server.tls_port),
        "cert": str(cert),
        "pkey": str(pkey),
        "min-port": str(server.relay_ports.start),
        "max-port": str(server.relay_ports.stop - 1),
        "static-auth-secret": server.secret,
    }
    lines, seen = [], set()
    for line in readme_config():
        key = line.partition("=")[0].strip()
        if key == "syslog":  # the test's log goes to its folder
            continue
        if key in ours:
            seen.add(key)
            line = f"{key}={ours[key]}"
        lines.append(line)
    assert seen == set(ours), "the README's turnserver.conf lost a line the test replaces"
    lines += [
        f"static-auth-secret={old_secret}",
        f"listening-ip={server.host}",
        f"relay-ip={server.host}",
    ]
    config = directory / "turnserver.conf"
    config.write_text("\n".join(lines) + "\n")
    options = ["-c", str(config), *unprivileged_options(directory, server.log)]
    with running_turnserver(options, server, directory):
        yield server, old_secret, cert


@pytest.fixture
def app_settings(settings, production):
    server, _, _ = production
    settings.WEBRTC_STUN_URLS = []
    settings.WEBRTC_TURN_URLS = [
        f"turn:{NAME}:{server.port}?transport=udp",
        f"turns:{NAME}:{server.tls_port}?transport=tcp",
    ]
    settings.WEBRTC_TURN_SECRET = server.secret
    settings.WEBRTC_TURN_TTL_SECONDS = 600
    return settings


def _credential():
    (server,) = consult_ice_servers(consult_id=12, user_id=34, now=timezone.now())
    return {"username": server["username"], "credential": server["credential"]}


def test_turns_over_tls_allocates_a_relay_with_our_credential(production, app_settings):
    server, _, cert = production
    tls = ssl.create_default_context(cafile=str(cert))  # the name and chain are checked
    with TurnClient(server, **_credential(), tls=tls, server_name=NAME) as client:
        assert client.socket.version() in {"TLSv1.2", "TLSv1.3"}
        answer = client.allocate()
        assert answer.type == ALLOCATE_OK, (answer.error, answer.reason)
        assert answer.address(XOR_RELAYED_ADDRESS)[1] in server.relay_ports
        assert integrity_ok(answer, client.key)


# Private, loopback, link-local and carrier-grade NAT addresses.
DENIED = ["10.1.2.3", "172.16.5.4", "192.168.1.1", "127.0.0.1", "169.254.1.1", "100.64.0.1"]


def test_no_private_address_is_reachable_through_the_relay(production, app_settings):
    server, _, _ = production
    with TurnClient(server, **_credential()) as client:
        assert client.allocate().type == ALLOCATE_OK
        for address in DENIED:
            answer = client.permit((address, 5000))
            assert (answer.type, answer.error) == (PERMISSION_ERROR, 403), address
        # A public address (TEST-NET-3): permitted, so the refusals above are the ranges'.
        assert client.permit(("203.0.113.5", 5000)).type == PERMISSION_OK


def test_both_secrets_work_while_the_secret_changes(production, app_settings):
    server, old_secret, _ = production
    for secret, allowed in ((server.secret, True), (old_secret, True), ("x" * 64, False)):
        app_settings.WEBRTC_TURN_SECRET = secret
        with TurnClient(server, **_credential()) as client:
            assert (client.allocate().type == ALLOCATE_OK) is allowed
