// The video consult room (consults/room.html for the patient's side, consults/staff/room.html
// for the specialist): the waiting room, who is present, the one-to-one call, the clock, the
// chat and the specialist's notes. Plain ES module, no framework.
//
// The server decides everything that counts: the page sends what the person does over the
// WebSocket (consults/consumers.py) and shows the state the server sends back. Times come from
// the server; this page only counts the seconds between two of its messages. Audio and video go
// peer to peer (or through the hospital's TURN server), never through the web server, and
// nothing is recorded. The page has no words of its own: they come from json_script.

const readJson = (id) => JSON.parse(document.getElementById(id).textContent);
const config = readJson("consult-config");
const texts = readJson("consult-texts");
const byId = (id) => document.getElementById(id);
const hospital = config.side === "hospital";
const room = byId("room");

const RECONNECT_MAX_MS = 10000;
const STATS_MS = 2000;
const POOR_CHECKS = 3; // this many poor checks in a row turn the picture off
const NOTES_DELAY_MS = 1500;
const CLOSE_REFUSED = 4009;
const CLOSE_TAKEN_OVER = 4010;
const CLOSE_GONE = 4404;

function fill(text, values) {
  return text.replace(/%\((\w+)\)s/g, (whole, name) => (name in values ? String(values[name]) : whole));
}

function deviceId() {
  // Per tab, kept over a reload: a reload is the same device, a second tab is another one.
  const key = `consult-device-${config.consultId}`;
  let id = sessionStorage.getItem(key);
  if (!id) {
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    id = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    sessionStorage.setItem(key, id);
  }
  return id;
}

const view = {
  status(text) {
    byId("room-status").textContent = text;
  },
  show(id, shown = true) {
    const element = byId(id);
    if (element) element.hidden = !shown;
  },
  beep(times = 1) {
    try {
      const audio = new AudioContext();
      for (let i = 0; i < times; i += 1) {
        const tone = audio.createOscillator();
        const gain = audio.createGain();
        tone.frequency.value = 880;
        gain.gain.value = 0.08;
        tone.connect(gain).connect(audio.destination);
        tone.start(audio.currentTime + i * 0.35);
        tone.stop(audio.currentTime + i * 0.35 + 0.2);
      }
    } catch {
      // No sound (autoplay rules): the banner still says it.
    }
  },
};

// The connection to the server.

const connection = {
  socket: null,
  closedForGood: false,
  takeover: false,
  delay: 1000,
  heartbeat: null,
  seq: 0,
  first: true,

  iceAt: Date.now(),

  // A new join token, and a new TURN credential with it (both expire).
  async renew() {
    let fresh;
    try {
      const response = await fetch(config.tokenUrl, { credentials: "same-origin", redirect: "error" });
      if (!response.ok) throw new Error(String(response.status));
      fresh = await response.json();
    } catch {
      return null; // offline, or signed out: the caller says so and tries again
    }
    config.iceServers = fresh.iceServers;
    config.iceTransportPolicy = fresh.iceTransportPolicy;
    this.iceAt = Date.now();
    return fresh.token;
  },

  async open() {
    let token = config.token;
    if (!this.first) {
      token = await this.renew();
      if (token === null) {
        view.status(texts.rejoin_failed);
        this.retry();
        return;
      }
    }
    this.first = false;
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const socket = new WebSocket(
      `${scheme}//${location.host}${config.wsPath}?token=${encodeURIComponent(token)}`,
    );
    this.socket = socket;
    socket.addEventListener("open", () => {
      this.delay = 1000;
      if (!hospital) this.send({ type: "hello", device: deviceId(), takeover: this.takeover });
      this.takeover = false;
      this.heartbeat = setInterval(() => {
        this.seq += 1;
        this.send({ type: "ping", seq: this.seq });
      }, config.heartbeatMs);
    });
    socket.addEventListener("message", (event) => receive(JSON.parse(event.data)));
    socket.addEventListener("close", (event) => this.closed(event.code));
  },

  closed(code) {
    clearInterval(this.heartbeat);
    if (this.closedForGood || [CLOSE_REFUSED, CLOSE_TAKEN_OVER, CLOSE_GONE].includes(code)) return;
    view.status(texts.reconnecting);
    room.dataset.connection = "lost";
    this.retry();
  },

  retry() {
    setTimeout(() => this.open(), this.delay);
    this.delay = Math.min(this.delay * 2, RECONNECT_MAX_MS);
  },

  send(message) {
    if (this.socket && this.socket.readyState === WebSocket.OPEN) {
      this.socket.send(JSON.stringify(message));
    }
  },
};

// What the server says.

let current = null; // the last state from the server
let serverOffset = 0; // server clock minus this page's clock, from the last state
let reconnecting = false;
let signals = Promise.resolve();

function receive(message) {
  switch (message.type) {
    case "state":
      applyState(message);
      break;
    case "refused":
      connection.closedForGood = true;
      byId("refused-text").textContent = texts.refused_device;
      byId("take-over").textContent = texts.take_over;
      view.show("refused");
      view.status("");
      break;
    case "taken_over":
      connection.closedForGood = true;
      call.stop();
      room.dataset.state = "taken_over";
      view.status(texts.taken_over);
      break;
    case "closed":
      connection.closedForGood = true;
      view.status(fill(texts.closed, { message: message.message }));
      break;
    case "signal":
      // One at a time, in order: a candidate must not overtake the offer it belongs to.
      signals = signals.then(() => call.signal(message.payload)).catch((error) => console.warn(error));
      break;
    case "chat":
      chat.add(message);
      break;
    case "warning":
      warn(message.kind);
      break;
    case "notes_saved":
      notes.saved(message.at);
      break;
    case "error":
      view.status(fill(texts.error, { message: message.message }));
      break;
    default:
      break;
  }
}

function applyState(state) {
  const before = current;
  current = state;
  serverOffset = Date.parse(state.server_now) - Date.now();
  room.dataset.state = state.state;
  if (room.dataset.connection === "lost") {
    room.dataset.connection = "ok";
    reconnecting = true;
  }
  view.show("refused", false);
  clock.render();
  if (state.state === "waiting") waiting(state);
  else if (state.state === "called") called(state, before);
  else if (state.state === "in_call") inCall(state, before);
  else ended(state);
  if (reconnecting && state.state !== "ended") {
    view.status(texts.reconnected);
    reconnecting = false;
  }
}

function waiting(state) {
  view.show("present", false);
  view.show("start-tools", false);
  if (hospital) {
    view.show("waiting-tools");
    const here = byId("patient-waiting");
    here.textContent = state.patient_waiting ? texts.waiting_patient : texts.no_patient;
    here.dataset.waiting = String(state.patient_waiting);
    byId("message-text").placeholder = texts.message_placeholder;
    const button = byId("call-in");
    button.textContent = texts.call_in;
    button.disabled = !state.patient_waiting;
    view.status(here.textContent);
  } else {
    view.status(texts.waiting);
  }
}

function called(state, before) {
  view.show("waiting-tools", false);
  view.show("doctor-message", false);
  const mine = hospital ? state.hospital_confirmed : state.patient_confirmed;
  present.show(!mine);
  view.status(mine ? texts.present_sent : texts.called);
  if (hospital) {
    view.show("start-tools");
    const theirs = state.present_patient_side;
    byId("present-patient-side").textContent = theirs.length ? `${texts.chat_patient}: ${theirs.join(", ")}` : "";
    const start = byId("start-call");
    start.textContent = texts.start_call;
    start.disabled = !(state.patient_confirmed && state.hospital_confirmed && state.patient_waiting);
  } else if (!before || before.state !== "called") {
    view.beep(2); // called in: once, not on every later update
  }
  chat.show();
}

async function inCall(state, before) {
  view.show("waiting-tools", false);
  view.show("present", false);
  view.show("start-tools", false);
  view.show("doctor-message", false);
  view.show("call");
  chat.show();
  view.status(texts.in_call);
  if (hospital) {
    const end = byId("end-call");
    end.textContent = texts.end_call;
    end.hidden = false;
  }
  await call.ready();
  // The hospital's side offers (§11.4): at the start, and again for a new patient connection
  // (a reload, another device) or after its own reconnection.
  const fresh = !before || before.state !== "in_call" || before.patient_joined !== state.patient_joined;
  if (hospital && state.patient_waiting && (fresh || !call.pc)) call.offer();
}

function ended(state) {
  connection.closedForGood = true;
  call.stop();
  view.show("call", false);
  view.show("waiting-tools", false);
  view.show("present", false);
  view.show("start-tools", false);
  view.show("end-call", false);
  byId("ended-title").textContent = state.end_reason === "limit" ? texts.ended_limit : texts.ended;
  byId("ended-next").textContent = hospital ? texts.after_hospital : texts.after_patient;
  view.show("ended");
  view.status(byId("ended-title").textContent);
}

function warn(kind) {
  const minutes = kind === "boundary" ? config.warnBoundaryMinutes : config.warnEndMinutes;
  view.status(fill(kind === "boundary" ? texts.warning_boundary : texts.warning_end, { minutes }));
  room.dataset.warning = kind;
  view.beep(3);
}

// The clock: the server's times, counted on between its messages.

const clock = {
  timer: null,
  render() {
    const element = byId("consult-clock");
    if (!current || !["in_call", "ended"].includes(current.state)) {
      element.hidden = true;
      return;
    }
    let seconds = current.billable_seconds;
    if (current.state === "in_call") {
      const serverNow = Date.now() + serverOffset;
      seconds += Math.max(0, Math.floor((serverNow - Date.parse(current.server_now)) / 1000));
    }
    const mm = String(Math.floor(seconds / 60));
    const ss = String(seconds % 60).padStart(2, "0");
    element.textContent = fill(texts.billable, { time: `${mm}:${ss}` });
    element.dataset.seconds = String(seconds);
    element.hidden = false;
    if (!this.timer) this.timer = setInterval(() => this.render(), 1000);
  },
};

// The call.

const call = {
  pc: null,
  stream: null,
  starting: null,
  pending: [],
  audioOnly: false,
  sharing: null,
  stats: null,
  poor: 0,
  lastStats: null,

  // The camera and microphone, asked for once even when the state and the offer arrive together.
  ready() {
    if (!this.starting) this.starting = this.media();
    return this.starting;
  },

  async media() {
    try {
      this.stream = await navigator.mediaDevices.getUserMedia({
        audio: true,
        video: { facingMode: "user", width: { ideal: 1280 }, height: { ideal: 720 } },
      });
    } catch {
      view.status(texts.media_failed);
      this.stream = new MediaStream();
    }
    byId("local-video").srcObject = this.stream;
    controls.init();
    devices.fill();
  },

  async peer() {
    // A TURN credential past half its life is renewed before a new connection needs it.
    if (Date.now() - connection.iceAt > config.iceRenewMs) await connection.renew();
    if (this.pc) this.pc.close();
    const pc = new RTCPeerConnection({
      iceServers: config.iceServers,
      iceTransportPolicy: config.iceTransportPolicy || "all",
    });
    this.pc = pc;
    this.pending = [];
    for (const track of this.stream.getTracks()) pc.addTrack(track, this.stream);
    pc.addEventListener("track", (event) => {
      byId("remote-video").srcObject = event.streams[0];
    });
    pc.addEventListener("icecandidate", (event) => {
      if (event.candidate) connection.send({ type: "signal", payload: { candidate: event.candidate.toJSON() } });
    });
    pc.addEventListener("connectionstatechange", () => {
      room.dataset.media = pc.connectionState;
    });
    if (this.audioOnly) this.videoSender()?.replaceTrack(null);
    else if (this.sharing) this.videoSender()?.replaceTrack(this.sharing);
    this.watch();
    return pc;
  },

  async offer() {
    const pc = await this.peer();
    await pc.setLocalDescription(await pc.createOffer());
    connection.send({ type: "signal", payload: { sdp: pc.localDescription.toJSON() } });
  },

  async signal(payload) {
    if (payload.sdp && payload.sdp.type === "offer" && !hospital) {
      await this.ready();
      const pc = await this.peer();
      await pc.setRemoteDescription(payload.sdp);
      await pc.setLocalDescription(await pc.createAnswer());
      connection.send({ type: "signal", payload: { sdp: pc.localDescription.toJSON() } });
      for (const candidate of this.pending.splice(0)) await pc.addIceCandidate(candidate);
    } else if (payload.sdp && payload.sdp.type === "answer" && hospital && this.pc) {
      await this.pc.setRemoteDescription(payload.sdp);
      for (const candidate of this.pending.splice(0)) await this.pc.addIceCandidate(candidate);
    } else if (payload.candidate) {
      if (this.pc && this.pc.remoteDescription) await this.pc.addIceCandidate(payload.candidate);
      else this.pending.push(payload.candidate);
    } else if ("audioOnly" in payload) {
      room.dataset.remoteAudioOnly = String(payload.audioOnly);
    }
  },

  // The sender of the picture, found by its transceiver: its track may be null (sound only).
  videoSender() {
    return this.pc?.getTransceivers().find((t) => t.receiver.track.kind === "video")?.sender;
  },

  setAudioOnly(on, automatic = false) {
    this.audioOnly = on;
    const camera = this.stream?.getVideoTracks()[0] || null;
    this.videoSender()?.replaceTrack(on ? null : this.sharing || camera);
    connection.send({ type: "signal", payload: { audioOnly: on } });
    controls.render();
    if (automatic) view.status(texts.audio_only_auto);
  },

  // Connection quality from getStats: lost packets and the round trip.
  watch() {
    clearInterval(this.stats);
    this.lastStats = null;
    this.poor = 0;
    this.stats = setInterval(() => this.measure(), STATS_MS);
  },

  async measure() {
    if (!this.pc) return;
    const report = await this.pc.getStats();
    let received = 0;
    let lost = 0;
    let rtt = null;
    report.forEach((stat) => {
      if (stat.type === "inbound-rtp") {
        received += stat.packetsReceived || 0;
        lost += stat.packetsLost || 0;
      }
      if (stat.type === "candidate-pair" && stat.nominated && stat.currentRoundTripTime !== undefined) {
        rtt = stat.currentRoundTripTime;
      }
    });
    const last = this.lastStats || { received: 0, lost: 0 };
    this.lastStats = { received, lost };
    const got = received - last.received;
    const gone = lost - last.lost;
    if (got + gone === 0) return;
    const loss = gone / (got + gone);
    let quality = "good";
    if (loss > 0.08 || (rtt !== null && rtt > 0.6)) quality = "poor";
    else if (loss > 0.02 || (rtt !== null && rtt > 0.3)) quality = "fair";
    const element = byId("quality");
    element.dataset.quality = quality;
    element.textContent = texts[`quality_${quality}`];
    this.poor = quality === "poor" ? this.poor + 1 : 0;
    if (this.poor >= POOR_CHECKS && !this.audioOnly) this.setAudioOnly(true, true);
  },

  stop() {
    clearInterval(this.stats);
    if (this.pc) this.pc.close();
    this.pc = null;
    for (const track of this.stream?.getTracks() || []) track.stop();
    this.stream = null;
    this.starting = null;
  },
};

// Tests and support read the decoded frames through this (SPEC: nothing else is exposed).
window.consultStats = async () => {
  const result = { framesDecoded: 0, connectionState: call.pc?.connectionState || "none" };
  if (!call.pc) return result;
  const report = await call.pc.getStats();
  let pair = null;
  report.forEach((stat) => {
    if (stat.type === "inbound-rtp" && stat.kind === "video") result.framesDecoded += stat.framesDecoded || 0;
    if (stat.type === "transport" && stat.selectedCandidatePairId) pair = report.get(stat.selectedCandidatePairId);
  });
  if (!pair) {
    report.forEach((stat) => {
      if (stat.type === "candidate-pair" && stat.nominated && stat.state === "succeeded") pair = stat;
    });
  }
  // The route the call took: "host", "srflx" or "relay" (through the hospital's TURN server).
  const local = pair ? report.get(pair.localCandidateId) : undefined;
  result.localCandidate = local?.candidateType;
  result.localPort = local?.port;
  result.remoteCandidate = pair ? report.get(pair.remoteCandidateId)?.candidateType : undefined;
  return result;
};

const controls = {
  done: false,
  init() {
    if (this.done) return;
    this.done = true;
    byId("toggle-mic").addEventListener("click", () => {
      for (const track of call.stream.getAudioTracks()) track.enabled = !track.enabled;
      this.render();
    });
    byId("toggle-camera").addEventListener("click", () => {
      for (const track of call.stream.getVideoTracks()) track.enabled = !track.enabled;
      this.render();
    });
    byId("toggle-audio-only").addEventListener("click", () => call.setAudioOnly(!call.audioOnly));
    byId("toggle-share")?.addEventListener("click", () => share());
    this.render();
  },
  render() {
    const audio = call.stream?.getAudioTracks()[0];
    const video = call.stream?.getVideoTracks()[0];
    const set = (id, pressed, on, off) => {
      const button = byId(id);
      if (!button) return;
      button.setAttribute("aria-pressed", String(pressed));
      button.textContent = pressed ? on : off;
    };
    set("toggle-mic", audio ? !audio.enabled : false, texts.unmute, texts.mute);
    set("toggle-camera", video ? !video.enabled : false, texts.camera_on, texts.camera_off);
    set("toggle-audio-only", call.audioOnly, texts.video_again, texts.audio_only);
    set("toggle-share", Boolean(call.sharing), texts.stop_sharing, texts.share_screen);
  },
};

async function share() {
  const sender = call.videoSender();
  if (call.sharing) {
    call.sharing.stop();
    call.sharing = null;
    await sender?.replaceTrack(call.stream.getVideoTracks()[0] || null);
  } else {
    const screen = await navigator.mediaDevices.getDisplayMedia({ video: true });
    call.sharing = screen.getVideoTracks()[0];
    call.sharing.addEventListener("ended", () => call.sharing && share());
    await sender?.replaceTrack(call.sharing);
  }
  controls.render();
}

const devices = {
  async fill() {
    const all = await navigator.mediaDevices.enumerateDevices();
    for (const [kind, id] of [["videoinput", "camera-select"], ["audioinput", "microphone-select"]]) {
      const select = byId(id);
      select.replaceChildren(
        ...all.filter((d) => d.kind === kind).map((d, i) => new Option(d.label || `${i + 1}`, d.deviceId)),
      );
      select.onchange = () => this.use(kind, select.value);
    }
  },
  async use(kind, id) {
    const audio = kind === "audioinput";
    const fresh = await navigator.mediaDevices.getUserMedia(audio ? { audio: { deviceId: { exact: id } } } : { video: { deviceId: { exact: id } } });
    const track = audio ? fresh.getAudioTracks()[0] : fresh.getVideoTracks()[0];
    const old = audio ? call.stream.getAudioTracks()[0] : call.stream.getVideoTracks()[0];
    if (old) {
      call.stream.removeTrack(old);
      old.stop();
    }
    call.stream.addTrack(track);
    const sender = audio
      ? call.pc?.getTransceivers().find((t) => t.receiver.track.kind === "audio")?.sender
      : call.videoSender();
    if (sender && !(call.audioOnly && !audio) && !(call.sharing && !audio)) await sender.replaceTrack(track);
    byId("local-video").srcObject = call.stream;
  },
};

// Who is present (SPEC §11.5).

const present = {
  people: [],
  built: false,
  show(shown) {
    view.show("present", shown);
    if (!shown || this.built) return;
    this.built = true;
    byId("present-intro").textContent = hospital ? texts.confirm_present_hospital : texts.confirm_present;
    byId("present-other-label").textContent = texts.other_person;
    byId("present-add").textContent = texts.add;
    byId("present-confirm").textContent = texts.confirm;
    for (const name of config.present) this.add(name, true);
    byId("present-add").addEventListener("click", () => {
      const other = byId("present-other");
      if (other.value.trim()) this.add(other.value.trim(), true);
      other.value = "";
    });
    byId("present-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const people = [...byId("present-choices").querySelectorAll("input:checked")].map((box) => box.value);
      connection.send({ type: "present", people });
    });
  },
  add(name, checked) {
    const item = document.createElement("li");
    const label = document.createElement("label");
    const box = document.createElement("input");
    box.type = "checkbox";
    box.value = name;
    box.checked = checked;
    label.append(box, ` ${name}`);
    item.append(label);
    byId("present-choices").append(item);
  },
};

// Messages: the specialist's to the waiting patient, the chat beside the video.

const chat = {
  show() {
    view.show("chat");
  },
  add(message) {
    const mine = (message.side === "hospital") === hospital;
    if (!hospital && current && current.state === "waiting" && message.side === "hospital") {
      byId("doctor-message-text").textContent = message.text;
      view.show("doctor-message");
      view.beep();
      return;
    }
    const item = document.createElement("li");
    item.dataset.side = message.side;
    const who = mine ? texts.chat_you : message.side === "hospital" ? texts.chat_doctor : texts.chat_patient;
    const time = new Date(message.at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    item.textContent = `${time} ${who}: ${message.text}`;
    byId("chat-log").append(item);
    if (!mine) view.beep();
  },
};

// The specialist's notes, saved as they type.

const notes = {
  timer: null,
  init() {
    const area = byId("notes");
    if (!area) return;
    area.value = config.notes || "";
    area.addEventListener("input", () => {
      clearTimeout(this.timer);
      byId("notes-status").textContent = texts.notes_saving;
      this.timer = setTimeout(() => connection.send({ type: "notes", text: area.value }), NOTES_DELAY_MS);
    });
  },
  saved(at) {
    const time = new Date(at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
    byId("notes-status").textContent = fill(texts.notes_saved, { time });
  },
};

function wire() {
  byId("take-over")?.addEventListener("click", () => {
    view.show("refused", false);
    connection.closedForGood = false;
    connection.takeover = true;
    connection.first = false;
    connection.open();
  });
  byId("call-in")?.addEventListener("click", () => connection.send({ type: "call_in" }));
  byId("start-call")?.addEventListener("click", () => connection.send({ type: "start" }));
  byId("end-call")?.addEventListener("click", () => {
    if (window.confirm(texts.end_confirm)) connection.send({ type: "end" });
  });
  const sendText = (formId, inputId) => {
    byId(formId)?.addEventListener("submit", (event) => {
      event.preventDefault();
      const input = byId(inputId);
      if (!input.value.trim()) return;
      connection.send({ type: "message", text: input.value });
      input.value = "";
    });
  };
  sendText("chat-form", "chat-text");
  sendText("message-form", "message-text");
  notes.init();
}

function start() {
  wire();
  if (!config.roomOpen) {
    const opens = Date.parse(config.opensAt);
    const time = new Date(opens).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    view.status(fill(texts.not_open, { time }));
    room.dataset.state = "not_open";
    const wait = Math.min(opens - Date.now() + 1000, 12 * 3600 * 1000);
    setTimeout(() => location.reload(), Math.max(wait, 1000));
    return;
  }
  view.status(texts.connecting);
  connection.open();
}

start();
