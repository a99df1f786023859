"""Load test (issue #17): 200 simulated people for 5 minutes against `make run-scaled`, with one
web worker, Redis and the S3 server killed in the middle, then the same people against `make run`.

    make bench-load                                   # both targets, about 20 minutes
    .venv/bin/python bench/load.py --target scaled    # or embedded
    .venv/bin/python bench/load.py --users 40 --minutes 1 --no-chaos   # a quick look

For each target the site is started the way its make target starts it, in a temporary directory
on free ports: `bin/run_scaled.py start --free-ports --no-history` (PostgreSQL, Redis, SeaweedFS,
coturn, nginx with TLS before 3 uvicorn workers, 2 task workers), or bin/serve on a fresh SQLite
database with the demo data (2 workers and the task worker, as `make run`). Then, in a process
with the site's own settings, the plan is prepared **through the ORM and the test builders
(benchmark setup, not the product's paths)**: patient accounts, each with a case that fits what
it will do (a draft to upload into, an offer of two dates to book, a consult whose waiting room
is open), server-side sessions as a sign-in would make them, sessions for coordinator Sato and
Dr Tanaka (both have their authenticator enrolled), and PDFs of 5, 10, 20 and 50 MiB.

locust (bench/load_users.py, headless, one process) then runs the people, started at 10 a
second: visitors reading the public pages, patients looking at their case, applicants uploading
scans of 5-50 MB, patients booking a date with a double click (two POSTs at once), patients in
the waiting room (page, join token, WebSocket with hello and the room's state, pings, closed,
joined again), coordinators on the queue, its filters, case pages and the case API, specialists
on their home page, queue and cases. Think times of a few seconds, as people have.

Against the scaled stack, unless --no-chaos: at 1:10 web worker 2 is killed (SIGKILL), at 2:20
Redis, at 3:30 the S3 server, each restarted at once with `bin/run_scaled.py start NAME` as a
supervisor would; the report gives, for each, the time until it answered again and the requests
that failed in the meantime.

After the run, in the site's settings: the task queue drains (every e-mail sent, none failed),
no case has two live bookings and no slot is booked twice, every upload that was answered "ok"
is a document whose stored object has the uploaded size and SHA-256, no stored object lacks its
document (a failed upload leaves nothing), and the audit log verifies
(`manage.py verify_audit_log`). Printed: requests/s, p50/p95/p99 per page kind and errors (on
the scaled stack also each kind's p95 in nginx's access log, the server's side), then both
targets side by side. Target (both): p95 < 300 ms for every page kind (the uploads are given
in MB/s instead: their time is the file's size), 0 errors outside the outages, every check passed.
Exits 1 when a check fails.

Everything (server, locust, the people's client) shares this machine's cores: the figures are
lower than from a separate load machine, and the script says how busy the CPU was.
"""

import argparse
import contextlib
import json
import os
import re
import shlex
import signal
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.eligibility_api import cpu_busy_fraction, free_port, prepare_database  # noqa: E402
from bench.upload import MiB, cpu_model, write_pdf  # noqa: E402

BIN = Path(sys.executable).parent
HOST = "127.0.0.1"
PAGE_TARGET_MS = 300.0
FILE_SIZES_MIB = (5, 10, 20, 50)
# Shares of the simulated people (of --users); the rest are visitors.
SHARES = {
    "patient": 0.25,
    "uploader": 0.10,
    "booker": 0.20,
    "waiting": 0.15,
    "coordinator": 0.07,
    "specialist": 0.03,
}
UPLOAD_KIND = "upload 5-50 MB"
# When each part is killed, in seconds from the start of the run (of a 5-minute run).
CHAOS = (("web2", 70), ("redis", 140), ("s3", 210))
RECOVERY_TIMEOUT = 120.0
QUEUE_DRAIN_SECONDS = 180


class BenchError(Exception):
    pass


def main() -> int:
    args = parse_args()
    if args.command == "prepare":
        return prepare_command(args)
    if args.command == "verify":
        return verify_command(args)
    tmp = Path(tempfile.mkdtemp(prefix="opiniondesk-load-"))
    results: dict[str, Report] = {}
    try:
        files = {
            size: write_pdf(f"{size} MiB", tmp / f"scan-{size}.pdf", size * MiB)
            for size in FILE_SIZES_MIB
        }
        targets = ["scaled", "embedded"] if args.target == "both" else [args.target]
        for target in targets:
            print(f"\n===== {target}: {TARGET_NAMES[target]} =====", flush=True)
            results[target] = run_target(target, args, tmp / target, files)
            results[target].print()
    finally:
        if not args.keep:
            subprocess.run(["rm", "-rf", str(tmp)], check=False)
    if len(results) > 1:
        print_side_by_side(results)
    print_machine()
    return 0 if all(r.passed for r in results.values()) else 1


TARGET_NAMES = {
    "scaled": "make run-scaled (PostgreSQL, Redis, S3, nginx/TLS, 3 web workers, 2 task workers)",
    "embedded": "make run (SQLite, local files, 2 web workers, the task worker)",
}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", nargs="?", default="run", choices=["run", "prepare", "verify"])
    parser.add_argument("--target", choices=["both", "scaled", "embedded"], default="both")
    parser.add_argument("--users", type=int, default=200, help="simulated people (default 200)")
    parser.add_argument("--minutes", type=float, default=5.0, help="length of each run (default 5)")
    parser.add_argument("--no-chaos", action="store_true", help="kill nothing during the run")
    parser.add_argument(
        "--no-uploads",
        action="store_true",
        help="no uploaders (visitors instead): what the pages cost without the uploads' load",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument("--plan", type=Path, help=argparse.SUPPRESS)  # prepare / verify
    args = parser.parse_args()
    if args.command == "run" and not (10 <= args.users <= 1000 and 0.5 <= args.minutes <= 60):
        parser.error("--users must be 10-1000 and --minutes 0.5-60")
    return args


def counts_for(users: int, uploads: bool = True) -> dict[str, int]:
    counts = {kind: max(1, round(users * share)) for kind, share in SHARES.items()}
    if not uploads:
        counts["uploader"] = 0
    counts["visitor"] = users - sum(counts.values())
    return counts


# --- the targets ----------------------------------------------------------------------------


@dataclass
class Site:
    base_url: str
    env: dict[str, str]
    ca: str = ""
    directory: Path | None = None
    stop: Any = None
    log: Path | None = None


# Both: the waiting rooms of the plan open 30 minutes before their consult (the default is 5),
# so that they stay open for a whole run.
ROOM_ENV = {"CONSULT_ROOM_OPENS_MINUTES": "30", "STATIC_COMPRESS": "false"}


def run_scaled(*arguments: str, directory: Path, timeout: float = 600) -> str:
    done = subprocess.run(
        [sys.executable, "bin/run_scaled.py", *arguments, "--dir", str(directory)],
        cwd=ROOT,
        env=os.environ | ROOM_ENV,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise BenchError(f"run_scaled {' '.join(arguments)}: {done.stdout}{done.stderr}")
    return done.stdout


@contextlib.contextmanager
def started(target: str, directory: Path):
    directory.mkdir(parents=True)
    if target == "scaled":
        began = time.monotonic()
        run_scaled("start", "--free-ports", "--no-history", directory=directory)
        print(f"   the stack started in {time.monotonic() - began:.0f} s", flush=True)
        state = json.loads((directory / "stack.json").read_text())
        env = dict(
            shlex.split(line)[0].split("=", 1)
            for line in (directory / "env").read_text().splitlines()
            if line
        )
        site = Site(
            f"https://{HOST}:{state['ports']['https']}",
            env,
            ca=str(directory / "tls" / "cert.pem"),
            directory=directory,
        )
        try:
            yield site
        finally:
            run_scaled("stop", directory=directory)
        return
    env = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "REDIS_URL", "LOG_LEVEL")}
    env |= ROOM_ENV | {
        "DEMO_MODE": "true",
        "DATABASE_URL": f"sqlite:///{directory / 'db.sqlite3'}",
        "MEDIA_ROOT": str(directory / "media"),
        "STATIC_ROOT": str(directory / "static"),
        "AUDIT_MAC_KEY_FILE": str(directory / "keys" / "audit-mac.key"),
        "AUDIT_SIGNING_KEY_FILE": str(directory / "keys" / "audit-signing.key"),
        "AUDIT_CHECKPOINT_DIR": str(directory / "audit-checkpoints"),
        "HOST": HOST,
        "PORT": str(free_port()),
        "WORKERS": "2",
        "BIN": str(BIN),
    }
    subprocess.run(
        [str(BIN / "python"), "manage.py", "create_audit_keys"],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    prepare_database(env)
    log = directory / "server.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            ["bin/serve"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    site = Site(f"http://{HOST}:{env['PORT']}", env, log=log)
    try:
        wait_healthy(site, "/healthz/web", 120)
        yield site
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def get(site: Site, path: str, timeout: float = 5, cookie: str = "") -> int:
    """The status of a GET (0 when nothing answered)."""
    context = ssl.create_default_context(cafile=site.ca) if site.ca else None
    request = urllib.request.Request(site.base_url + path, headers={"Cookie": cookie})
    try:
        with urllib.request.urlopen(request, timeout=timeout, context=context) as r:
            return int(r.status)
    except urllib.error.HTTPError as error:
        return int(error.code)
    except OSError:
        return 0


def wait_healthy(site: Site, path: str, timeout: float) -> float:
    began = time.monotonic()
    while time.monotonic() - began < timeout:
        if get(site, path) == 200:
            return time.monotonic() - began
        time.sleep(0.2)
    raise BenchError(f"{site.base_url}{path} not healthy within {timeout:.0f} s")


# --- a run ----------------------------------------------------------------------------------


@dataclass
class Outage:
    name: str
    killed_at: float
    back_after: float | None = None
    failed: int = 0
    requests: int = 0

    @property
    def ends_at(self) -> float:
        # An outage lasts from the kill until the part answered again, plus 5 s for the
        # requests that were in flight.
        return self.killed_at + (self.back_after or RECOVERY_TIMEOUT) + 5


@dataclass
class Report:
    target: str
    seconds: float
    records: list[dict[str, Any]]
    outages: list[Outage]
    checks: list[tuple[str, bool, str]]
    upload_mb_per_s: list[float] = field(default_factory=list)
    cpu_busy_before: float = 0.0
    started_at: float = 0.0
    cpu_seconds: dict[str, float] = field(default_factory=dict)
    # Per page kind, the times nginx logged ($request_time): the server's side of the same
    # requests, without locust's own waits (scaled only).
    proxy_ms: dict[str, list[float]] = field(default_factory=dict)
    # Requests sent again after the server reset a kept-alive connection before answering
    # (bench/browser_resend.py): what a browser does; counted apart, not as errors.
    resent: list[dict[str, Any]] = field(default_factory=list)

    def in_outage(self, at: float) -> bool:
        return any(o.killed_at <= at <= o.ends_at for o in self.outages)

    @property
    def stray_errors(self) -> list[dict[str, Any]]:
        return [r for r in self.records if not r["ok"] and not self.in_outage(r["at"])]

    def kinds(self) -> dict[str, list[dict[str, Any]]]:
        by_kind: dict[str, list[dict[str, Any]]] = {}
        for r in self.records:
            by_kind.setdefault(r["kind"], []).append(r)
        return dict(sorted(by_kind.items()))

    def slow_kinds(self) -> list[str]:
        return [
            kind
            for kind, rows in self.kinds().items()
            if kind != UPLOAD_KIND
            and percentile([r["ms"] for r in rows if r["ok"]], 95) > PAGE_TARGET_MS
        ]

    @property
    def passed(self) -> bool:
        return (
            not self.stray_errors and all(ok for _, ok, _ in self.checks) and not self.slow_kinds()
        )

    def print(self) -> None:
        total = len(self.records)
        failed = sum(not r["ok"] for r in self.records)
        print(
            f"\n-- {self.target}: {total} requests in {self.seconds:.0f} s, "
            f"{total / self.seconds:.1f}/s, {failed} failed"
        )
        print(f"the CPU was {self.cpu_busy_before:.0%} busy just before the run")
        proxy = " p95 at nginx" if self.proxy_ms else ""
        heads = f"{'requests':>9}{'failed':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"
        print(f"{'kind':<26}{heads}{proxy}")
        for kind, rows in self.kinds().items():
            ms = [r["ms"] for r in rows if r["ok"]]
            at_proxy = self.proxy_ms.get(kind)
            print(
                f"{kind:<26}{len(rows):>9}{sum(not r['ok'] for r in rows):>8}"
                f"{percentile(ms, 50):>9.0f}{percentile(ms, 95):>9.0f}{percentile(ms, 99):>9.0f}"
                + (f"{percentile(at_proxy, 95):>13.0f}" if at_proxy else "")
            )
        if self.upload_mb_per_s:
            print(
                f"uploads: {len(self.upload_mb_per_s)} stored, MB/s per upload p50 "
                f"{percentile(self.upload_mb_per_s, 50):.0f}, "
                f"slowest {min(self.upload_mb_per_s):.0f}"
            )
        for o in self.outages:
            back = (
                f"answered again after {o.back_after:.1f} s"
                if o.back_after
                else "DID NOT COME BACK"
            )
            print(
                f"killed {o.name} at {o.killed_at - self.started_at:.0f} s: "
                f"{back}; {o.failed} of {o.requests} requests failed meanwhile"
            )
        capacity = self.seconds * (os.cpu_count() or 1)
        print(
            f"CPU used during the run, of {capacity:.0f} s ({os.cpu_count()} cores): "
            + ", ".join(
                f"{name} {sec:.0f} s"
                for name, sec in self.cpu_seconds.items()
                if sec >= 1 and not name.startswith("(")
            )
        )
        busy = self.cpu_seconds.get("(the machine was busy, %)", 0.0)
        print(f"all cores together were {busy:.0f} % busy during the run (/proc/stat)")
        print(
            f"requests sent again on a new connection, as a browser does, after the server "
            f"reset the kept-alive one before answering: {len(self.resent)}"
        )
        for r in self.resent[:5]:
            print(f"   at {r['at'] - self.started_at:.0f} s, {r['url']}: {r['error']}")
        stray = self.stray_errors
        print(f"errors outside the outages: {len(stray)}")
        for r in stray[:10]:
            print(
                f"   at {r['at'] - self.started_at:.0f} s, {r['kind']}: {r['status']} {r['error']}"
            )
        for name, ok, detail in self.checks:
            print(f"{'ok  ' if ok else 'FAIL'} {name}{': ' + detail if detail else ''}")
        for kind in self.slow_kinds():
            print(f"FAIL p95 of {kind} above {PAGE_TARGET_MS:.0f} ms")
        print(f"{self.target}: {'PASS' if self.passed else 'FAIL'}", flush=True)


def percentile(values: list[float], p: int) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1]


def run_target(
    target: str, args: argparse.Namespace, directory: Path, files: dict[int, Any]
) -> Report:
    with started(target, directory) as site:
        plan = directory / "plan.json"
        counts = counts_for(args.users, uploads=not args.no_uploads)
        manage_self(site, "prepare", plan, {"LOAD_COUNTS": json.dumps(counts)})
        data = json.loads(plan.read_text())
        data["files"] = {str(size): str(f.path) for size, f in files.items()}
        plan.write_text(json.dumps(data))
        warm_up(site, data)
        busy = cpu_busy_fraction()
        records_path, uploads_path = directory / "records.jsonl", directory / "uploads.json"
        seconds = round(args.minutes * 60)
        chaos = Chaos(site, seconds) if target == "scaled" and not args.no_chaos else None
        print(f"   {args.users} people for {seconds} s: {counts}", flush=True)
        began = time.monotonic()
        started_at = time.time()
        cpu = CpuAccount()
        cpu.sample()
        cpu.start()
        if chaos:
            chaos.start()
        locust = subprocess.run(
            [
                str(BIN / "locust"),
                "-f",
                str(ROOT / "bench" / "load_users.py"),
                "--headless",
                "--users",
                str(args.users),
                "--spawn-rate",
                "10",
                "--run-time",
                f"{seconds}s",
                "--host",
                site.base_url,
                "--stop-timeout",
                "40",
                "--only-summary",
                "--loglevel",
                "WARNING",
                "--exit-code-on-error",
                "0",
            ],
            cwd=ROOT,
            env=os.environ
            | {
                "LOAD_PLAN": str(plan),
                "LOAD_CA": site.ca,
                "LOAD_RECORDS": str(records_path),
                "LOAD_UPLOADS": str(uploads_path),
            },
            capture_output=True,
            text=True,
            timeout=seconds + 300,
            check=False,
        )
        elapsed = time.monotonic() - began
        cpu_seconds = cpu.finish()
        cpu_seconds["(the machine was busy, %)"] = round(cpu.busy_fraction * 100, 1)
        if chaos:
            chaos.join()
        if locust.returncode != 0 or not records_path.exists():
            raise BenchError(f"locust failed ({locust.returncode}):\n{locust.stderr[-4000:]}")
        lines = [json.loads(line) for line in records_path.read_text().splitlines() if line]
        records = sorted((r for r in lines if not r.get("resent")), key=lambda r: r["at"])
        resent = [r for r in lines if r.get("resent")]
        outages = chaos.outages if chaos else []
        for o in outages:
            window = [r for r in records if o.killed_at <= r["at"] <= o.ends_at]
            o.requests, o.failed = len(window), sum(not r["ok"] for r in window)
        print("   the run is over: the task queue drains, then the checks", flush=True)
        windows = [[o.name, o.killed_at, o.ends_at] for o in outages]
        verdict = manage_self(
            site,
            "verify",
            plan,
            {"LOAD_UPLOADS": str(uploads_path), "LOAD_OUTAGES": json.dumps(windows)},
        )
        checks = [(c["name"], c["ok"], c["detail"]) for c in verdict["checks"]]
        sent = json.loads(uploads_path.read_text()) if uploads_path.exists() else []
        rates = [u["size"] * MiB / 1e6 / u["seconds"] for u in sent if u["stored"]]
        access_log = directory / "logs" / "nginx-access.log"
        proxy_ms = proxy_times(access_log, since=started_at) if access_log.exists() else {}
        return Report(
            target,
            elapsed,
            records,
            outages,
            checks,
            rates,
            busy,
            started_at,
            cpu_seconds,
            proxy_ms,
            resent,
        )


# The page kinds of bench/load_users.py as nginx logs them ("METHOD path"); the WebSocket is
# logged when it closes, with its whole life as its time, so it has no figure here.
PROXY_KINDS = [
    ("public page", re.compile(r"GET (/|/fees/|/departments/)")),
    ("patient dashboard", re.compile(r"GET /dashboard/")),
    ("patient case page", re.compile(r"GET /cases/\d+/")),
    ("documents page", re.compile(r"GET /cases/\d+/documents/")),
    (UPLOAD_KIND, re.compile(r"POST /cases/\d+/documents/")),
    ("book a date", re.compile(r"POST /cases/\d+/book/")),
    ("waiting room page", re.compile(r"GET /cases/\d+/consult/")),
    ("room token", re.compile(r"GET /consults/\d+/token/")),
    ("staff home", re.compile(r"GET /staff/")),
    ("staff queue", re.compile(r"GET /staff/queue/")),
    ("staff case page", re.compile(r"GET /staff/cases/\d+/")),
    ("case API list", re.compile(r"GET /api/v1/cases")),
]
# run_scaled's log format: '... [time] "METHOD uri" status bytes request_time upstream ...'
ACCESS_LINE = re.compile(r'\[(\S+)\] "(\S+ \S+)" \d{3} \d+ ([\d.]+) ')


def proxy_times(access_log: Path, *, since: float) -> dict[str, list[float]]:
    """Milliseconds per page kind from nginx's access log, of the requests that ended after
    `since` (the run's start: not the warm-up's)."""
    times: dict[str, list[float]] = {}
    with access_log.open(encoding="utf-8", errors="replace") as lines:
        for line in lines:
            if not (m := ACCESS_LINE.search(line)):
                continue
            if datetime.fromisoformat(m[1]).timestamp() < int(since):
                continue
            kind = next((k for k, rx in PROXY_KINDS if rx.fullmatch(m[2])), None)
            if kind:
                times.setdefault(kind, []).append(float(m[3]) * 1000)
    return times


def manage_self(site: Site, command: str, plan: Path, extra: dict[str, str]) -> Any:
    """This script's prepare or verify, in a process with the site's settings."""
    done = subprocess.run(
        [sys.executable, __file__, command, "--plan", str(plan)],
        cwd=ROOT,
        env=os.environ
        | site.env
        | ROOM_ENV
        | extra
        | {"DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    if done.returncode != 0:
        raise BenchError(f"{command} failed:\n{done.stdout[-3000:]}{done.stderr[-5000:]}")
    return (
        json.loads(plan.read_text())
        if command == "prepare"
        else json.loads(done.stdout.strip().splitlines()[-1])
    )


def warm_up(site: Site, plan: dict[str, Any]) -> None:
    """Each page kind a few times on every worker, as a site that has been up a while (the first
    request of a process loads its templates and opens its connections)."""
    accounts = plan["accounts"]

    def cookie(kind: str) -> str:
        return f"{plan['session_cookie']}={accounts[kind][0]['session']}"

    pages = [("/", ""), ("/fees/", ""), ("/departments/", ""), ("/staff/", cookie("specialist"))]
    pages += [("/dashboard/", cookie("patient")), ("/staff/queue/", cookie("coordinator"))]
    pages += [(f"/cases/{accounts['patient'][0]['case']}/", cookie("patient"))]
    pages += [(f"/staff/cases/{plan['staff_cases'][0]}/", cookie("coordinator"))]
    pages += [("/api/v1/cases", cookie("coordinator"))]
    for _ in range(6):
        for path, who in pages:
            get(site, path, timeout=30, cookie=who)


CATEGORIES = (
    ("locust", "locust (the simulated people)"),
    ("uvicorn", "web workers (uvicorn)"),
    ("db_worker", "task workers"),
    ("bin/serve", "web workers (uvicorn)"),
    # `uvicorn --workers N` (make run's bin/serve) starts its workers with multiprocessing's
    # spawn: their command line names no uvicorn. Nothing else in the run is spawned so.
    ("multiprocessing.spawn", "web workers (uvicorn)"),
    ("postgres", "PostgreSQL"),
    ("nginx", "nginx (TLS)"),
    ("weed", "S3 server (SeaweedFS)"),
    ("redis-server", "Redis"),
    ("turnserver", "coturn"),
)
CLK_TCK = os.sysconf("SC_CLK_TCK")


class CpuAccount(threading.Thread):
    """Which processes used the CPU during the run: every process's user and system time and its
    reaped children's, sampled every 2 s (processes that start meanwhile count from their start;
    a child sampled before it ended is counted twice, a small excess)."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.first: dict[int, tuple[int, int]] = {}
        self.last: dict[int, tuple[str, int, int]] = {}
        self.stopping = threading.Event()
        self.boot_ticks = self.uptime_ticks()
        self.at_start = self.machine()
        self.busy_fraction = 0.0

    @staticmethod
    def uptime_ticks() -> int:
        return round(float(Path("/proc/uptime").read_text().split()[0]) * CLK_TCK)

    def sample(self) -> None:
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit():
                continue
            try:
                fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
                cmdline = (
                    (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                )
            except OSError:
                continue
            # Its own time and its reaped children's: PostgreSQL's backends, one per connection,
            # often live less than a sample's interval, and are counted in the postmaster's.
            pid, own = int(proc.name), sum(int(f) for f in fields[11:13])
            ticks = own + sum(int(f) for f in fields[13:15])
            if not cmdline.strip() and pid in self.last:
                # A killed part, not yet reaped, has an empty command line: it stays counted
                # as what it was (the chaos's web worker and S3 server went to "other" before).
                cmdline = self.last[pid][0]
            if pid not in self.first:
                started_during = int(fields[19]) >= self.boot_ticks
                self.first[pid] = (0, 0) if started_during else (own, ticks)
            self.last[pid] = (cmdline, own, ticks)

    def run(self) -> None:
        while not self.stopping.wait(2.0):
            self.sample()

    @staticmethod
    def machine() -> tuple[int, int]:
        """(busy, total) ticks of all cores since boot, from /proc/stat."""
        values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        idle = values[3] + values[4]  # idle and iowait
        return sum(values) - idle, sum(values)

    def finish(self) -> dict[str, float]:
        self.stopping.set()
        self.sample()
        busy, total = self.machine()
        self.busy_fraction = (busy - self.at_start[0]) / max(1, total - self.at_start[1])
        used: dict[str, float] = {}
        for pid, (cmdline, own, ticks) in self.last.items():
            name = next((label for key, label in CATEGORIES if key in cmdline), "other")
            # Anything else counts its own time only: a part killed by the chaos is reaped by
            # the machine's init, whose children's time would count that part a second time.
            spent = ticks - self.first[pid][1] if name != "other" else own - self.first[pid][0]
            used[name] = used.get(name, 0.0) + spent / CLK_TCK
        return dict(sorted(used.items(), key=lambda item: -item[1]))


class Chaos(threading.Thread):
    """Kills a web worker, Redis and the S3 server in turn, restarts each at once (as systemd's
    Restart=always would) and times how long until it answers again."""

    def __init__(self, site: Site, seconds: int) -> None:
        super().__init__(daemon=True)
        self.site, self.seconds, self.outages = site, seconds, []
        assert site.directory is not None
        self.directory = site.directory
        self.error: BaseException | None = None

    def run(self) -> None:
        began = time.monotonic()
        scale = self.seconds / 300
        for name, at in CHAOS:
            time.sleep(max(0.0, began + at * scale - time.monotonic()))
            pid = int((self.directory / "run" / f"{name}.pid").read_text().split()[0])
            outage = Outage(name, time.time())
            os.killpg(pid, signal.SIGKILL)
            self.outages.append(outage)
            killed = time.monotonic()
            try:
                run_scaled("start", name, directory=self.directory, timeout=RECOVERY_TIMEOUT)
                # A worker asked directly; Redis and S3 through nginx's /healthz.
                site, path = (
                    (Site(f"http://{HOST}:{self.ports()[name]}", {}), "/healthz/web")
                    if name.startswith("web")
                    else (self.site, "/healthz")
                )
                wait_healthy(site, path, RECOVERY_TIMEOUT - (time.monotonic() - killed))
                outage.back_after = time.monotonic() - killed
            except BenchError as error:
                print(f"   restarting {name} failed: {error}", flush=True)

    def ports(self) -> dict[str, int]:
        return dict(json.loads((self.directory / "stack.json").read_text())["ports"])


def print_side_by_side(results: dict[str, Report]) -> None:
    print("\n===== side by side: p95 ms (requests, failed) =====")
    kinds = sorted({k for r in results.values() for k in r.kinds()})
    print(f"{'kind':<26}" + "".join(f"{t:>24}" for t in results))
    for kind in kinds:
        cells = []
        for r in results.values():
            rows = r.kinds().get(kind, [])
            ms = [x["ms"] for x in rows if x["ok"]]
            cells.append(
                f"{percentile(ms, 95):.0f} ({len(rows)}, {sum(not x['ok'] for x in rows)})"
            )
        print(f"{kind:<26}" + "".join(f"{c:>24}" for c in cells))
    print(
        "requests/s".ljust(26)
        + "".join(f"{len(r.records) / r.seconds:>24.1f}" for r in results.values())
    )


def print_machine() -> None:
    from importlib.metadata import version

    print(
        f"\nmachine: {cpu_model()}, {os.cpu_count()} cores; Python {sys.version.split()[0]}, "
        f"locust {version('locust')}; the server, locust and the people share these cores"
    )


# --- in the site's settings: the plan, and the checks afterwards --------------------------


def setup_django() -> None:
    import django

    django.setup()


def prepare_command(args: argparse.Namespace) -> int:
    setup_django()
    counts = json.loads(os.environ["LOAD_COUNTS"])
    plan = prepare(counts)
    args.plan.write_text(json.dumps(plan))
    return 0


def prepare(counts: dict[str, int]) -> dict[str, Any]:
    from datetime import datetime
    from datetime import time as clock

    from django.conf import settings
    from django.utils import timezone

    from bench.consults import build_rooms, new_session
    from bench.scheduling import patients
    from opiniondesk.cases.models import Case
    from opiniondesk.cases.workflow import Status
    from opiniondesk.catalog.selectors import patient_deadline
    from opiniondesk.core.time import JST, jst_today
    from opiniondesk.scheduling.selectors import suggest_slots
    from opiniondesk.scheduling.services import offer_create
    from opiniondesk.testing.builders import case_in
    from opiniondesk.testing.personas import persona

    tag = f"l{os.getpid()}"

    def people(kind: str) -> list[Any]:
        return patients(f"load_{tag}_{kind}_", counts[kind], "木村")

    coordinator, doctor = persona("coordinator_sato"), persona("dr_tanaka")
    accounts: dict[str, list[dict[str, Any]]] = {"visitor": []}
    states = [Status.SUBMITTED, Status.SCREENING, Status.REFERRED, Status.ACCEPTED]
    accounts["patient"] = [
        {"session": new_session(u), "case": case_in(states[n % len(states)], applicant=u).pk}
        for n, u in enumerate(people("patient"))
    ]
    accounts["uploader"] = [
        {"session": new_session(u), "case": case_in(Status.DRAFT, applicant=u, documents=False).pk}
        for u in people("uploader")
    ]
    bookers = []
    for u in people("booker"):
        case = case_in(Status.ACCEPTED, applicant=u)
        slots = suggest_slots(department=case.department, today=jst_today(), limit=2)
        first_day = min(s.starts_at for s in slots).astimezone(JST).date()
        offer = offer_create(
            case_id=case.pk,
            actor=coordinator,
            slots=[(s.specialist_id, s.starts_at) for s in slots],
            hold_until=patient_deadline(
                datetime.combine(first_day - timedelta(days=1), clock.max, tzinfo=JST)
            ),
        )
        bookers.append(
            {
                "session": new_session(u),
                "case": case.pk,
                "slots": list(offer.slots.values_list("pk", flat=True)),
            }
        )
    accounts["booker"] = bookers
    rooms = build_rooms(counts["waiting"], tag, lead=timedelta(minutes=20))
    accounts["waiting"] = [
        {"session": r.patient_session, "case": r.case_id, "consult": r.consult_id} for r in rooms
    ]
    accounts["coordinator"] = [
        {"session": new_session(coordinator)} for _ in range(counts["coordinator"])
    ]
    accounts["specialist"] = [{"session": new_session(doctor)} for _ in range(counts["specialist"])]
    # The builders' e-mails are sent before the run (its own are checked afterwards).
    drain_task_queue()
    staff_cases = list(
        Case.objects.exclude(status=Status.DRAFT).order_by("-pk").values_list("pk", flat=True)[:500]
    )
    specialist_cases = [r.case_id for r in rooms] or staff_cases[:1]
    return {
        "prepared_at": timezone.now().isoformat(),
        "counts": counts,
        "accounts": accounts,
        "staff_cases": staff_cases,
        "specialist_cases": specialist_cases,
        "session_cookie": settings.SESSION_COOKIE_NAME,
        "csrf_cookie": settings.CSRF_COOKIE_NAME,
    }


def verify_command(args: argparse.Namespace) -> int:
    setup_django()
    plan = json.loads(args.plan.read_text())
    uploads = (
        json.loads(Path(os.environ["LOAD_UPLOADS"]).read_text())
        if Path(os.environ["LOAD_UPLOADS"]).exists()
        else []
    )
    outages = json.loads(os.environ.get("LOAD_OUTAGES", "[]"))
    checks = verify(plan, uploads, outages)
    print(json.dumps({"checks": [{"name": n, "ok": ok, "detail": d} for n, ok, d in checks]}))
    return 0


def verify(
    plan: dict[str, Any], uploads: list[dict[str, Any]], outages: list[list[Any]]
) -> list[tuple[str, bool, str]]:
    import hashlib

    from django.core.files.storage import default_storage
    from django.db.models import Count
    from django_tasks_db.models import DBTaskResult

    from opiniondesk.core.storage import stored_files
    from opiniondesk.documents.models import Document
    from opiniondesk.scheduling.models import Booking

    checks: list[tuple[str, bool, str]] = []
    began = time.monotonic()
    waiting = drain_task_queue()
    run = DBTaskResult.objects.filter(enqueued_at__gte=plan["prepared_at"])
    failed = run.failed().count()
    sent = run.successful().filter(queue_name="email").count()
    checks.append(
        (
            "the task queue drained, no task failed",
            not waiting and not failed,
            f"{sent} e-mails sent, {waiting} waiting after "
            f"{time.monotonic() - began:.0f} s, {failed} failed",
        )
    )
    bookers = [a["case"] for a in plan["accounts"]["booker"]]
    live = Booking.objects.filter(cancelled_at__isnull=True)
    twice = (
        live.filter(case_id__in=bookers).values("case_id").annotate(n=Count("id")).filter(n__gt=1)
    )
    booked = live.filter(case_id__in=bookers).count()
    same_slot = live.values("specialist_id", "starts_at").annotate(n=Count("id")).filter(n__gt=1)
    checks.append(
        (
            "no double booking",
            not twice.exists() and not same_slot.exists(),
            f"{booked} of {len(bookers)} cases booked once, {twice.count()} twice, "
            f"{same_slot.count()} slots booked twice",
        )
    )
    wrong, stored = [], 0
    for upload in uploads:
        if not upload["stored"]:
            continue
        doc = Document.objects.filter(case_id=upload["case"], note=upload["note"]).first()
        if doc is None:
            wrong.append(f"{upload['note']}: no document")
            continue
        digest, size = hashlib.sha256(), 0
        with default_storage.open(doc.file.name, "rb") as f:
            while chunk := f.read(1024 * 1024):
                digest.update(chunk)
                size += len(chunk)
        if (
            digest.hexdigest() != doc.sha256
            or size != doc.size
            or size != upload["size"] * 1024 * 1024
        ):
            wrong.append(
                f"document {doc.pk}: {size} bytes, SHA-256 "
                f"{'ok' if digest.hexdigest() == doc.sha256 else 'wrong'}"
            )
        stored += 1
    checks.append(
        (
            "every upload answered ok is stored whole",
            not wrong,
            f"{stored} read back; " + "; ".join(wrong[:5]),
        )
    )
    # Documents are stored under cases/<id>/ (documents.models): everything there has its row,
    # but for a file stored by a part killed (or cut from the S3 server) before its row was
    # committed: documents.uploads says the orphan sweep removes those, which is checked here.
    named = set(Document.objects.values_list("file", flat=True))
    objects = dict(stored_files(default_storage, "cases"))
    orphans = sorted(set(objects) - named)
    in_outage: dict[str, str] = {}
    for name in orphans:
        at = objects[name].timestamp()
        for part, start, end in outages:
            if start - 5 <= at <= end:
                in_outage[name] = part
    stray = [name for name in orphans if name not in in_outage]
    swept = ""
    if in_outage and not stray:
        from opiniondesk.documents.uploads import remove_orphan_files

        removed = remove_orphan_files(max_age_hours=0)
        left = {name for name, _ in stored_files(default_storage, "cases")} - named
        swept = f"; {removed} removed by the orphan sweep, {len(left)} left"
        stray = sorted(left)
    checks.append(
        (
            "no stored object without its document",
            not stray,
            f"{len(objects)} objects, {len(stray)} without a document {stray[:3]}; "
            f"{len(in_outage)} stored in an outage before their row "
            f"({', '.join(sorted(set(in_outage.values()))) or 'none'}){swept}",
        )
    )
    done = subprocess.run(
        [sys.executable, "manage.py", "verify_audit_log"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    checks.append(
        (
            "the audit log verifies",
            done.returncode == 0,
            " ".join((done.stdout.strip().splitlines() or done.stderr.strip().splitlines())[-1:]),
        )
    )
    return checks


def drain_task_queue() -> int:
    """Waits until the task workers have taken every due task; returns how many still wait."""
    from django_tasks_db.models import DBTaskResult

    began = time.monotonic()
    while True:
        waiting = DBTaskResult.objects.ready().count() + DBTaskResult.objects.running().count()
        if not waiting or time.monotonic() - began > QUEUE_DRAIN_SECONDS:
            return waiting
        time.sleep(1)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as error:
        print(f"FAIL: {error}", file=sys.stderr)
        sys.exit(1)
