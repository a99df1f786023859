"""Benchmarks of the online consult (issue #11): signalling, idle waiting rooms, call-in.

Prepares a fresh SQLite database the way `make run` does (bench/eligibility_api.py: migrate,
collectstatic, load_demo, DEMO_MODE=true, in a temporary directory), then builds, in this process
with the project's settings, online cases `ready` for their consult with the test builders
(`opiniondesk.testing.builders.ready_case`: accepted, offered, booked, consent signed, device
checked, each patient a distinct account), moves each booking to a few minutes from now so that
its waiting room is open, and opens its consult (`services.consult_open`, as the first page would).
Sessions are made with Django's session engine, as a login would make them (the tests'
`signed_in()` does the same); join tokens with `consumers.join_token`, as the pages get them.

  1. Signalling round trip: the specialist's and the patient's WebSockets of one consult
     (`/ws/consults/<id>/?token=...`); the specialist sends an ICE-candidate-shaped `signal`, the
     patient answers with one, and the specialist times the round trip. In the same run, as
     references: `ping` → `pong` on the specialist's connection (answered by the same process,
     nothing crosses), and on the patient's (which also records the heartbeat in the database).
     Target: p50 < 20 ms. Served as `make run` serves (bin/serve, 2 workers).
  2. Idle waiting rooms on ONE worker (WORKERS=1): N patients connect, say `hello` with their
     device, get their `state`, then ping every 10 s as room.js does, for 60 s. The worker's RSS
     with no connection is the reference. Target: at least 1,000 connections.
  3. Call-in to the first decoded frame, in Chromium (Playwright, fake camera): the patient in
     the waiting room, the specialist calls in, both confirm who is present, the specialist
     starts the call; timed from the click on "start the call" to `framesDecoded > 0` on each
     side (`window.consultStats()`). Reference in the same run: a plain RTCPeerConnection
     loopback pair in one page with the same fake media. Target: < 2 s.

    .venv/bin/python bench/consults.py                       # all three, 6-10 minutes
    .venv/bin/python bench/consults.py --part signalling
    .venv/bin/python bench/consults.py --part idle --connections 1500
    .venv/bin/python bench/consults.py --part call --database-url postgres://postgres@127.0.0.1:5432/x

Exits non-zero on FAIL or on any failed check. Only 127.0.0.1 is contacted; every wait has a
timeout; the servers' process groups are stopped and the temporary directory removed however the
script ends.
"""

import argparse
import asyncio
import contextlib
import json
import os
import platform
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from importlib.metadata import version
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.eligibility_api import (  # noqa: E402
    ATTEMPTS,
    DISTURBED,
    BenchError,
    bench_env,
    cpu_busy_fraction,
    default_server,
    prepare_database,
    running_server,
    server_description,
)
from bench.scheduling import CLK_TCK, CpuWindow, fresh_database, setup_django  # noqa: E402
from bench.upload import cpu_model  # noqa: E402

SEED = 11
SIGNAL_TARGET_MS = 20.0
CONNECTIONS_TARGET = 1000
FIRST_FRAME_TARGET_S = 2.0
# The consumer closes a connection that sends more than 600 messages a minute
# (consumers.MAX_MESSAGES_PER_MINUTE): each pair of connections sends at most 2 × 275 + 1.
PAIRS, PER_PAIR, WARMUP_PER_PAIR = 8, 250, 25
HEARTBEAT_S = 10.0  # room.js: config.heartbeatMs
STALE_S = 45  # consults.selectors.STALE_AFTER: a patient not heard from for longer is gone
JOIN_CONCURRENCY = 50  # patients connecting at the same moment while the room fills
CALL_RUNS = 5
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--allow-loopback-in-peer-connection",
    "--autoplay-policy=no-user-gesture-required",
]
DEVICE = "bench-device-0001"  # 8-64 characters, as room.js's per-tab id


def main() -> int:
    args = parse_args()
    raise_fd_limit(args.connections * 2 + 1024)  # the servers started from here inherit it
    print_machine(args)
    with tempfile.TemporaryDirectory(prefix="opiniondesk-bench-consults-") as tmp:
        env = bench_env(Path(tmp), default_server(), 2)
        if args.redis_url:
            env["REDIS_URL"] = args.redis_url
        with fresh_database(args.database_url) as url:
            if url:
                env["DATABASE_URL"] = url
            print(f"preparing: migrate, collectstatic, load_demo; {database_name(args)} ...")
            prepare_database(env)
            setup_django(env)
            try:
                return run(args, env, Path(tmp))
            finally:
                from django.db import connections

                connections.close_all()


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--part", choices=["all", "signalling", "idle", "call"], default="all")
    parser.add_argument(
        "--connections", type=int, default=1000, help="idle patients on one worker (default 1000)"
    )
    parser.add_argument("--hold", type=int, default=60, help="seconds they stay (default 60)")
    parser.add_argument("--workers", type=int, default=2, help="workers for parts 1 and 3")
    parser.add_argument(
        "--database-url",
        default="",
        metavar="URL",
        help="a fresh database on this PostgreSQL server (postgres://user@host:port/any) "
        "instead of make run's SQLite",
    )
    parser.add_argument(
        "--redis-url",
        default="",
        metavar="URL",
        help="REDIS_URL for the servers (channel layer and cache on Redis) instead of make run's "
        "in-process layer",
    )
    args = parser.parse_args()
    if not 10 <= args.connections <= 5000:
        parser.error("--connections must be between 10 and 5000")
    if not 10 <= args.hold <= 600:
        parser.error("--hold must be between 10 and 600 seconds")
    if not 1 <= args.workers <= 4:
        parser.error("--workers must be between 1 and 4")
    return args


def database_name(args: argparse.Namespace) -> str:
    layer = "Redis channel layer" if args.redis_url else "in-process channel layer"
    engine = "a fresh PostgreSQL database" if args.database_url else "a fresh SQLite database (WAL)"
    return f"{engine}, {layer}"


def raise_fd_limit(wanted: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < wanted:
        new = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))


def run(args: argparse.Namespace, env: dict[str, str], tmp: Path) -> int:
    parts = ["signalling", "call", "idle"] if args.part == "all" else [args.part]
    print("building the consults (test builders, through the services) ...")
    started = time.perf_counter()
    sizes = {"signalling": PAIRS, "call": CALL_RUNS * ATTEMPTS + 1, "idle": args.connections}
    rooms = {part: build_rooms(sizes[part], part) for part in parts}
    drop_queued_tasks()
    print(f"   {sum(map(len, rooms.values()))} consults in {time.perf_counter() - started:.0f} s")
    checks: list[tuple[str, bool]] = []
    verdicts: list[bool] = []
    if "signalling" in parts:
        ok, found = bench_signalling(args, env, tmp, rooms["signalling"])
        verdicts.append(ok)
        checks += found
    if "call" in parts:
        ok, found = bench_call(args, env, tmp, rooms["call"])
        verdicts.append(ok)
        checks += found
    if "idle" in parts:
        ok, found = bench_idle(args, env, tmp, rooms["idle"])
        verdicts.append(ok)
        checks += found
    print("\n== checks ==")
    for name, ok in checks:
        print(f"{'ok  ' if ok else 'FAIL'} {name}")
    failed = sum(not ok for _, ok in checks)
    print(f"{len(checks) - failed} passed, {failed} failed")
    return 0 if all(verdicts) and not failed else 1


# --- the data: ready online cases, their bookings moved to now, consults, sessions ------------


@dataclass
class Room:
    consult_id: int
    case_id: int
    patient_id: int
    patient_session: str
    specialist_id: int
    specialist_session: str


_counter = iter(range(1, 10**6))


def build_rooms(count: int, tag: str, lead: timedelta = timedelta(minutes=3)) -> list[Room]:
    """`count` online cases `ready` for their consult with Dr Tanaka, each applied for by its own
    patient account, moved to start a few minutes from now (the waiting room opens 5 minutes
    before). The booked slot moves with its booking, so the next case is offered the same free
    slot again."""
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from opiniondesk.accounts.models import Role, User
    from opiniondesk.consults.services import consult_open
    from opiniondesk.scheduling.models import BookedSlot, Booking, HeldSlot, OfferedSlot
    from opiniondesk.testing.builders import ready_case
    from opiniondesk.testing.personas import persona

    doctor = persona("dr_tanaka")
    doctor_session = new_session(doctor)
    password = make_password(None)  # they never type one: their sessions are made below
    patients = User.objects.bulk_create(
        User(
            username=f"bench_{tag}_{n:05d}",
            email=f"bench_{tag}_{n:05d}@bench.example.jp",
            role=Role.PATIENT,
            last_name="山田",
            first_name=f"患者{n:05d}",
            password=password,
        )
        for n in range(count)
    )
    soon = timezone.now() + lead
    rooms = []
    for n, patient in enumerate(patients):
        case = ready_case(applicant=patient, specialist=doctor)
        booking = Booking.objects.get(case=case, cancelled_at__isnull=True)
        # A distinct start per booking (one live booking per specialist and start).
        starts = soon + timedelta(milliseconds=next(_counter))
        moved = {"starts_at": starts, "ends_at": starts + (booking.ends_at - booking.starts_at)}
        Booking.objects.filter(pk=booking.pk).update(**moved)
        OfferedSlot.objects.filter(pk=booking.offered_slot_id).update(**moved)
        # The rows that hold each 30-minute slot move with them, so the slot is free again.
        for rows in (
            BookedSlot.objects.filter(booking=booking),
            HeldSlot.objects.filter(offered_slot_id=booking.offered_slot_id),
        ):
            for k, row in enumerate(rows.order_by("starts_at")):
                type(row).objects.filter(pk=row.pk).update(
                    starts_at=starts + timedelta(minutes=30 * k)
                )
        consult = consult_open(case=case)
        rooms.append(
            Room(
                consult_id=consult.pk,
                case_id=case.pk,
                patient_id=patient.pk,
                patient_session=new_session(patient),
                specialist_id=doctor.pk,
                specialist_session=doctor_session,
            )
        )
        if (n + 1) % 250 == 0:
            print(f"   {tag}: {n + 1} of {count}")
    return rooms


def new_session(user: Any) -> str:
    """A server-side session as the login makes it. Staff need their second factor enrolled
    (StaffMFARequiredMiddleware); the demo's and the builders' specialists have one."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return session.session_key or ""


def drop_queued_tasks() -> None:
    """The builders queue the e-mails and reminders a booking sends (several per case); the task
    worker beside the server would spend minutes on them during the measurements. Benchmark
    setup only: they are deleted, not sent."""
    from django_tasks_db.models import DBTaskResult

    DBTaskResult.objects.all().delete()


# --- WebSocket helpers --------------------------------------------------------------------------


def ws_url(base_url: str, room: Room, user_id: int) -> str:
    from opiniondesk.consults.consumers import join_token

    token = join_token(room.consult_id, user_id)
    return f"{base_url.replace('http://', 'ws://')}/ws/consults/{room.consult_id}/?token={token}"


async def ws_open(base_url: str, room: Room, hospital: bool) -> Any:
    """A browser-like connection: Origin and session cookie; no protocol-level pings (browsers
    send none), permessage-deflate offered as browsers do."""
    from django.conf import settings
    from websockets.asyncio.client import connect

    user, session = (
        (room.specialist_id, room.specialist_session)
        if hospital
        else (room.patient_id, room.patient_session)
    )
    return await connect(
        ws_url(base_url, room, user),
        origin=base_url,
        additional_headers={"Cookie": f"{settings.SESSION_COOKIE_NAME}={session}"},
        ping_interval=None,
        open_timeout=30,
        close_timeout=5,
    )


async def next_of(ws: Any, kind: str, timeout: float = 10.0) -> dict[str, Any]:
    """The next message of this type (others skipped)."""
    async with asyncio.timeout(timeout):
        while True:
            message = json.loads(await ws.recv())
            if message["type"] == kind:
                return dict(message)


async def send(ws: Any, message: dict[str, Any]) -> None:
    await ws.send(json.dumps(message))


# --- part 1: the signalling round trip ---------------------------------------------------------


@dataclass
class SignalFigures:
    signal_ms: list[float] = field(default_factory=list)
    ping_hospital_ms: list[float] = field(default_factory=list)
    ping_patient_ms: list[float] = field(default_factory=list)
    other_cpu: float = 0.0
    other_worker_pairs: int = 0  # specialist connections that landed on another worker
    specialist_connections: int = 0


def candidate(n: int, port: int) -> dict[str, Any]:
    """What room.js sends for an ICE candidate (RTCIceCandidate.toJSON())."""
    return {
        "candidate": {
            "candidate": f"candidate:{n} 1 udp 2122260223 127.0.0.1 {port} typ host generation 0",
            "sdpMid": "0",
            "sdpMLineIndex": 0,
            "usernameFragment": "bnch",
        }
    }


async def pair_up(base_url: str, room: Room) -> tuple[Any, Any, int]:
    """The patient waits in the room; the specialist connects until both connections are served
    by the same worker process: with the in-process channel layer (make run's, no REDIS_URL) a
    worker's group messages never reach another worker. Returns the number of tries that did
    not see each other."""
    patient = await ws_open(base_url, room, hospital=False)
    await send(patient, {"type": "hello", "device": DEVICE})
    state = await next_of(patient, "state")
    if state["state"] != "waiting" or not state["patient_waiting"]:
        raise BenchError(f"consult {room.consult_id}: the patient is not waiting: {state}")
    missed = 0
    for _ in range(20):
        doctor = await ws_open(base_url, room, hospital=True)
        await next_of(doctor, "state")
        try:
            # The specialist's join refreshes the consult's group: the patient hears of it.
            await next_of(patient, "state", timeout=1.5)
            return patient, doctor, missed
        except TimeoutError:
            missed += 1
            await doctor.close()
            await asyncio.sleep(0.2)
    raise BenchError(
        f"consult {room.consult_id}: 20 specialist connections, none on the same worker"
    )


async def timed(ws_send: Any, message: dict[str, Any], ws_recv: Any, kind: str) -> float:
    started = time.perf_counter()
    await send(ws_send, message)
    await next_of(ws_recv, kind)
    return (time.perf_counter() - started) * 1000


async def signalling_run(base_url: str, rooms: list[Room]) -> SignalFigures:
    """One pair at a time (one call's latency, not a load test): WARMUP_PER_PAIR rounds, then
    PER_PAIR measured rounds of a signal there and back, a ping on each connection."""
    figures, seq = SignalFigures(), 0
    for room in rooms:
        patient, doctor, missed = await pair_up(base_url, room)
        figures.other_worker_pairs += missed
        figures.specialist_connections += missed + 1
        try:
            for n in range(WARMUP_PER_PAIR + PER_PAIR):
                seq += 1
                started = time.perf_counter()
                await send(doctor, {"type": "signal", "payload": candidate(seq, 50000)})
                got = await next_of(patient, "signal")
                if got["payload"]["candidate"]["candidate"].split()[0] != f"candidate:{seq}":
                    raise BenchError(f"the patient received another signal: {got}")
                await send(patient, {"type": "signal", "payload": candidate(seq, 60000)})
                await next_of(doctor, "signal")
                signal_ms = (time.perf_counter() - started) * 1000
                hospital = await timed(doctor, {"type": "ping", "seq": seq}, doctor, "pong")
                own = await timed(patient, {"type": "ping", "seq": seq}, patient, "pong")
                if n >= WARMUP_PER_PAIR:
                    figures.signal_ms.append(signal_ms)
                    figures.ping_hospital_ms.append(hospital)
                    figures.ping_patient_ms.append(own)
        finally:
            await doctor.close()
            await patient.close()
    return figures


def bench_signalling(
    args: argparse.Namespace, env: dict[str, str], tmp: Path, rooms: list[Room]
) -> tuple[bool, list[tuple[str, bool]]]:
    print(
        f"\n== 1. signalling round trip: {server_description(default_server())}, "
        f"{args.workers} workers (bin/serve) =="
    )
    runs: list[SignalFigures] = []
    with running_server(env | {"WORKERS": str(args.workers)}, tmp) as server:
        while len(runs) < ATTEMPTS and (not runs or runs[-1].other_cpu > DISTURBED):
            if runs:
                print(
                    f"   other processes used {runs[-1].other_cpu:.0%} of the CPU during the "
                    "run: running it again (new connections)"
                )
            warn_if_busy()
            window = CpuWindow(server.proc.pid)
            figures = asyncio.run(signalling_run(server.base_url, rooms))
            figures.other_cpu = window.other()
            runs.append(figures)
    kept = min(runs, key=lambda f: f.other_cpu)
    rows = [
        ("signal specialist → patient → specialist", kept.signal_ms),
        ("ping → pong, specialist's connection", kept.ping_hospital_ms),
        ("ping → pong, patient's (heartbeat UPDATE)", kept.ping_patient_ms),
    ]
    print(f"{'round trip':<44}{'count':>7}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}")
    for label, values in rows:
        print(
            f"{label:<44}{len(values):>7}{pct(values, 50):>9.2f}{pct(values, 99):>9.2f}"
            f"{max(values):>9.2f}"
        )
    print(
        f"other CPU {kept.other_cpu:.0%}; {PAIRS} consults, {WARMUP_PER_PAIR} warm-up rounds each; "
        "specialist connections that landed on another worker than their patient's (no "
        f"signal crosses: retried): {sum(r.other_worker_pairs for r in runs)} of "
        f"{sum(r.specialist_connections for r in runs)}"
    )
    disturbed(kept.other_cpu, "the signalling run")
    ok = pct(kept.signal_ms, 50) < SIGNAL_TARGET_MS
    print(
        f"signal round trip p50 {pct(kept.signal_ms, 50):.2f} ms: {'PASS' if ok else 'FAIL'} "
        f"(target: p50 < {SIGNAL_TARGET_MS:.0f} ms)"
    )
    count = PAIRS * PER_PAIR
    checks = [
        (
            f"signalling: {count} signals relayed each way, each to the other side only, "
            f"{count} pongs on each side",
            all(len(values) == count for _, values in rows),
        )
    ]
    return ok, checks


# --- part 2: idle waiting rooms on one worker --------------------------------------------------


@dataclass
class Waiting:
    """One patient's connection: its state, its pings and whether it was closed."""

    room: Room
    ws: Any = None
    join_s: float = 0.0
    states: int = 0
    first_state: dict[str, Any] = field(default_factory=dict)
    closed: str = ""
    sent: dict[int, float] = field(default_factory=dict)
    rtts_ms: list[float] = field(default_factory=list)
    error: str = ""

    async def join(self, base_url: str, gate: asyncio.Semaphore) -> None:
        async with gate:
            started = time.perf_counter()
            try:
                self.ws = await ws_open(base_url, self.room, hospital=False)
                await send(self.ws, {"type": "hello", "device": DEVICE})
                self.first_state = await next_of(self.ws, "state", timeout=120)
                self.states = 1
            except Exception as exc:  # counted and reported
                self.error = f"{type(exc).__name__}: {exc}"
                return
            self.join_s = time.perf_counter() - started

    async def listen(self) -> None:
        from websockets.exceptions import ConnectionClosed

        try:
            async for raw in self.ws:
                message = json.loads(raw)
                if message["type"] == "pong" and message.get("seq") in self.sent:
                    self.rtts_ms.append(
                        (time.perf_counter() - self.sent.pop(message["seq"])) * 1000
                    )
                elif message["type"] == "state":
                    self.states += 1
            self.closed = f"closed by the server ({self.ws.close_code})"
        except ConnectionClosed as exc:
            self.closed = f"closed ({exc})"

    async def heartbeat(self, rng: random.Random) -> None:
        """room.js: a ping every heartbeatMs from the moment the socket opened; the connections
        opened over the ramp-up, so their phases are spread."""
        await asyncio.sleep(rng.uniform(0, HEARTBEAT_S))
        seq = 0
        while not self.closed:
            seq += 1
            self.sent[seq] = time.perf_counter()
            with contextlib.suppress(Exception):
                await send(self.ws, {"type": "ping", "seq": seq})
            await asyncio.sleep(HEARTBEAT_S)


@dataclass
class IdleFigures:
    connections: int
    held: int
    joined: int
    join_seconds: list[float]
    ramp_s: float
    rss_empty_kb: int
    rss_full_kb: int
    rss_after_hold_kb: int
    rss_after_close_kb: int
    rtts_ms: list[float]
    states_ok: int
    heard_recently: int
    worker_cpu: float  # share of one core used by the worker while holding
    other_cpu: float
    errors: list[str]


def worker_pid(pgid: int) -> int:
    """The ASGI worker of a bin/serve started with WORKERS=1: the uvicorn (or granian) process
    of the group that has no worker child of its own."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if int(fields[2]) == pgid and ("config.asgi" in cmdline or "multiprocessing" in cmdline):
            found[int(stat.parent.name)] = int(fields[1])  # pid → parent pid
    leaves = [pid for pid in found if pid not in found.values()]
    if len(leaves) != 1:
        raise BenchError(f"expected one ASGI worker process in group {pgid}, found {leaves}")
    return leaves[0]


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise BenchError(f"no VmRSS for process {pid}")


def process_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


async def idle_run(base_url: str, rooms: list[Room], hold: int, pid: int, pgid: int) -> IdleFigures:
    rng = random.Random(SEED)
    # Warm the worker's code paths (connect, join, ping, leave) before the empty reference.
    warm = [Waiting(room) for room in rooms[:5]]
    gate = asyncio.Semaphore(JOIN_CONCURRENCY)
    await asyncio.gather(*(w.join(base_url, gate) for w in warm))
    for w in warm:
        if w.ws is not None:
            await send(w.ws, {"type": "ping", "seq": 0})
            await next_of(w.ws, "pong")
            await w.ws.close()
    await asyncio.sleep(3)
    rss_empty = rss_kb(pid)
    print(f"   worker {pid}: RSS {rss_empty / 1024:.1f} MiB with no connection")
    waiting = [Waiting(room) for room in rooms]
    started = time.perf_counter()
    await asyncio.gather(*(w.join(base_url, gate) for w in waiting))
    ramp = time.perf_counter() - started
    joined = [w for w in waiting if w.ws is not None and w.states]
    print(f"   {len(joined)} of {len(rooms)} joined in {ramp:.1f} s; holding for {hold} s ...")
    rss_full = rss_kb(pid)
    listeners = [asyncio.create_task(w.listen()) for w in joined]
    beats = [asyncio.create_task(w.heartbeat(rng)) for w in joined]
    window, ticks = CpuWindow(pgid), process_ticks(pid)
    hold_started = time.perf_counter()
    await asyncio.sleep(hold)
    held_for = time.perf_counter() - hold_started
    worker_cpu = (process_ticks(pid) - ticks) / CLK_TCK / held_for
    other = window.other()
    rss_hold = rss_kb(pid)
    held = sum(1 for w in joined if not w.closed)
    dropped = [f"consult {w.room.consult_id}: {w.closed}" for w in joined if w.closed]
    # Still counted as connected: a heartbeat within the app's STALE_AFTER (written at most every
    # SEEN_EVERY, so not on every ping).
    heard = await asyncio.to_thread(heard_within, [w.room.consult_id for w in joined], STALE_S)
    for task in beats:
        task.cancel()
    await asyncio.gather(*(w.ws.close() for w in joined), return_exceptions=True)
    await asyncio.gather(*listeners, return_exceptions=True)
    await asyncio.sleep(5)
    states_ok = sum(
        1
        for w in joined
        if w.first_state.get("state") == "waiting" and w.first_state.get("patient_waiting")
    )
    return IdleFigures(
        connections=len(rooms),
        held=held,
        joined=len(joined),
        join_seconds=[w.join_s for w in joined],
        ramp_s=ramp,
        rss_empty_kb=rss_empty,
        rss_full_kb=rss_full,
        rss_after_hold_kb=rss_hold,
        rss_after_close_kb=rss_kb(pid),
        rtts_ms=[r for w in joined for r in w.rtts_ms],
        states_ok=states_ok,
        heard_recently=heard,
        worker_cpu=worker_cpu,
        other_cpu=other,
        errors=[w.error for w in waiting if w.error] + dropped,
    )


def heard_within(consult_ids: list[int], seconds: int) -> int:
    """How many of the consults recorded a heartbeat of their patient in the last `seconds`."""
    from django.db import connection
    from django.utils import timezone

    from opiniondesk.consults.models import Consult

    try:
        since = timezone.now() - timedelta(seconds=seconds)
        return Consult.objects.filter(pk__in=consult_ids, patient_seen_at__gte=since).count()
    finally:
        connection.close()


def bench_idle(
    args: argparse.Namespace, env: dict[str, str], tmp: Path, rooms: list[Room]
) -> tuple[bool, list[tuple[str, bool]]]:
    print(
        f"\n== 2. idle waiting rooms: {len(rooms)} patients on ONE worker "
        f"({server_description(default_server())}, bin/serve, WORKERS=1) =="
    )
    runs: list[IdleFigures] = []
    while len(runs) < ATTEMPTS and (not runs or runs[-1].other_cpu > DISTURBED):
        if runs:
            print(
                f"   other processes used {runs[-1].other_cpu:.0%} of the CPU while holding: "
                "running it again (a new server)"
            )
        warn_if_busy()
        with running_server(env | {"WORKERS": "1"}, tmp) as server:
            pid = worker_pid(server.proc.pid)
            runs.append(
                asyncio.run(idle_run(server.base_url, rooms, args.hold, pid, server.proc.pid))
            )
    f = min(runs, key=lambda r: r.other_cpu)
    per_connection = (f.rss_full_kb - f.rss_empty_kb) / max(f.joined, 1)
    print(f"{'':<44}{'value':>12}")
    lines = [
        ("connections opened / joined / held", f"{f.connections} / {f.joined} / {f.held}"),
        ("room filled in (50 connecting at a time)", f"{f.ramp_s:.1f} s"),
        ("join (connect → hello → state) p50 / p99", jp(f.join_seconds)),
        ("worker RSS, no connection (reference)", mib(f.rss_empty_kb)),
        ("worker RSS, all connected", mib(f.rss_full_kb)),
        (f"worker RSS, after {args.hold} s idle", mib(f.rss_after_hold_kb)),
        ("worker RSS, after all closed", mib(f.rss_after_close_kb)),
        ("per connection", f"{per_connection:.0f} KiB"),
        (
            f"ping → pong while all connected ({len(f.rtts_ms)}) p50 / p99",
            f"{pct(f.rtts_ms, 50):.1f} / {pct(f.rtts_ms, 99):.1f} ms",
        ),
        ("worker CPU while holding (one core)", f"{f.worker_cpu:.0%}"),
        ("other CPU while holding", f"{f.other_cpu:.0%}"),
    ]
    for label, value in lines:
        print(f"{label:<44}{value:>22}")
    for error in f.errors[:5]:
        print(f"   !! {error}")
    disturbed(f.other_cpu, "the idle run")
    ok = f.held >= CONNECTIONS_TARGET
    print(
        f"connections held on one worker: {f.held}: {'PASS' if ok else 'FAIL'} "
        f"(target: at least {CONNECTIONS_TARGET:,})"
    )
    checks = [
        (f"idle: all {f.connections} patients joined", f.joined == f.connections),
        (
            f"idle: every connection got its `state` (waiting, patient_waiting) ({f.states_ok})",
            f.states_ok == f.connections,
        ),
        (f"idle: every connection stayed open for {args.hold} s ({f.held})", f.held == f.joined),
        (
            f"idle: every patient counts as connected, a heartbeat within {STALE_S} s "
            f"({f.heard_recently})",
            f.heard_recently == f.joined,
        ),
        (
            f"idle: every ping answered ({len(f.rtts_ms)} pongs)",
            len(f.rtts_ms) >= f.joined * (args.hold // HEARTBEAT_S - 1),
        ),
    ]
    return ok, checks


def mib(kb: int) -> str:
    return f"{kb / 1024:.1f} MiB"


def jp(seconds: list[float]) -> str:
    values = [s * 1000 for s in seconds]
    return f"{pct(values, 50):.0f} / {pct(values, 99):.0f} ms"


# --- part 3: call-in to the first decoded frame, in Chromium ------------------------------------

# Resolves with Date.now() once the page's call has decoded a video frame (10 ms polling).
FIRST_FRAME = """() => {
  window.__firstFrame = (async () => {
    const deadline = Date.now() + 30000;
    while (Date.now() < deadline) {
      const stats = await window.consultStats();
      if (stats.framesDecoded > 0) return Date.now();
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return null;
  })();
}"""

# The reference: the same fake camera and microphone, two RTCPeerConnections in one page,
# offer/answer and candidates handed over directly; each side sends and receives.
LOOPBACK_PAGE = """<!doctype html><meta charset="utf-8"><title>loopback</title>
<script>
async function decoded(pc) {
  let frames = 0;
  (await pc.getStats()).forEach((s) => {
    if (s.type === "inbound-rtp" && s.kind === "video") frames += s.framesDecoded || 0;
  });
  return frames;
}
async function firstFrame(pc) {
  const deadline = Date.now() + 30000;
  while (Date.now() < deadline) {
    if ((await decoded(pc)) > 0) return Date.now();
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return null;
}
window.loopback = async () => {
  const t0 = Date.now();
  const media = { audio: true, video: { width: { ideal: 1280 }, height: { ideal: 720 } } };
  const a = new RTCPeerConnection();
  const b = new RTCPeerConnection();
  a.onicecandidate = (e) => e.candidate && b.addIceCandidate(e.candidate);
  b.onicecandidate = (e) => e.candidate && a.addIceCandidate(e.candidate);
  const streamA = await navigator.mediaDevices.getUserMedia(media);
  for (const t of streamA.getTracks()) a.addTrack(t, streamA);
  const firstB = firstFrame(b);
  await a.setLocalDescription(await a.createOffer());
  await b.setRemoteDescription(a.localDescription);
  const streamB = await navigator.mediaDevices.getUserMedia(media);
  for (const t of streamB.getTracks()) b.addTrack(t, streamB);
  const firstA = firstFrame(a);
  await b.setLocalDescription(await b.createAnswer());
  await a.setRemoteDescription(b.localDescription);
  const [atB, atA] = await Promise.all([firstB, firstA]);
  a.close(); b.close();
  for (const t of [...streamA.getTracks(), ...streamB.getTracks()]) t.stop();
  return { receiver: atB && atB - t0, sender: atA && atA - t0 };
};
</script>"""


@dataclass
class CallTimes:
    patient_s: float
    specialist_s: float


def bench_call(
    args: argparse.Namespace, env: dict[str, str], tmp: Path, rooms: list[Room]
) -> tuple[bool, list[tuple[str, bool]]]:
    from playwright.sync_api import sync_playwright

    workers = 1 if not args.redis_url else args.workers
    print(
        f"\n== 3. call-in to the first decoded frame: Chromium {chromium_version()}, "
        f"{server_description(default_server())}, {workers} worker(s) (bin/serve) =="
    )
    if workers == 1 and args.workers > 1:
        print(
            "   (one worker: with the in-process channel layer the two pages must share a "
            "worker, or the call never starts; --redis-url runs it on --workers)"
        )
    kept: list[tuple[CallTimes, CallTimes, float]] = []  # call, reference, other CPU
    problems: list[str] = []
    spare = iter(rooms)
    with (
        running_server(env | {"WORKERS": str(workers)}, tmp) as server,
        sync_playwright() as pw,
    ):
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            for n in range(CALL_RUNS + 1):  # the first is a warm-up
                tries: list[tuple[CallTimes, CallTimes, float]] = []
                attempts = ATTEMPTS if n else 1  # the warm-up is not repeated
                while len(tries) < attempts and (not tries or tries[-1][2] > DISTURBED):
                    room = next(spare, None)
                    if room is None:
                        break  # no consult left for another try: keep the least disturbed
                    if tries:
                        print(f"      other processes used {tries[-1][2]:.0%}: again")
                    window = TreeWindow(server.proc.pid)
                    call, hidden = call_in(browser, server.base_url, room)
                    loop = loopback(browser, server.base_url)
                    tries.append((call, loop, window.other()))
                    if hidden:
                        problems.append(hidden)
                    print(
                        f"   {'warm-up' if n == 0 else f'run {n}'}: call {call.patient_s:.3f} s "
                        f"(patient), {call.specialist_s:.3f} s (specialist); loopback reference "
                        f"{loop.patient_s:.3f} / {loop.specialist_s:.3f} s; "
                        f"other CPU {tries[-1][2]:.0%}"
                    )
                if n and tries:
                    kept.append(min(tries, key=lambda t: t[2]))
        finally:
            browser.close()
    if len(kept) < CALL_RUNS:
        raise BenchError(f"only {len(kept)} of {CALL_RUNS} calls were measured")
    patient = statistics.median(c.patient_s for c, _, _ in kept)
    specialist = statistics.median(c.specialist_s for c, _, _ in kept)
    ref_b = statistics.median(r.patient_s for _, r, _ in kept)
    ref_a = statistics.median(r.specialist_s for _, r, _ in kept)
    other = max(o for _, _, o in kept)
    print(f"{'median of ' + str(len(kept)) + ' runs':<44}{'patient s':>11}{'specialist s':>14}")
    print(f"{'click on start → first decoded frame':<44}{patient:>11.3f}{specialist:>14.3f}")
    print(f"{'loopback pair in one page (reference)':<44}{ref_b:>11.3f}{ref_a:>14.3f}")
    print(
        f"{'what the consult adds':<44}{patient - ref_b:>11.3f}{specialist - ref_a:>14.3f}"
        f"   other CPU at most {other:.0%}"
    )
    disturbed(other, "a kept call run")
    ok = max(patient, specialist) < FIRST_FRAME_TARGET_S
    print(
        f"first decoded frame, median {max(patient, specialist):.3f} s (slower side): "
        f"{'PASS' if ok else 'FAIL'} (target: < {FIRST_FRAME_TARGET_S:.0f} s)"
    )
    for problem in sorted(set(problems)):
        print(f"   !! {problem}")
    checks = [(f"call: {len(kept)} measured calls decoded frames on both sides", True)]
    return ok, checks


def call_in(browser: Any, base_url: str, room: Room) -> tuple[CallTimes, str]:
    """The patient waits; the specialist calls in; both confirm who is present; the specialist
    starts the call. Returns the times from the click on "start" to each side's first decoded
    frame, and what got in the way (if anything)."""
    from django.conf import settings

    def page_of(session: str) -> Any:
        context = browser.new_context(locale="ja-JP", viewport={"width": 1280, "height": 900})
        context.add_cookies(
            [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": base_url}]
        )
        page = context.new_page()
        page.set_default_timeout(15_000)
        return page

    patient, doctor = page_of(room.patient_session), page_of(room.specialist_session)
    try:
        patient.goto(f"{base_url}/cases/{room.case_id}/consult/")
        patient.wait_for_selector("#room[data-state=waiting]")
        doctor.goto(f"{base_url}/staff/cases/{room.case_id}/consult/")
        doctor.wait_for_selector("#call-in:enabled")
        doctor.click("#call-in")
        patient.wait_for_selector("#present-confirm", state="visible")
        patient.click("#present-confirm")
        doctor.wait_for_selector("#present-confirm", state="visible")
        doctor.click("#present-confirm")
        doctor.wait_for_selector("#start-call:enabled", state="attached")
        hidden = ""
        if not doctor.is_visible("#start-call"):
            raise BenchError('"start the call" is enabled but not visible to the specialist')
        for page in (patient, doctor):
            page.evaluate(FIRST_FRAME)
        # The click itself, as the button's handler sees it; Date.now() is the machine's clock
        # in both pages.
        clicked = doctor.evaluate(
            "() => { const t = Date.now(); document.getElementById('start-call').click(); "
            "return t; }"
        )
        at_patient = patient.evaluate("() => window.__firstFrame")
        at_doctor = doctor.evaluate("() => window.__firstFrame")
        if at_patient is None or at_doctor is None:
            raise BenchError(f"consult {room.consult_id}: no frame decoded within 30 s")
        return CallTimes((at_patient - clicked) / 1000, (at_doctor - clicked) / 1000), hidden
    finally:
        for page in (patient, doctor):
            page.context.close()


def loopback(browser: Any, base_url: str) -> CallTimes:
    """The reference, served from the site's origin (a secure context, as the consult pages)
    by Playwright itself: nothing is added to the site."""
    context = browser.new_context()
    try:
        url = f"{base_url}/bench/loopback"
        context.route(
            url, lambda route: route.fulfill(content_type="text/html", body=LOOPBACK_PAGE)
        )
        page = context.new_page()
        page.goto(url)
        result = page.evaluate("() => window.loopback()")
        if result["receiver"] is None or result["sender"] is None:
            raise BenchError("the loopback pair decoded no frame within 30 s")
        return CallTimes(result["receiver"] / 1000, result["sender"] / 1000)
    finally:
        context.close()


def chromium_version() -> str:
    done = subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True, check=False)
    return done.stdout.strip().removeprefix("Chromium ") or "unknown"


# --- shared -------------------------------------------------------------------------------------


def pct(values: list[float], p: int) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def warn_if_busy() -> None:
    busy = cpu_busy_fraction()
    if busy > DISTURBED:
        print(f"!! the CPU was {busy:.0%} busy just before: other processes are using it")


def disturbed(other: float, what: str) -> None:
    if other > DISTURBED:
        print(
            f"!! other processes used {other:.0%} of the CPU during {what}: its figures are "
            "worse than on a quiet machine; rerun when it is"
        )


def descendants_ticks(root: int) -> int:
    """CPU ticks of every living descendant of `root` (the browser and its helpers), with those
    of their children that ended and were reaped."""
    parents, ticks = {}, {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(stat.parent.name)
        # Its own time and that of its children that ended (renderers of closed contexts).
        parents[pid], ticks[pid] = int(fields[1]), sum(int(x) for x in fields[11:15])

    def under(pid: int) -> bool:
        while pid > 1:
            pid = parents.get(pid, 0)
            if pid == root:
                return True
        return False

    return sum(t for pid, t in ticks.items() if under(pid))


class TreeWindow(CpuWindow):
    """As CpuWindow, with this process's living descendants (Playwright's driver, Chromium)
    counted as ours too."""

    def __init__(self, pgid: int | None = None) -> None:
        super().__init__(pgid)
        self.children_start = descendants_ticks(os.getpid())

    def other(self) -> float:
        total, busy, ours = (a - b for a, b in zip(self.sample(), self.start, strict=True))
        children = descendants_ticks(os.getpid()) - self.children_start
        return max(busy - ours - children, 0) / max(total, 1)


def print_machine(args: argparse.Namespace) -> None:
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    load = os.getloadavg()
    print(f"date:    {date.today().isoformat()}")
    print(
        f"machine: {cpu_model()}, {os.cpu_count()} cores, {ram / 2**30:.0f} GiB RAM, "
        f"{platform.system()} {platform.release()}; load average {load[0]:.2f} {load[1]:.2f} "
        f"{load[2]:.2f}"
    )
    print(
        f"python:  {platform.python_implementation()} {platform.python_version()}, "
        f"Django {version('django')}, Channels {version('channels')}, "
        f"websockets {version('websockets')} (server and client), "
        f"Playwright {version('playwright')}"
    )
    print(f"server:  {server_description(default_server())}, bin/serve; {database_name(args)}")


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (BenchError, OSError, subprocess.CalledProcessError) as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        sys.exit(1)
