"""WebRTC in a real browser through a real coturn, relay only, with the credentials we issue.

Headless Debian Chromium (the root `browser` fixture) gets the ICE servers exactly as a page gets
them from `opiniondesk.core.ice`, with `iceTransportPolicy: "relay"`, so nothing but the relay
can carry the call: the patient's and the specialist's connections meet through coturn.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from opiniondesk.core.ice import consult_ice_servers

pytestmark = pytest.mark.browser

TTL = 600
CONSULT, HANA, TANAKA = 12, 34, 56

# The candidates one relay-only connection gathers, and the errors its TURN server gave.
GATHER = """
async (iceServers) => {
  const connection = new RTCPeerConnection({ iceServers, iceTransportPolicy: "relay" });
  const candidates = [], errors = [];
  connection.onicecandidateerror = (e) => errors.push({ code: e.errorCode, url: e.url });
  const complete = new Promise((resolve) => {
    connection.onicegatheringstatechange = () => {
      if (connection.iceGatheringState === "complete") resolve();
    };
  });
  connection.onicecandidate = (e) => {
    if (e.candidate) candidates.push({ type: e.candidate.type, address: e.candidate.address,
                                       port: e.candidate.port });
  };
  connection.createDataChannel("probe");
  await connection.setLocalDescription(await connection.createOffer());
  await Promise.race([complete, new Promise((r) => setTimeout(r, 15000))]);
  connection.close();
  return { candidates, errors };
}
"""

# Two relay-only connections, the patient's and the specialist's, in one page: the offer and
# the answer are exchanged once gathering is complete (no trickle), then a message is sent.
CALL = """
async ([patientServers, specialistServers]) => {
  const open = (iceServers) => new RTCPeerConnection({ iceServers, iceTransportPolicy: "relay" });
  const gathered = (connection) => new Promise((resolve) => {
    if (connection.iceGatheringState === "complete") return resolve();
    connection.onicegatheringstatechange = () => {
      if (connection.iceGatheringState === "complete") resolve();
    };
  });
  const patient = open(patientServers), specialist = open(specialistServers);
  const channel = patient.createDataChannel("consult");
  const opened = new Promise((resolve) => { channel.onopen = resolve; });
  const received = new Promise((resolve) => {
    specialist.ondatachannel = (e) => { e.channel.onmessage = (m) => resolve(m.data); };
  });
  await patient.setLocalDescription(await patient.createOffer());
  await gathered(patient);
  await specialist.setRemoteDescription(patient.localDescription);
  await specialist.setLocalDescription(await specialist.createAnswer());
  await gathered(specialist);
  await patient.setRemoteDescription(specialist.localDescription);
  await opened;
  channel.send("こんにちは、聞こえますか");
  const message = await received;
  // The nominated pair can show in the stats a moment after the first message (a busy
  // machine): ask again for up to five seconds.
  let stats = [], pair;
  for (let tries = 0; tries < 50 && !pair; tries += 1) {
    if (tries) await new Promise((resolve) => setTimeout(resolve, 100));
    stats = [...(await patient.getStats()).values()];
    pair = stats.find((s) => s.type === "candidate-pair" && s.state === "succeeded"
                             && s.nominated);
  }
  const candidate = (id) => {
    const found = stats.find((s) => s.id === id);
    return { type: found.candidateType, port: found.port };
  };
  patient.close();
  specialist.close();
  return {
    message, local: candidate(pair.localCandidateId), remote: candidate(pair.remoteCandidateId),
  };
}
"""


@pytest.fixture
def hospital_turn(settings, coturn):
    settings.WEBRTC_STUN_URLS = []
    settings.WEBRTC_TURN_URLS = [coturn.url]
    settings.WEBRTC_TURN_SECRET = coturn.secret
    settings.WEBRTC_TURN_TTL_SECONDS = TTL
    return coturn


@pytest.fixture
def page(browser):
    context = browser.new_context()
    page = context.new_page()
    page.goto("about:blank")
    yield page
    context.close()


def test_the_browser_gets_a_relay_candidate_with_our_credential(page, hospital_turn):
    servers = consult_ice_servers(consult_id=CONSULT, user_id=HANA, now=timezone.now())
    found = page.evaluate(GATHER, servers)
    relays = [c for c in found["candidates"] if c["type"] == "relay"]
    assert relays, found
    assert all(c["address"] == "127.0.0.1" for c in relays)
    assert all(c["port"] in hospital_turn.relay_ports for c in relays)
    assert found["candidates"] == relays  # relay only: nothing else is gathered
    assert found["errors"] == []


def test_the_browser_is_refused_with_401_for_an_expired_credential(page, hospital_turn):
    issued = timezone.now() - timedelta(seconds=TTL + 5)
    servers = consult_ice_servers(consult_id=CONSULT, user_id=HANA, now=issued)
    found = page.evaluate(GATHER, servers)
    assert found["candidates"] == []
    assert [e["code"] for e in found["errors"]] == [401], found


def test_a_call_runs_through_coturn_and_nothing_else(page, hospital_turn):
    now = timezone.now()
    patient = consult_ice_servers(consult_id=CONSULT, user_id=HANA, now=now)
    specialist = consult_ice_servers(consult_id=CONSULT, user_id=TANAKA, now=now)
    call = page.evaluate(CALL, [patient, specialist])
    assert call["message"] == "こんにちは、聞こえますか"
    assert call["local"]["type"] == call["remote"]["type"] == "relay"
    assert call["local"]["port"] in hospital_turn.relay_ports
    assert call["remote"]["port"] in hospital_turn.relay_ports
