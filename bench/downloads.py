"""Benchmark of document downloads (issue #15, item 7): memory of the workers, and throughput.

Starts the site the way `make run` does, through bin/serve (the helpers of bench/upload.py and
bench/eligibility_api.py: a fresh SQLite database migrated and loaded with the demo data,
DEMO_MODE=true, MEDIA_ROOT in a temporary directory), with 2 workers (--workers). Signed in as
the demo patient patient_hana, it:

  1. writes a valid 150 MiB PDF and uploads it to her draft case through the documents page, as
     bench/upload.py does: the real view and services store, hash and audit it;
  2. downloads it once through each connection it will use (warm-up: every worker has served a
     download, the stored file is in the page cache), then takes each worker's RSS, idle;
  3. REPEAT times, interleaved:
     - the reference: the stored file read 4 times at once from the disk, `cat FILE >/dev/null`
       in 4 processes, timed until the last ends;
     - 4 clients (httpx, asyncio, one connection each) GET `/documents/<id>/?download=1` at
       once, streaming the body (counted, not kept), timed until the last byte of the last one;
     - the same 4 downloads by `curl -o /dev/null` (if curl is installed): the server's figure
       without the Python client's own cost;
     meanwhile every worker's VmRSS, and that of its child processes, is sampled every 20 ms,
     and each worker's VmHWM (reset through /proc/<pid>/clear_refs before the run) read after;
  4. downloads it once more, hashing the body: the bench's SHA-256, Content-Length,
     Content-Disposition attachment and Cache-Control no-store.

It prints per worker the idle RSS, the peak during the downloads and the growth, PASS when no
worker grew more than 32 MiB; the 4 downloads' throughput against the 4 reads from disk (no
target: a figure to watch); and exits non-zero on a FAIL or a failed check.

    .venv/bin/python bench/downloads.py                  # 150 MiB, 4 clients, 3 runs
    .venv/bin/python bench/downloads.py --size-mib 300 --clients 8 --repeat 1

Only 127.0.0.1 is contacted; every loop is bounded. The temporary directory is removed and
bin/serve's process group stopped in `finally` blocks.
"""

import argparse
import asyncio
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import date
from importlib.metadata import version
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.eligibility_api import (  # noqa: E402
    BenchError,
    default_server,
    prepare_database,
    process_group_ticks,
    running_server,
    server_description,
)
from bench.upload import (  # noqa: E402
    DOCUMENTS_SNIPPET,
    SESSION_SNIPPET,
    TestFile,
    children,
    cpu_model,
    csrf_token,
    manage_shell,
    post_file,
    reset_hwm,
    server_workers,
    status_bytes,
    upload_env,
    write_pdf,
)

MiB = 1024 * 1024
MB = 1_000_000
GROWTH_LIMIT = 32 * MiB  # issue #15: a worker's peak RSS at most this above idle
SAMPLE_SECONDS = 0.02
READ_CHUNK = 1 * MiB  # the client's reads, and the hashing check's
TIMEOUT = 300.0  # seconds, for any one download or read
CLK_TCK = os.sysconf("SC_CLK_TCK")


@dataclass
class Run:
    """One timed step: 4 downloads or 4 reads from disk."""

    seconds: float
    size: int  # bytes moved, all clients together
    server_cpu: float = 0.0  # CPU seconds of bin/serve's process group
    client_cpu: float = 0.0  # CPU seconds of this process and its children (the cat readers)
    other_cpu: float = 0.0  # share of all cores used by processes other than ours and the server
    peaks: dict[int, int] = field(default_factory=dict)  # worker → peak RSS (sampled or VmHWM)

    @property
    def mb_per_s(self) -> float:
        return self.size / MB / self.seconds


def main() -> int:
    args = parse_args()
    print_machine(args)
    tmp = Path(tempfile.mkdtemp(prefix="opiniondesk-bench-downloads-"))
    try:
        return run(args, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mib", type=int, default=150, help="the document (default 150)")
    parser.add_argument("--clients", type=int, default=4, help="downloads at once (default 4)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each step (default 3)")
    parser.add_argument("--workers", type=int, default=2, help="server workers (default 2)")
    parser.add_argument(
        "--server",
        default=default_server(),
        choices=["uvicorn", "granian", "uvicorn-plain"],
        help="bin/serve's SERVER (default: make run's)",
    )
    args = parser.parse_args()
    if not 8 <= args.size_mib <= 2048:
        parser.error("--size-mib must be between 8 and 2048")
    if not 1 <= args.clients <= 32 or not 1 <= args.repeat <= 10:
        parser.error("--clients must be 1 to 32, --repeat 1 to 10")
    if not 2 <= args.workers <= 8:
        parser.error("--workers must be 2 to 8 (uvicorn runs a single worker in its own process)")
    args.small_mib = 0  # what bench.upload.upload_env reads besides --size-mib
    return args


def run(args: argparse.Namespace, tmp: Path) -> int:
    env = upload_env(tmp, args)
    print("preparing: migrate, collectstatic, load_demo into a fresh SQLite database ...")
    prepare_database(env)
    who = json.loads(manage_shell(env, SESSION_SNIPPET))
    label = f"{args.size_mib} MiB"
    print(f"writing the {label} PDF ...")
    document_file = write_pdf(label, tmp / "scan.pdf", args.size_mib * MiB)
    checks: list[tuple[str, bool]] = []
    references: list[Run] = []
    downloads: list[Run] = []
    natives: list[Run] = []  # the same downloads by curl, when it is installed
    with running_server(env, tmp, ready_timeout=240) as server:
        pgid = server.proc.pid
        workers = server_workers(pgid, args.workers)
        documents_url = f"{server.base_url}/cases/{who['case']}/documents/"
        cookies = {"sessionid": who["session"]}
        upload(documents_url, cookies, document_file)
        stored = json.loads(manage_shell(env | {"BENCH_CASE": str(who["case"])}, DOCUMENTS_SNIPPET))
        row = next(r for r in stored if r["note"] == "bench download")
        checks.append(
            ("the stored document has the bench's SHA-256", row["sha256"] == document_file.sha256)
        )
        url = f"{server.base_url}/documents/{row['id']}/?download=1"
        print(f"warming up: {args.clients} downloads through fresh connections ...")
        asyncio.run(download_all(url, cookies, args.clients))
        time.sleep(1)  # let the workers settle after the warm-up
        idle = {w: family_rss(w) for w in workers}
        for n in range(args.repeat):  # interleaved, so that disturbances hit both alike
            references.append(read_from_disk(Path(row["path"]), args.clients, pgid))
            downloads.append(measured_downloads(url, cookies, args.clients, workers, pgid))
            if shutil.which("curl"):
                natives.append(curl_downloads(url, cookies, args.clients, workers, pgid))
            print(
                f"run {n + 1}/{args.repeat}: read from disk {references[-1].mb_per_s:.0f} MB/s, "
                f"downloads {downloads[-1].mb_per_s:.0f} MB/s, peak RSS growth "
                + ", ".join(f"{(downloads[-1].peaks[w] - idle[w]) / MiB:+.1f}" for w in workers)
                + " MiB"
            )
        checks += verify_download(url, cookies, document_file)
        after = {w: family_rss(w) for w in workers}
    return report(args, workers, idle, after, references, downloads, natives, checks)


def upload(url: str, cookies: dict[str, str], test_file: TestFile) -> None:
    """Store the document through the documents page, as a browser would (bench/upload.py)."""
    with httpx.Client(cookies=cookies, timeout=30) as client:
        csrf = csrf_token(client, url)
    headers = {"X-CSRFToken": csrf, "Accept": "application/json", "Referer": url}
    fields = {"kind": "test_data", "test_data_kind": "ct_mri", "note": "bench download"}
    status, body, _ = post_file(
        url, cookies | {"csrftoken": csrf}, headers, fields, test_file, TIMEOUT
    )
    if status != 200 or not json.loads(body).get("ok"):
        raise BenchError(f"upload: {status} {body[:500]!r}")


def family_rss(pid: int) -> int:
    """VmRSS of the worker and of its child processes, if any."""
    return status_bytes(pid, "VmRSS") + sum(status_bytes(c, "VmRSS") for c in children(pid))


class Sampler(threading.Thread):
    """Each worker's family RSS every SAMPLE_SECONDS, the highest kept, until stopped."""

    def __init__(self, workers: list[int]) -> None:
        super().__init__(daemon=True)
        self.workers = workers
        self.peaks = dict.fromkeys(workers, 0)
        self.stopping = threading.Event()
        self.count = 0

    def run(self) -> None:
        limit = round(TIMEOUT / SAMPLE_SECONDS)
        while self.count < limit and not self.stopping.is_set():
            for w in self.workers:
                self.peaks[w] = max(self.peaks[w], family_rss(w))
            self.count += 1
            self.stopping.wait(SAMPLE_SECONDS)

    def stop(self) -> dict[int, int]:
        self.stopping.set()
        self.join(timeout=5)
        return self.peaks


async def download_all(
    url: str, cookies: dict[str, str], clients: int
) -> list[tuple[int, int, float]]:
    """`clients` downloads at once, each on its own connection: (status, bytes, seconds)."""

    async def one() -> tuple[int, int, float]:
        started = time.perf_counter()
        async with (
            httpx.AsyncClient(cookies=cookies, timeout=TIMEOUT) as client,
            client.stream("GET", url) as response,
        ):
            received = 0
            async for chunk in response.aiter_raw(READ_CHUNK):
                received += len(chunk)
            return response.status_code, received, time.perf_counter() - started

    return await asyncio.gather(*(one() for _ in range(clients)))


class CpuMeter:
    def __init__(self, pgid: int) -> None:
        self.pgid = pgid
        self.start = self.sample()

    def sample(self) -> tuple[int, int, int, int]:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
        total, busy = sum(fields), sum(fields) - fields[3] - fields[4]
        times = os.times()
        ours = round(
            (times.user + times.system + times.children_user + times.children_system) * CLK_TCK
        )
        return total, busy, ours, process_group_ticks(self.pgid)

    def stop(self, step: Run) -> None:
        total, busy, ours, server = (b - a for a, b in zip(self.start, self.sample(), strict=True))
        step.server_cpu = server / CLK_TCK
        step.client_cpu = ours / CLK_TCK
        step.other_cpu = max(busy - ours - server, 0) / max(total, 1)


def measured_downloads(
    url: str, cookies: dict[str, str], clients: int, workers: list[int], pgid: int
) -> Run:
    resets = [reset_hwm(w) for w in workers]
    sampler = Sampler(workers)
    meter = CpuMeter(pgid)
    sampler.start()
    started = time.perf_counter()
    try:
        results = asyncio.run(download_all(url, cookies, clients))
    finally:
        seconds = time.perf_counter() - started
        peaks = sampler.stop()
    for status, _, _ in results:
        if status != 200:
            raise BenchError(f"a download answered {status}")
    step = Run(seconds=seconds, size=sum(received for _, received, _ in results))
    meter.stop(step)
    step.peaks = {
        w: max(peaks[w], family_rss(w), status_bytes(w, "VmHWM") if reset else 0)
        for w, reset in zip(workers, resets, strict=True)
    }
    return step


def curl_downloads(
    url: str, cookies: dict[str, str], clients: int, workers: list[int], pgid: int
) -> Run:
    """The same downloads by curl into /dev/null: what the server gives a native client, with
    the Python client's own cost (about half a core per 100 MB/s here) out of the figure."""
    resets = [reset_hwm(w) for w in workers]
    sampler = Sampler(workers)
    cookie = "; ".join(f"{name}={value}" for name, value in cookies.items())
    command = ["curl", "-sf", "-o", os.devnull, "-b", cookie, "-w", "%{size_download}\n", url]
    meter = CpuMeter(pgid)
    sampler.start()
    started = time.perf_counter()
    try:
        procs = [subprocess.Popen(command, stdout=subprocess.PIPE) for _ in range(clients)]
        outputs = [p.communicate(timeout=TIMEOUT)[0] for p in procs]
    finally:
        seconds = time.perf_counter() - started
        peaks = sampler.stop()
    if any(p.returncode for p in procs):
        raise BenchError(f"curl exited with {[p.returncode for p in procs]}")
    step = Run(seconds=seconds, size=sum(int(out) for out in outputs))
    meter.stop(step)
    step.peaks = {
        w: max(peaks[w], family_rss(w), status_bytes(w, "VmHWM") if reset else 0)
        for w, reset in zip(workers, resets, strict=True)
    }
    return step


def read_from_disk(path: Path, readers: int, pgid: int) -> Run:
    """The reference: `cat FILE >/dev/null` in `readers` processes at once."""
    meter = CpuMeter(pgid)
    started = time.perf_counter()
    with open(os.devnull, "wb") as sink:
        procs = [subprocess.Popen(["cat", str(path)], stdout=sink) for _ in range(readers)]
        codes = [p.wait(timeout=TIMEOUT) for p in procs]
    step = Run(seconds=time.perf_counter() - started, size=path.stat().st_size * readers)
    meter.stop(step)
    if any(codes):
        raise BenchError(f"cat exited with {codes}")
    return step


def verify_download(
    url: str, cookies: dict[str, str], test_file: TestFile
) -> list[tuple[str, bool]]:
    """One more download, hashed: the whole file, and the headers the view promises."""
    digest, received = hashlib.sha256(), 0
    with (
        httpx.Client(cookies=cookies, timeout=TIMEOUT) as client,
        client.stream("GET", url) as response,
    ):
        for chunk in response.iter_raw(READ_CHUNK):
            digest.update(chunk)
            received += len(chunk)
        headers = response.headers
    return [
        ("the download is the file (SHA-256)", digest.hexdigest() == test_file.sha256),
        ("Content-Length is the file's size", headers.get("content-length") == str(test_file.size)),
        ("received as many bytes", received == test_file.size),
        (
            "Content-Disposition: attachment",
            headers.get("content-disposition", "").startswith("attachment"),
        ),
        ("Cache-Control: no-store", "no-store" in headers.get("cache-control", "")),
    ]


def best(steps: list[Run]) -> Run:
    return min(steps, key=lambda s: s.seconds)


def report(
    args: argparse.Namespace,
    workers: list[int],
    idle: dict[int, int],
    after: dict[int, int],
    references: list[Run],
    downloads: list[Run],
    natives: list[Run],
    checks: list[tuple[str, bool]],
) -> int:
    reference, download = best(references), best(downloads)
    print(
        f"\n== throughput: {args.clients} at once, {args.size_mib} MiB each, "
        f"best of {args.repeat} =="
    )
    print(f"{'':<44}{'seconds':>8}{'MB/s':>8}{'server CPU':>12}{'client CPU':>12}{'other CPU':>11}")
    rows = [
        (f"read from disk: {args.clients} x cat >/dev/null", reference),
        (f"download: {args.clients} httpx clients", download),
    ]
    if natives:
        rows.append((f"download: {args.clients} x curl -o /dev/null", best(natives)))
    for name, step in rows:
        print(
            f"{name:<44}{step.seconds:>8.2f}{step.mb_per_s:>8.0f}"
            f"{step.server_cpu:>10.2f} s{step.client_cpu:>10.2f} s{step.other_cpu:>11.0%}"
        )
    print(
        "MB/s of every run: read from disk "
        + ", ".join(f"{s.mb_per_s:.0f}" for s in references)
        + "; downloads "
        + ", ".join(f"{s.mb_per_s:.0f}" for s in downloads)
        + ("; curl " + ", ".join(f"{s.mb_per_s:.0f}" for s in natives) if natives else "")
    )
    print(f"downloads / read from disk: {download.mb_per_s / reference.mb_per_s:.0%} (no target)")
    if natives:
        ratio = best(natives).mb_per_s / reference.mb_per_s
        print(f"curl downloads / read from disk: {ratio:.0%}")
    if max(s.other_cpu for s in [*references, *downloads, *natives]) > 0.1:
        print("!! other processes took more than 10 % of the CPU during a run: rerun when quiet")

    print("\n== memory of each worker (VmRSS with its children; peak: sampled or VmHWM) ==")
    print(f"{'worker':<10}{'idle':>10}{'peak':>10}{'growth':>10}{'after':>10}")
    growth = {}
    for w in workers:
        peak = max(step.peaks[w] for step in [*downloads, *natives])
        growth[w] = peak - idle[w]
        print(
            f"{w:<10}{idle[w] / MiB:>9.1f}M{peak / MiB:>9.1f}M"
            f"{growth[w] / MiB:>+9.1f}M{after[w] / MiB:>9.1f}M"
        )
    memory_ok = max(growth.values()) <= GROWTH_LIMIT
    print(
        f"largest growth {max(growth.values()) / MiB:+.1f} MiB with {args.clients} downloads of "
        f"{args.size_mib} MiB: {'PASS' if memory_ok else 'FAIL'} "
        f"(at most +{GROWTH_LIMIT // MiB} MiB)"
    )
    print("\n== checks ==")
    for name, ok in checks:
        print(f"{'ok  ' if ok else 'FAIL'} {name}")
    return 0 if memory_ok and all(ok for _, ok in checks) else 1


def print_machine(args: argparse.Namespace) -> None:
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    print(f"date:    {date.today().isoformat()}")
    print(
        f"machine: {cpu_model()}, {os.cpu_count()} cores, {ram / 2**30:.0f} GiB RAM, "
        f"{platform.system()} {platform.release()}"
    )
    print(
        f"python:  {platform.python_version()}, Django {version('django')}, "
        f"httpx {version('httpx')}"
    )
    print(
        f"server:  {server_description(args.server)}, {args.workers} workers, started by bin/serve"
    )


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (BenchError, subprocess.CalledProcessError, OSError, httpx.HTTPError) as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        sys.exit(1)
