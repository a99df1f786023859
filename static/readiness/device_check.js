// The device check page (readiness/device_check.html): camera, microphone and the connection to
// the hospital, one after another; then the result is posted to the page's own URL.
// The script has no words of its own: every text comes from the page's json_script blocks, in the
// page's language.

const PING_COUNT = 5;
const OPEN_TIMEOUT_MS = 8000;
const PING_TIMEOUT_MS = 5000;
const FRAME_TIMEOUT_MS = 6000;
const LISTEN_MS = 4000;
const ICE_TIMEOUT_MS = 8000;
const SILENCE_RMS = 0.01; // quieter than this is silence (a room's hum is about 0.003)
const DARK_LUMA = 16; // average brightness (0–255) below which the picture counts as black
const ICE_TYPES = ["host", "srflx", "prflx", "relay"];

const readJson = (id) => JSON.parse(document.getElementById(id).textContent);
const config = readJson("device-check-config");
const texts = readJson("device-check-messages");
const byId = (id) => document.getElementById(id);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

class CheckError extends Error {
  constructor(code) {
    super(code);
    this.code = code;
  }
}

function fill(text, values) {
  const value = (whole, name) => (name in values ? String(values[name]) : whole);
  return text.replace(/%\((\w+)\)s/g, value);
}

function withTimeout(promise, ms, code = "timeout") {
  let timer;
  const late = new Promise((resolve, reject) => {
    timer = setTimeout(() => reject(new CheckError(code)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

async function until(condition, ms) {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    if (condition()) return true;
    await sleep(100);
  }
  return condition();
}

/** One check's card: its state (data-result), a big result line, and what to do. */
class CheckView {
  constructor(name) {
    this.section = byId(`check-${name}`);
    this.result = byId(`${name}-result`);
    this.help = byId(`${name}-help`);
    this.note = byId(`${name}-note`);
    this.waiting = this.result.textContent;
  }

  show(state, text, help = "", note = "") {
    this.section.dataset.result = state;
    this.result.textContent = text;
    for (const [element, value] of [[this.help, help], [this.note, note]]) {
      if (!element) continue;
      element.textContent = value;
      element.hidden = !value;
    }
  }

  reset() {
    this.show("", this.waiting);
  }
}

// getUserMedia's errors, by DOMException name (older browsers used other names).
const MEDIA_ERRORS = {
  NotAllowedError: "NotAllowedError",
  SecurityError: "NotAllowedError",
  PermissionDeniedError: "NotAllowedError",
  NotFoundError: "NotFoundError",
  DevicesNotFoundError: "NotFoundError",
  OverconstrainedError: "NotFoundError",
  NotReadableError: "NotReadableError",
  TrackStartError: "NotReadableError",
  AbortError: "NotReadableError",
};

function mediaProblem() {
  if (!window.isSecureContext) return "insecure";
  if (!navigator.mediaDevices?.getUserMedia) return "unsupported";
  return null;
}

/** A stream for `constraints`, or the failure to report: {stream} or {code, text}. */
async function openMedia(constraints, prefix) {
  const problem = mediaProblem();
  if (problem) return { code: problem, text: texts[problem] };
  try {
    return { stream: await navigator.mediaDevices.getUserMedia(constraints) };
  } catch (error) {
    const code = MEDIA_ERRORS[error?.name] ?? "failed";
    return { code, text: texts[`${prefix}_${code}`] ?? texts[`${prefix}_failed`] };
  }
}

function isBlack(video) {
  try {
    const canvas = document.createElement("canvas");
    canvas.width = 32;
    canvas.height = 24;
    const context = canvas.getContext("2d", { willReadFrequently: true });
    context.drawImage(video, 0, 0, canvas.width, canvas.height);
    const pixels = context.getImageData(0, 0, canvas.width, canvas.height).data;
    let sum = 0;
    for (let i = 0; i < pixels.length; i += 4) {
      sum += 0.299 * pixels[i] + 0.587 * pixels[i + 1] + 0.114 * pixels[i + 2];
    }
    return sum / (pixels.length / 4) < DARK_LUMA;
  } catch {
    return false; // no canvas: do not guess
  }
}

async function checkCamera(view, streams) {
  view.show("running", texts.camera_running);
  const opened = await openMedia({ video: true }, "camera");
  if (!opened.stream) {
    view.show("failed", opened.text);
    return { ok: false, detail: { result: "failed", error: opened.code } };
  }
  streams.push(opened.stream);
  const video = byId("camera-preview");
  video.srcObject = opened.stream;
  video.hidden = false;
  video.play().catch(() => {}); // muted: allowed to play; frames are what we wait for
  const [track] = opened.stream.getVideoTracks();
  const arrived = await until(
    () => track?.readyState === "live" && video.readyState >= 2 && video.videoWidth > 0,
    FRAME_TIMEOUT_MS,
  );
  if (!arrived) {
    view.show("failed", texts.camera_no_frames);
    return { ok: false, detail: { result: "failed", error: "no_frames" } };
  }
  const dark = isBlack(video);
  view.show(dark ? "warning" : "ok", texts.camera_ok, dark ? texts.camera_dark : "");
  const detail = { result: "ok", width: video.videoWidth, height: video.videoHeight, dark };
  return { ok: true, detail };
}

/** The loudest moment (RMS, 0–1) over `ms`, shown on the meter; null without Web Audio. */
async function listen(audio, stream, ms) {
  const meter = byId("mic-level");
  if (!audio) {
    await sleep(ms);
    return null;
  }
  if (audio.state === "suspended") await withTimeout(audio.resume(), 1000).catch(() => {});
  const source = audio.createMediaStreamSource(stream);
  const analyser = audio.createAnalyser();
  analyser.fftSize = 2048;
  source.connect(analyser);
  const samples = new Float32Array(analyser.fftSize);
  let peak = 0;
  const end = performance.now() + ms;
  try {
    while (performance.now() < end) {
      analyser.getFloatTimeDomainData(samples);
      let sum = 0;
      for (const sample of samples) sum += sample * sample;
      const rms = Math.sqrt(sum / samples.length);
      peak = Math.max(peak, rms);
      meter.value = Math.min(1, rms * 5); // speech is about 0.05–0.2
      await sleep(100);
    }
  } finally {
    source.disconnect();
    meter.value = 0;
  }
  return Math.min(1, Math.round(peak * 1000) / 1000);
}

async function checkMicrophone(view, streams, audio) {
  view.show("running", texts.mic_starting);
  const opened = await openMedia({ audio: true }, "mic");
  if (!opened.stream) {
    view.show("failed", opened.text);
    return { ok: false, detail: { result: "failed", error: opened.code } };
  }
  streams.push(opened.stream);
  view.show("running", texts.mic_running);
  const level = byId("mic-level").closest(".mic-level");
  level.hidden = false;
  // No level meter (an old browser, a failing audio device) is no reason to fail the microphone.
  const peak = await listen(audio, opened.stream, LISTEN_MS).catch(() => null);
  level.hidden = true;
  const [track] = opened.stream.getAudioTracks();
  if (track?.readyState !== "live") {
    view.show("failed", texts.mic_failed);
    return { ok: false, detail: { result: "failed", error: "ended" } };
  }
  // Silence is only a hint: a muted room or a quiet virtual device still has a working microphone.
  const heard = peak !== null && peak > SILENCE_RMS;
  view.show(heard ? "ok" : "warning", heard ? texts.mic_ok : texts.mic_quiet);
  const detail = { result: "ok", heard };
  if (peak !== null) detail.peak = peak;
  return { ok: true, detail };
}

/** Round trips (ms) of PING_COUNT pings to the hospital's server over a WebSocket. */
function measurePings() {
  return new Promise((resolve, reject) => {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const socket = new WebSocket(`${scheme}//${location.host}${config.wsPath}`);
    const times = [];
    let seq = 0;
    let sentAt = 0;
    let timer;
    let finished = false;
    const finish = (error) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      socket.close();
      if (error) reject(error);
      else resolve(times);
    };
    const wait = (ms) => {
      clearTimeout(timer);
      timer = setTimeout(() => finish(new CheckError("timeout")), ms);
    };
    const ping = () => {
      sentAt = performance.now();
      socket.send(JSON.stringify({ type: "ping", seq }));
      wait(PING_TIMEOUT_MS);
    };
    wait(OPEN_TIMEOUT_MS);
    socket.onopen = ping;
    socket.onmessage = (event) => {
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        return;
      }
      if (message?.type !== "pong" || message.seq !== seq) return;
      times.push(Math.round(performance.now() - sentAt));
      seq += 1;
      if (times.length >= PING_COUNT) finish();
      else ping();
    };
    socket.onclose = () => finish(new CheckError("closed")); // also after an error
  });
}

/** The kinds of ICE candidate the browser gathers with the hospital's STUN/TURN servers. */
async function gatherIce() {
  if (!window.RTCPeerConnection) return { types: [], error: "unsupported" };
  let connection;
  try {
    connection = new RTCPeerConnection({ iceServers: config.iceServers });
  } catch {
    return { types: [], error: "bad_servers" };
  }
  const types = new Set();
  try {
    const complete = new Promise((resolve) => {
      connection.onicecandidate = (event) => {
        if (!event.candidate) return resolve();
        const type = event.candidate.type ?? / typ (\w+)/.exec(event.candidate.candidate)?.[1];
        if (ICE_TYPES.includes(type)) types.add(type);
      };
      connection.onicegatheringstatechange = () => {
        if (connection.iceGatheringState === "complete") resolve();
      };
    });
    connection.createDataChannel("device-check");
    await connection.setLocalDescription(await connection.createOffer());
    // A slow or unreachable STUN/TURN server: keep what was found by then.
    await withTimeout(complete, ICE_TIMEOUT_MS).catch(() => {});
  } catch {
    return { types: [...types], error: "failed" };
  } finally {
    connection.close();
  }
  return { types: [...types] };
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function checkConnection(view) {
  view.show("running", texts.conn_running);
  const detail = { result: "failed" };
  let pings = [];
  try {
    pings = await measurePings();
  } catch (error) {
    detail.error = error?.code ?? "failed";
  }
  const ice = await gatherIce();
  detail.pings = pings;
  detail.ice = ice.types;
  if (ice.error) detail.ice_error = ice.error;
  if (pings.length < PING_COUNT) {
    view.show("failed", texts.conn_failed);
    return { ok: false, roundTripMs: null, detail };
  }
  const ms = median(pings);
  const slow = ms > config.slowMs;
  const speed = fill(slow ? texts.conn_slow : texts.conn_ok, { ms });
  if (ice.types.length === 0) {
    const text = ice.error === "unsupported" ? texts.ice_unsupported : texts.ice_failed;
    view.show("failed", text, "", speed);
    return { ok: false, roundTripMs: ms, detail };
  }
  const kinds = [...new Set(ice.types.map((type) => texts[`ice_${type}`]))];
  const routes = fill(texts.ice_found, { kinds: kinds.join(texts.list_separator) });
  detail.result = slow ? "slow" : "ok";
  view.show(slow ? "warning" : "ok", speed, "", routes);
  return { ok: true, roundTripMs: ms, detail };
}

async function save(result) {
  const token = document.querySelector("#device-check-form [name=csrfmiddlewaretoken]").value;
  let response;
  try {
    response = await fetch(config.postUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        Accept: "application/json",
        "X-CSRFToken": token,
      },
      body: JSON.stringify(result),
    });
  } catch {
    throw new Error(texts.save_failed);
  }
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(answer.error || texts.save_failed);
  return answer;
}

function showSummary(answer, error) {
  const summary = byId("summary");
  const passed = Boolean(answer?.passed);
  summary.dataset.passed = String(passed);
  summary.dataset.saved = String(Boolean(answer));
  byId("summary-passed").hidden = !passed;
  byId("summary-failed").hidden = passed;
  byId("summary-ready").hidden = !answer?.case_ready;
  byId("summary-error").textContent = error;
  byId("summary-error").hidden = !error;
  summary.hidden = false;
  summary.focus();
}

function newAudioContext() {
  const AudioContextClass = window.AudioContext ?? window.webkitAudioContext;
  try {
    return AudioContextClass ? new AudioContextClass() : null;
  } catch {
    return null;
  }
}

const root = byId("device-check");
const views = {
  camera: new CheckView("camera"),
  microphone: new CheckView("microphone"),
  connection: new CheckView("connection"),
};

// The camera stays on after a check that found it working, so the patient can see whether they
// are in the picture; it stops when the check runs again or the page is left.
let preview = [];

function stopPreview() {
  preview.forEach((stream) => stream.getTracks().forEach((track) => track.stop()));
  preview = [];
  const video = byId("camera-preview");
  video.srcObject = null;
  video.hidden = true;
  byId("camera-question").hidden = true;
}

async function run() {
  // Made here, in the click, so the browser lets it play (its autoplay rule wants a gesture).
  const audio = newAudioContext();
  const streams = [];
  let camera = { ok: false };
  stopPreview();
  root.dataset.state = "running";
  byId("start-check").hidden = true;
  byId("summary").hidden = true;
  document.querySelectorAll("#retry-check, [data-retry]").forEach((b) => { b.disabled = true; });
  Object.values(views).forEach((view) => view.reset());
  try {
    camera = await checkCamera(views.camera, streams);
    const microphone = await checkMicrophone(views.microphone, streams, audio);
    const connection = await checkConnection(views.connection);
    const result = {
      camera_ok: camera.ok,
      microphone_ok: microphone.ok,
      connection_ok: connection.ok,
      round_trip_ms: connection.roundTripMs,
      detail: {
        camera: camera.detail,
        microphone: microphone.detail,
        connection: connection.detail,
      },
    };
    byId("summary-error").hidden = true;
    let answer = null;
    let error = "";
    try {
      answer = await save(result);
    } catch (problem) {
      error = problem.message;
    }
    showSummary(answer, error);
  } finally {
    // The first stream is the camera's when it opened: kept for the preview if it works.
    const keep = camera.ok ? streams.slice(0, 1) : [];
    streams
      .filter((stream) => !keep.includes(stream))
      .forEach((stream) => stream.getTracks().forEach((track) => track.stop()));
    preview = keep;
    if (keep.length === 0) stopPreview();
    byId("camera-question").hidden = keep.length === 0;
    // The summary took the focus (and the screen): on a phone the picture and its question
    // would be scrolled away, so they are brought back on screen, the summary just below.
    if (keep.length > 0) byId("check-camera").scrollIntoView({ block: "start" });
    audio?.close().catch(() => {});
    document.querySelectorAll("#retry-check, [data-retry]").forEach((b) => { b.disabled = false; });
    root.dataset.state = "done";
  }
}

byId("start-check").addEventListener("click", run);
window.addEventListener("pagehide", stopPreview);
document.querySelectorAll("#retry-check, [data-retry]").forEach((button) => {
  button.addEventListener("click", run);
});
root.hidden = false;
