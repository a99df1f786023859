"""The credentials we issue, tried against a real coturn on loopback (`coturn` fixture).

coturn is the judge: a relay allocated (its answer carries the relayed address and is signed
with the key of our credential), data that really crosses the relay, and 401 for what must be
refused.
"""

import contextlib
import socket
import subprocess
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from opiniondesk.core.ice import consult_ice_servers
from opiniondesk.core.ice_rules import turn_credential
from opiniondesk.testing.turn import (
    ALLOCATE_ERROR,
    ALLOCATE_OK,
    PERMISSION_OK,
    XOR_RELAYED_ADDRESS,
    TurnClient,
    free_port,
    integrity_ok,
)

TTL = 600


@pytest.fixture
def hospital_turn(settings, coturn):
    """The app's settings point at the test's coturn, as production's point at the hospital's."""
    settings.WEBRTC_STUN_URLS = []
    settings.WEBRTC_TURN_URLS = [coturn.url]
    settings.WEBRTC_TURN_SECRET = coturn.secret
    settings.WEBRTC_TURN_TTL_SECONDS = TTL
    return coturn


def _issued(*, consult_id=12, user_id=34, now=None):
    """The TURN entry the video room would hand to the browser of `user_id`."""
    (server,) = consult_ice_servers(
        consult_id=consult_id, user_id=user_id, now=now or timezone.now()
    )
    return server


def _allocate(coturn, username, credential):
    with TurnClient(coturn, username=username, credential=credential) as client:
        return client.allocate(), client.key


def test_coturn_allocates_a_relay_with_a_credential_we_issued(hospital_turn):
    issued = _issued()
    assert issued["urls"] == [hospital_turn.url]
    answer, key = _allocate(hospital_turn, issued["username"], issued["credential"])
    assert answer.type == ALLOCATE_OK, (answer.error, answer.reason)
    host, port = answer.address(XOR_RELAYED_ADDRESS)
    assert host == "127.0.0.1" and port in hospital_turn.relay_ports
    assert integrity_ok(answer, key)  # coturn derived the same password from its secret


def test_media_crosses_the_relay_both_ways(hospital_turn):
    issued = _issued()
    credential = {"username": issued["username"], "credential": issued["credential"]}
    with (
        TurnClient(hospital_turn, **credential) as client,
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as peer,
    ):
        peer.bind(("127.0.0.1", 0))
        peer.settimeout(3)
        relayed = client.allocate().address(XOR_RELAYED_ADDRESS)
        assert client.permit(peer.getsockname()).type == PERMISSION_OK
        client.send(peer.getsockname(), b"hello from the patient")
        data, source = peer.recvfrom(2048)
        assert (data, source) == (b"hello from the patient", relayed)  # from coturn's relay
        peer.sendto(b"hello from the specialist", relayed)
        assert client.receive() == (peer.getsockname(), b"hello from the specialist")


def test_coturn_refuses_an_expired_credential(hospital_turn):
    # Issued TTL + 5 seconds ago: it expired 5 seconds ago.
    issued = _issued(now=timezone.now() - timedelta(seconds=TTL + 5))
    answer, _ = _allocate(hospital_turn, issued["username"], issued["credential"])
    assert (answer.type, answer.error) == (ALLOCATE_ERROR, 401)
    assert answer.address(XOR_RELAYED_ADDRESS) is None


def test_coturn_refuses_a_credential_made_with_another_secret(hospital_turn, settings):
    settings.WEBRTC_TURN_SECRET = "another-secret-" + "x" * 32
    issued = _issued()
    answer, _ = _allocate(hospital_turn, issued["username"], issued["credential"])
    assert (answer.type, answer.error) == (ALLOCATE_ERROR, 401)


def test_a_credential_does_not_work_under_another_name(hospital_turn):
    """A participant cannot reuse their credential as someone else's, nor extend it."""
    hana = _issued(user_id=34)
    assert _allocate(hospital_turn, hana["username"], hana["credential"])[0].type == ALLOCATE_OK
    expires, _, purpose = hana["username"].partition(":")
    for username in (f"{expires}:c12u35", f"{int(expires) + 3600}:{purpose}"):
        answer, _ = _allocate(hospital_turn, username, hana["credential"])
        assert (answer.type, answer.error) == (ALLOCATE_ERROR, 401), username


def test_the_expiry_is_checked_by_coturns_clock_to_the_second(hospital_turn):
    """Valid a minute from now; expired a second ago (the REST scheme, made by hand)."""
    now = int(time.time())
    for expires, allowed in ((now + 60, True), (now - 1, False)):
        made = turn_credential(secret=hospital_turn.secret, expires=expires, purpose_id="c1u2")
        answer, _ = _allocate(hospital_turn, made.username, made.credential)
        assert (answer.type == ALLOCATE_OK) is allowed, (expires, answer.error)


def test_a_relay_allocated_in_time_goes_on_after_the_expiry(hospital_turn):
    """coturn checks the expiry when a client authenticates a new session, not afterwards: the
    TTL bounds when a call can start through the relay, not how long it lasts."""
    made = turn_credential(
        secret=hospital_turn.secret, expires=int(time.time()) + 1, purpose_id="c1u2"
    )
    credential = {"username": made.username, "credential": made.credential}
    with TurnClient(hospital_turn, **credential) as client:
        assert client.allocate().type == ALLOCATE_OK
        while time.time() < made.expires + 1.1:  # now past the expiry by a second
            time.sleep(0.1)
        assert client.permit(("127.0.0.1", 9)).type == PERMISSION_OK  # a signed request
    with TurnClient(hospital_turn, **credential) as late:
        assert late.allocate().error == 401


@pytest.fixture
def echo_peer(coturn, tmp_path):
    """coturn's own UDP echo peer (turnutils_peer), for its own client."""
    port = free_port()
    with (tmp_path / "peer.log").open("wb") as log:
        peer = subprocess.Popen(
            ["turnutils_peer", "-L", "127.0.0.1", "-p", str(port)], stdout=log, stderr=log
        )
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.settimeout(0.2)
            for _ in range(50):  # until it echoes
                probe.sendto(b"ping", ("127.0.0.1", port))
                with contextlib.suppress(OSError):
                    if probe.recv(64) == b"ping":
                        break
            else:
                pytest.fail("turnutils_peer did not start")
        yield port
    finally:
        peer.terminate()
        peer.wait(timeout=10)


def _uclient(coturn, peer_port, username, credential) -> str:
    """coturn's own client: allocate, send five messages of 100 bytes, get them back."""
    command = ["turnutils_uclient", "-p", str(coturn.port), "-e", "127.0.0.1"]
    command += ["-r", str(peer_port), "-X", "-n", "5", "-u", username, "-w", credential]
    done = subprocess.run(
        [*command, "127.0.0.1"], capture_output=True, text=True, timeout=30, check=False
    )
    return done.stdout + done.stderr


def test_coturns_own_client_relays_with_our_credential_and_not_with_an_expired_one(
    hospital_turn, echo_peer
):
    """A second witness, independent of our TURN client above."""
    issued = _issued()
    output = _uclient(hospital_turn, echo_peer, issued["username"], issued["credential"])
    assert "tot_send_bytes ~ 1000, tot_recv_bytes ~ 1000" in output, output

    expired = _issued(now=timezone.now() - timedelta(seconds=TTL + 5))
    output = _uclient(hospital_turn, echo_peer, expired["username"], expired["credential"])
    assert "tot_recv_bytes ~ 1000" not in output
    assert "Cannot complete Allocation" in output, output
    # The server's side of it: the expiry has passed, so it has no key for this user name.
    refused = f"check_stun_auth: Cannot find credentials of user <{expired['username']}>"
    assert hospital_turn.logged(refused)
