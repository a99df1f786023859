"""Benchmark of the eligibility API against a bare Django view (issue #2).

Starts the site the way `make run` does (bin/serve: the same ASGI server, workers and options,
DEMO_MODE=true, a fresh SQLite database migrated and loaded with the demo data, collectstatic
done), warms it up, then drives it with wrk on loopback: 32 connections, 2 threads, 10 s, against

  (a) POST /api/v1/eligibility/check with the example body of SPEC §10, and
  (b) GET /bench/bare, a view that only returns JsonResponse({"ok": True}) (bench/bare_view.py),

and prints requests/s, p50, p99 and non-2xx responses for each, and the ratio (a)/(b) with PASS
or FAIL against the target of 50 %. Exits non-zero on FAIL, on any non-2xx response or socket
error, so `make bench` can gate on it. The server and wrk share the machine's cores, so it also
measures how much CPU other processes took during each run, and repeats a disturbed run.

    .venv/bin/python bench/eligibility_api.py                  # the server bin/serve uses
    .venv/bin/python bench/eligibility_api.py --server all     # compare the ASGI servers

Only 127.0.0.1 is ever contacted; every load run is bounded by wrk's duration.
"""

import argparse
import json
import os
import platform
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, replace
from datetime import date
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: the project's modules sit beside bench/
    sys.path.insert(0, str(ROOT))

from opiniondesk.api.examples import SPEC_ELIGIBILITY_EXAMPLE  # noqa: E402

BIN = Path(sys.executable).parent  # the virtual environment running this script
HOST = "127.0.0.1"
SERVERS = ["uvicorn", "granian", "uvicorn-plain"]
TARGET_RATIO = 0.5
THREADS, CONNECTIONS, WARMUP_SECONDS = 2, 32, 3
# The server and wrk have the machine's cores to themselves, or the figures are low.
DISTURBED, ATTEMPTS = 0.1, 3

# SPEC §10's example request, as a proxy (the patient's child) would send it.
ELIGIBILITY_BODY = SPEC_ELIGIBILITY_EXAMPLE

# wrk counts 3xx as success; this counts every response outside 2xx, summed over the threads.
WRK_SCRIPT = """
wrk.method = "{method}"
wrk.headers["Content-Type"] = "application/json"
wrk.body = [==[{body}]==]
if wrk.body == "" then wrk.body = nil end
local threads = {{}}
function setup(thread) table.insert(threads, thread) end
function init(args) non2xx = 0 end
function response(status, headers, body)
  if status < 200 or status > 299 then non2xx = non2xx + 1 end
end
function done(summary, latency, requests)
  local n = 0
  for _, t in ipairs(threads) do n = n + t:get("non2xx") end
  io.write(string.format("non-2xx responses: %d\\n", n))
end
"""


@dataclass(frozen=True)
class Target:
    label: str
    method: str
    path: str
    body: str = ""


ELIGIBILITY = Target(
    "POST /api/v1/eligibility/check",
    "POST",
    "/api/v1/eligibility/check",
    json.dumps(ELIGIBILITY_BODY),
)
BARE = Target("GET /bench/bare (bare Django view)", "GET", "/bench/bare")


@dataclass(frozen=True)
class Figures:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    requests: int
    non_2xx: int
    socket_errors: int
    other_cpu: float = 0.0  # share of the machine's CPU used by other processes meanwhile


class BenchError(Exception):
    pass


def main() -> int:
    args = parse_args()
    wrk = shutil.which("wrk")
    if not wrk:
        print("wrk is not installed: `apt-get install wrk` (Debian), then run again.")
        return 2
    servers = SERVERS if args.server == "all" else [args.server]
    print_machine(wrk)
    results: dict[str, tuple[Figures, Figures]] = {}
    for server in servers:
        results[server] = bench_server(server, args, wrk)
    if len(servers) > 1:
        print_comparison(results)
    return 0 if all(passed(*pair) for pair in results.values()) else 1


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--server",
        choices=[*SERVERS, "all"],
        default=default_server(),
        help="ASGI server, as bin/serve's SERVER (default: bin/serve's own default)",
    )
    parser.add_argument(
        "--duration",
        type=int,
        default=10,
        choices=range(1, 61),
        metavar="1-60",
        help="seconds of load per endpoint (default 10)",
    )
    parser.add_argument("--workers", type=int, default=2, help="server workers (default 2)")
    return parser.parse_args()


def default_server() -> str:
    """bin/serve's default SERVER, so that `make bench` measures what `make run` serves."""
    found = re.search(r'"\$\{SERVER:=([\w-]+)\}"', (ROOT / "bin" / "serve").read_text())
    return found.group(1) if found else "uvicorn"


def bench_server(server: str, args: argparse.Namespace, wrk: str) -> tuple[Figures, Figures]:
    print(f"\n== {server_description(server)}, {args.workers} workers, started by bin/serve ==")
    warn_if_busy()
    with tempfile.TemporaryDirectory(prefix="opiniondesk-bench-") as tmp:
        env = bench_env(Path(tmp), server, args.workers)
        prepare_database(env)
        with running_server(env, Path(tmp)) as server_run:
            check_answers(server_run.base_url)
            load = LoadRun(wrk, server_run, Path(tmp))
            for target in (ELIGIBILITY, BARE):
                load.run(target, WARMUP_SECONDS)
            eligibility = load.measure(ELIGIBILITY, args.duration)
            bare = load.measure(BARE, args.duration)
    print_figures(eligibility, bare)
    return eligibility, bare


def bench_env(tmp: Path, server: str, workers: int) -> dict[str, str]:
    env = dict(os.environ)
    # Measure make run's embedded setup whatever this shell exports (no Redis, no DEBUG).
    for name in ("DEBUG", "REDIS_URL", "DATABASE_CONN_MAX_AGE", "LOG_LEVEL"):
        env.pop(name, None)
    return env | {
        "DEMO_MODE": "true",
        "BENCH_BARE_VIEW": "true",
        # The per-address limit (60 calls a minute) would refuse the clients, all on one address.
        "PUBLIC_API_RATE": "",
        "DATABASE_URL": f"sqlite:///{tmp / 'db.sqlite3'}",
        "MEDIA_ROOT": str(tmp / "media"),
        "HOST": HOST,
        "PORT": str(free_port()),
        "WORKERS": str(workers),
        "BIN": str(BIN),
        "SERVER": server,
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def prepare_database(env: dict[str, str]) -> None:
    """What `make run` does before serving: migrate, collectstatic, load_demo."""
    for command in (
        ["migrate", "--no-input", "-v0"],
        ["collectstatic", "--no-input", "-v0"],
        ["load_demo"],
    ):
        subprocess.run(
            [str(BIN / "python"), "manage.py", *command],
            cwd=ROOT,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )


class running_server:
    """bin/serve in its own process group, stopped as a group (server, workers, task worker)."""

    def __init__(self, env: dict[str, str], tmp: Path, ready_timeout: float = 60) -> None:
        self.env, self.log_path = env, tmp / "server.log"
        self.ready_timeout = ready_timeout  # a busy machine starts the workers slowly
        self.base_url = f"http://{HOST}:{env['PORT']}"

    def __enter__(self) -> "running_server":
        self.log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            ["bin/serve"],
            cwd=ROOT,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            wait_until_ready(self.base_url + BARE.path, self.proc, self.ready_timeout)
        except BaseException:
            self.__exit__(*sys.exc_info())
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()
        if exc and exc[0] is not None:
            print(f"-- server log ({self.log_path}) --\n{self.log_path.read_text()[-3000:]}")


def wait_until_ready(url: str, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BenchError(f"bin/serve exited with status {proc.returncode} before serving")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise BenchError(f"the server did not answer {url} within {timeout:.0f} s")


def check_answers(base_url: str) -> None:
    """Both endpoints answer 200 with the expected JSON before any load is sent."""
    request = urllib.request.Request(
        base_url + ELIGIBILITY.path,
        data=ELIGIBILITY.body.encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        verdict = json.load(response)
    if verdict != {"eligible": True, "reasons": [], "missing_documents": []}:
        raise BenchError(f"unexpected eligibility verdict for SPEC §10's example: {verdict}")
    with urllib.request.urlopen(base_url + BARE.path, timeout=10) as response:
        if json.load(response) != {"ok": True}:
            raise BenchError("the bare view did not answer {'ok': true}")


class LoadRun:
    """wrk against the running server, and what the rest of the machine did meanwhile."""

    def __init__(self, wrk: str, server: running_server, tmp: Path) -> None:
        self.wrk, self.server, self.script = wrk, server, tmp / "wrk.lua"

    def measure(self, target: Target, seconds: int) -> Figures:
        """A run disturbed by other processes is repeated (ATTEMPTS in all at most); the least
        disturbed one is kept."""
        runs = [self.run(target, seconds)]
        while runs[-1].other_cpu > DISTURBED and len(runs) < ATTEMPTS:
            print(
                f"   {target.label}: other processes used {runs[-1].other_cpu:.0%} of the CPU "
                "during the run: running it again"
            )
            runs.append(self.run(target, seconds))
        return min(runs, key=lambda f: f.other_cpu)

    def run(self, target: Target, seconds: int) -> Figures:
        self.script.write_text(WRK_SCRIPT.format(method=target.method, body=target.body))
        command = [self.wrk, f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{seconds}s"]
        command += ["--timeout", "5s", "--latency", "-s", str(self.script)]
        before = self.cpu_ticks()
        done = subprocess.run(
            [*command, self.server.base_url + target.path],
            capture_output=True,
            text=True,
            timeout=seconds + 30,
            check=True,
        )
        after = self.cpu_ticks()
        total, busy, ours = (a - b for a, b in zip(after, before, strict=True))
        return replace(parse_wrk(done.stdout), other_cpu=max(busy - ours, 0) / max(total, 1))

    def cpu_ticks(self) -> tuple[int, int, int]:
        """All cores' ticks, their busy ticks, and the ticks of the server and of wrk."""
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
        total, idle = sum(fields), fields[3] + fields[4]
        wrk_seconds = sum(resource.getrusage(resource.RUSAGE_CHILDREN)[:2])
        ours = round(wrk_seconds * os.sysconf("SC_CLK_TCK")) + process_group_ticks(
            self.server.proc.pid
        )
        return total, total - idle, ours


def process_group_ticks(pgid: int) -> int:
    """CPU ticks (user and system) used so far by the processes of a process group."""
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile
        if int(fields[2]) == pgid:  # fields[0] is the state: pgrp is field 5 of proc(5)
            ticks += int(fields[11]) + int(fields[12])
    return ticks


def parse_wrk(output: str) -> Figures:
    """Read requests/s, the latency percentiles and the error counts from `wrk --latency`."""
    percentiles = {
        int(m[1]): to_ms(float(m[2]), m[3])
        for m in re.finditer(r"^\s+(\d+)%\s+([\d.]+)(us|ms|s|m)\s*$", output, re.MULTILINE)
    }
    socket_errors = re.search(r"connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)

    def found(pattern: str) -> str:
        match = re.search(pattern, output)
        if match is None:
            raise BenchError(f"could not read wrk's output:\n{output}")
        return match[1]

    if 50 not in percentiles or 99 not in percentiles:
        raise BenchError(f"no latency distribution in wrk's output:\n{output}")
    return Figures(
        requests_per_second=float(found(r"Requests/sec:\s+([\d.]+)")),
        p50_ms=percentiles[50],
        p99_ms=percentiles[99],
        requests=int(found(r"(\d+) requests in")),
        non_2xx=int(found(r"non-2xx responses: (\d+)")),
        socket_errors=sum(map(int, socket_errors.groups())) if socket_errors else 0,
    )


def to_ms(value: float, unit: str) -> float:
    return value * {"us": 0.001, "ms": 1, "s": 1000, "m": 60_000}[unit]


def passed(eligibility: Figures, bare: Figures) -> bool:
    clean = all(f.non_2xx == 0 and f.socket_errors == 0 for f in (eligibility, bare))
    return clean and eligibility.requests_per_second >= TARGET_RATIO * bare.requests_per_second


def print_machine(wrk: str) -> None:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown CPU",
    )
    wrk_version = subprocess.run([wrk, "--version"], capture_output=True, text=True).stdout
    print(f"date:    {date.today().isoformat()}")
    print(f"machine: {cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}")
    print(
        f"python:  {platform.python_implementation()} {platform.python_version()}, "
        f"Django {version('django')}, DRF {version('djangorestframework')}"
    )
    print(
        f"load:    {wrk_version.split()[1]} on the same machine, {THREADS} threads, "
        f"{CONNECTIONS} connections, loopback, after {WARMUP_SECONDS} s of warm-up"
    )


def warn_if_busy() -> None:
    """The server and wrk share this machine's cores: anything else running skews the figures."""
    busy = cpu_busy_fraction()
    if busy > DISTURBED:
        print(
            f"!! the CPU was {busy:.0%} busy before the run: other processes are using it, so "
            "the figures will be low and noisy (the ratio suffers least)"
        )


def cpu_busy_fraction(seconds: float = 1.0) -> float:
    """How busy all cores were over `seconds`, from /proc/stat (0 where it cannot be read)."""

    def sample() -> tuple[int, int]:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
        idle = fields[3] + fields[4]  # idle and iowait
        return sum(fields), idle

    try:
        total0, idle0 = sample()
        time.sleep(seconds)
        total1, idle1 = sample()
    except OSError:
        return 0.0
    return 1 - (idle1 - idle0) / max(total1 - total0, 1)


def server_description(server: str) -> str:
    if server == "granian":
        return f"granian {version('granian')} --interface asgi (uvloop {version('uvloop')})"
    if server == "uvicorn-plain":
        return f"uvicorn {version('uvicorn')} --loop asyncio --http h11"
    return (
        f"uvicorn {version('uvicorn')} --loop uvloop --http httptools "
        f"(uvloop {version('uvloop')}, httptools {version('httptools')})"
    )


def print_figures(eligibility: Figures, bare: Figures) -> None:
    print(
        f"{'endpoint':<36}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'requests':>10}{'non-2xx':>9}"
        f"{'other CPU':>11}"
    )
    for target, f in ((ELIGIBILITY, eligibility), (BARE, bare)):
        print(
            f"{target.label:<36}{f.requests_per_second:>9.1f}{f.p50_ms:>9.2f}{f.p99_ms:>9.2f}"
            f"{f.requests:>10}{f.non_2xx:>9}{f.other_cpu:>11.0%}"
        )
    for target, f in ((ELIGIBILITY, eligibility), (BARE, bare)):
        if f.non_2xx or f.socket_errors:
            print(
                f"!! {target.label}: {f.non_2xx} non-2xx responses, "
                f"{f.socket_errors} socket errors: the figures above are not valid"
            )
        if f.other_cpu > DISTURBED:
            print(
                f"!! {target.label}: other processes used {f.other_cpu:.0%} of the CPU during "
                "the run, so its figures are low: rerun on a quiet machine"
            )
    ratio = eligibility.requests_per_second / bare.requests_per_second
    verdict = "PASS" if passed(eligibility, bare) else "FAIL"
    print(f"eligibility / bare: {ratio:.1%}  {verdict} (target: at least {TARGET_RATIO:.0%})")


def print_comparison(results: dict[str, tuple[Figures, Figures]]) -> None:
    print(
        f"\n== comparison ==\n{'server':<15}{'eligibility req/s':>18}{'p99 ms':>9}"
        f"{'bare req/s':>12}{'p99 ms':>9}{'ratio':>8}{'other CPU':>11}"
    )
    for server, (e, b) in results.items():
        print(
            f"{server:<15}{e.requests_per_second:>18.1f}{e.p99_ms:>9.2f}"
            f"{b.requests_per_second:>12.1f}{b.p99_ms:>9.2f}"
            f"{e.requests_per_second / b.requests_per_second:>8.1%}"
            f"{max(e.other_cpu, b.other_cpu):>11.0%}"
        )


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (BenchError, subprocess.CalledProcessError, OSError) as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        sys.exit(1)
