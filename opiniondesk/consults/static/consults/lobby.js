// The specialist's list of today's consults (consults/staff/lobby.html): when a patient enters
// a waiting room, a sound, a browser notification and the row's state change.

const readJson = (id) => JSON.parse(document.getElementById(id).textContent);
const config = readJson("lobby-config");
const texts = readJson("consult-texts");
const status = document.getElementById("lobby-status");
const allow = document.getElementById("allow-notifications");

function beep() {
  try {
    const audio = new AudioContext();
    for (let i = 0; i < 2; i += 1) {
      const tone = audio.createOscillator();
      tone.frequency.value = 660 + i * 220;
      tone.connect(audio.destination);
      tone.start(audio.currentTime + i * 0.3);
      tone.stop(audio.currentTime + i * 0.3 + 0.2);
    }
  } catch {
    // Sound needs a click on the page first in some browsers: the banner still shows.
  }
}

// Rows are the day's bookings, keyed by case: the consult itself may be newer than the page.
function arrived(caseId, consultId) {
  const row = document.querySelector(`tr[data-case="${caseId}"]`);
  if (!row) {
    location.reload(); // a booking made after this page was drawn
    return;
  }
  row.dataset.consult = String(consultId);
  row.dataset.waiting = "true";
  row.querySelector(".lobby-state").textContent = texts.waiting_patient;
  const reference = row.querySelector("a")?.textContent || "";
  const text = texts.patient_arrived.replace("%(reference)s", reference);
  status.textContent = text;
  beep();
  if ("Notification" in window && Notification.permission === "granted") {
    new Notification(text, { tag: `consult-${consultId}` });
  }
}

let delay = 1000;
function connect() {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const socket = new WebSocket(`${scheme}//${location.host}${config.wsPath}`);
  socket.addEventListener("open", () => {
    delay = 1000;
  });
  socket.addEventListener("message", (event) => {
    const message = JSON.parse(event.data);
    if (message.type === "arrived") arrived(message.case, message.consult);
  });
  socket.addEventListener("close", () => {
    setTimeout(connect, delay);
    delay = Math.min(delay * 2, 30000);
  });
}

if ("Notification" in window && Notification.permission === "default") {
  allow.hidden = false;
  allow.addEventListener("click", async () => {
    await Notification.requestPermission();
    allow.hidden = true;
  });
}
connect();
