"""Benchmark of large document uploads (issue #3: quality bar, and item 4's bounded memory).

Starts the site the way `make run` does (bin/serve: the same ASGI server, workers and options,
DEMO_MODE=true, a fresh SQLite database migrated and loaded with the demo data), with
DOCUMENT_MAX_MB raised so that a 1 GiB document is allowed and MEDIA_ROOT in a temporary directory
on the same disk as everything else here. Signed in as the demo patient patient_hana (a session
made for her with `manage.py shell`; the CSRF token from GETting her documents page), it:

  1. writes a valid 1 GiB PDF (header, random padding written in 1 MiB chunks, %%EOF) and a
     100 MiB one, computing their SHA-256 chunk by chunk as they are written;
  2. REPEAT times, interleaved so that disturbances hit all alike:
     - copies the 1 GiB file on the same disk with shutil.copyfile (into the page cache);
     - copies it again in one pass of Python that also feeds every chunk to SHA-256, then
       fsyncs the copy and its directory: the floor for storing a hashed document durably on
       this machine, without network or parsing (the reference of the verdict);
     - uploads the 100 MiB and the 1 GiB file as multipart/form-data to
       /cases/<hana's draft>/documents/ as the page's form does, the file sent from disk by
       socket.sendfile (as a browser sends it from native code; the client never holds a file),
       timed from request to response;
     each step starts after os.sync() and with memory primed (see prime_memory); the os.sync()
     right after it is timed too, for the "durable" figures (until the bytes are on the disk);
  3. samples VmRSS of the uvicorn worker processes (the children of the uvicorn parent) every
     50 ms during each upload, and reads their VmHWM, reset before each upload through
     /proc/<pid>/clear_refs;
  4. checks each upload: its Document row holds the size and the SHA-256 the bench computed, and
     the stored file hashes the same and is private (mode 0600);
  5. times hashlib's SHA-256 of the 1 GiB file alone, on one core, from the page cache.

It prints the best of the REPEAT runs of each step (and every run's figure), the server's and
other processes' CPU use during each step, and two verdicts: the best upload against the best
hashing, synced copy (both until the bytes are on the disk), PASS at 70 % or more, with the
page-cache copy printed beside it; the workers' peak RSS for 1 GiB against 100 MiB, PASS at
most 64 MiB more. Exits
non-zero on any FAIL or failed check, so a Makefile target can gate on it. Figures and method:
bench/upload.md.

    .venv/bin/python bench/upload.py                  # 1 GiB and 100 MiB, 3 runs, 2 workers
    .venv/bin/python bench/upload.py --size-mib 256 --repeat 1   # a quick look

Only 127.0.0.1 is contacted; every loop is bounded (file sizes, repeats, sample counts,
timeouts). The temporary directory is removed, and bin/serve's process group stopped, in
`finally` blocks.
"""

import argparse
import hashlib
import http.client
import json
import os
import platform
import re
import resource
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from datetime import date
from importlib.metadata import version
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# The site is prepared and started as the eligibility benchmark does it, which is make run's way.
from bench.eligibility_api import (  # noqa: E402
    BIN,
    BenchError,
    bench_env,
    default_server,
    prepare_database,
    process_group_ticks,
    running_server,
    server_description,
)

MiB = 1024 * 1024
MB = 1_000_000  # speeds are in MB/s (10^6 bytes a second), as disks and networks quote them
# Issue #15: the upload against the floor of storing a hashed document durably on this machine,
# copying it with SHA-256 in one pass and fsync (hashing_copy). The page-cache copy (issue #3's
# reference, 50 % then) is still printed beside it.
TARGET_RATIO = 0.7
MEMORY_GROWTH_LIMIT = 64 * MiB
SAMPLE_SECONDS = 0.05
WRITE_CHUNK = 1 * MiB
WARMUP_UPLOADS = 4  # 4 MiB uploads on fresh connections, so that both workers have served one
WARMUP_SIZE = 4 * MiB  # above FILE_UPLOAD_MAX_MEMORY_SIZE: through the temporary-file handler
UPLOAD_TIMEOUT = 600.0  # seconds, for any one socket operation of an upload
CLK_TCK = os.sysconf("SC_CLK_TCK")
PRIME_FACTOR = 2.5  # memory touched before each step, times the file's size (spool + file + slack)

# Touches (then frees) the given number of bytes of memory, page by page, in its own process.
PRIME_SNIPPET = """
import mmap, sys
size = int(sys.argv[1]) // 4096 * 4096
memory = mmap.mmap(-1, size)
memory[::4096] = b"\\1" * (size // 4096)
memory.close()
"""

# Prints patient_hana's session key (a server-side session, as her login would create) and the
# id of her demo draft case, as JSON.
SESSION_SNIPPET = """
import json
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from opiniondesk.accounts.models import User
from opiniondesk.cases.models import Case
hana = User.objects.get(username="patient_hana")
draft = Case.objects.filter(applicant=hana, status="draft").order_by("pk").last()
session = SessionStore()
session[SESSION_KEY] = str(hana.pk)
session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
session[HASH_SESSION_KEY] = hana.get_session_auth_hash()
session.create()
print(json.dumps({"session": session.session_key, "case": draft.pk}))
"""

# Prints the documents of the case BENCH_CASE: id, size, SHA-256, note and path on disk.
DOCUMENTS_SNIPPET = """
import json, os
from opiniondesk.documents.models import Document
rows = Document.objects.filter(case_id=int(os.environ["BENCH_CASE"])).order_by("pk")
print(json.dumps([
    {"id": d.pk, "size": d.size, "sha256": d.sha256, "note": d.note, "path": d.file.path}
    for d in rows
]))
"""


def prime_memory(size: int) -> None:
    """Make `size` bytes of free memory quick to use again before a timed step.

    Virtual machines that return freed memory to their host (virtio-balloon free page
    reporting, as on the machine of bench/upload.md) make the next first touch of each page
    slow: writing 1 GiB of new page cache can take from 0.2 s to 4 s depending on what was
    freed in the last seconds. Touching the memory just before the step, and freeing it, gives
    the copy and the uploads the same start. On a machine without it this only costs time.
    """
    available = int(Path("/proc/meminfo").read_text().split("MemAvailable:")[1].split()[0]) * 1024
    subprocess.run(
        [sys.executable, "-c", PRIME_SNIPPET, str(min(size, available // 2))],
        check=True,
        timeout=120,
    )


@dataclass
class TestFile:
    label: str
    path: Path
    size: int
    sha256: str


@dataclass
class Timing:
    """One timed step: its seconds, os.sync() after it, and what the CPUs did meanwhile."""

    size: int
    seconds: float
    sync_seconds: float
    server_cpu: float = 0.0  # CPU seconds of bin/serve's processes (workers, task worker)
    other_cpu: float = 0.0  # share of all cores' time used by other processes

    @property
    def mb_per_s(self) -> float:
        return self.size / MB / self.seconds

    @property
    def durable_mb_per_s(self) -> float:
        return self.size / MB / (self.seconds + self.sync_seconds)


@dataclass
class Upload(Timing):
    note: str = ""
    sent_seconds: float = 0.0  # until the client had read the last byte of the file
    baseline_rss: int = 0  # the workers' highest VmRSS before the upload
    peak_rss: int = 0  # highest VmRSS sampled in any worker during the upload
    hwm: int = 0  # highest VmHWM of any worker after the upload (reset before it)
    samples: int = 0
    hwm_reset: bool = False


@dataclass
class Runs:
    copies: list[Timing] = field(default_factory=list)
    hashing_copies: list[Timing] = field(default_factory=list)
    small: list[Upload] = field(default_factory=list)
    big: list[Upload] = field(default_factory=list)
    sha256_seconds: float = 0.0
    checks: list[tuple[str, bool]] = field(default_factory=list)


def main() -> int:
    args = parse_args()
    print_machine(args)
    tmp = Path(tempfile.mkdtemp(prefix="opiniondesk-bench-upload-"))
    try:
        return run(args, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run(args: argparse.Namespace, tmp: Path) -> int:
    runs = Runs()
    env = upload_env(tmp, args)
    print("preparing: migrate, collectstatic, load_demo into a fresh SQLite database ...")
    prepare_database(env)
    who = json.loads(manage_shell(env, SESSION_SNIPPET))
    print(f"writing the test files ({args.size_mib} MiB, {args.small_mib} MiB) ...")
    big = write_pdf(size_label(args.size_mib), tmp / "scan-big.pdf", args.size_mib * MiB)
    small = write_pdf(size_label(args.small_mib), tmp / "scan-small.pdf", args.small_mib * MiB)
    warm = write_pdf("warm-up", tmp / "warm.pdf", WARMUP_SIZE)
    runs.sha256_seconds = time_sha256(big.path)
    copy_target = tmp / "copy.pdf"
    timed_copy(big, copy_target, pgid=None, prime=args.prime)  # warm-up, untimed
    # running_server stops bin/serve's whole process group when the block is left, however.
    with running_server(env, tmp, ready_timeout=240) as server:
        pgid = server.proc.pid
        workers = server_workers(pgid, args.workers)
        url = f"{server.base_url}/cases/{who['case']}/documents/"
        cookies = {"sessionid": who["session"]}
        with httpx.Client(cookies=cookies, timeout=30) as client:
            csrf = csrf_token(client, url)
        uploader = Uploader(cookies | {"csrftoken": csrf}, url, csrf, workers, pgid, args.prime)
        for n in range(WARMUP_UPLOADS):
            uploader.send(warm, f"warm-up {n + 1}", fresh=True)
        for n in range(args.repeat):  # interleaved, so that disturbances hit all alike
            runs.copies.append(timed_copy(big, copy_target, pgid, args.prime))
            runs.hashing_copies.append(timed_copy(big, copy_target, pgid, args.prime, hashing=True))
            runs.small.append(uploader.send(small, f"bench {small.label} #{n + 1}"))
            runs.big.append(uploader.send(big, f"bench {big.label} #{n + 1}"))
            print(
                f"run {n + 1}/{args.repeat}: copy {runs.copies[-1].mb_per_s:.0f} MB/s, "
                f"upload {small.label} {runs.small[-1].mb_per_s:.0f} MB/s, "
                f"upload {big.label} {runs.big[-1].mb_per_s:.0f} MB/s"
            )
    stored = json.loads(manage_shell(env | {"BENCH_CASE": str(who["case"])}, DOCUMENTS_SNIPPET))
    for test_file, uploads in ((small, runs.small), (big, runs.big)):
        runs.checks += verify(test_file, uploads, stored)
    print_results(runs, small, big, args.prime)
    return 0 if all(ok for _, ok in verdicts(runs)) else 1


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mib", type=int, default=1024, help="large file (default 1024)")
    parser.add_argument("--small-mib", type=int, default=100, help="small file (default 100)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each step (default 3)")
    parser.add_argument("--workers", type=int, default=2, help="server workers (default 2)")
    parser.add_argument(
        "--server",
        default=default_server(),
        choices=["uvicorn", "granian", "uvicorn-plain"],
        help="bin/serve's SERVER (default: make run's)",
    )
    parser.add_argument(
        "--no-prime",
        dest="prime",
        action="store_false",
        help="do not touch memory before each step (see prime_memory)",
    )
    args = parser.parse_args()
    if not 4 < args.small_mib < args.size_mib <= 8192:
        parser.error("need 4 < --small-mib < --size-mib <= 8192")
    if not 1 <= args.repeat <= 10:
        parser.error("--repeat must be between 1 and 10")
    return args


def size_label(mib: int) -> str:
    return f"{mib // 1024} GiB" if mib % 1024 == 0 else f"{mib} MiB"


def upload_env(tmp: Path, args: argparse.Namespace) -> dict[str, str]:
    """make run's environment (as the eligibility benchmark builds it), a document of the large
    size allowed, and everything the server writes inside `tmp`, on the same disk."""
    spool = tmp / "tmp"
    spool.mkdir()
    env = bench_env(tmp, args.server, args.workers)  # MEDIA_ROOT=tmp/media, DB in tmp
    return env | {
        "DOCUMENT_MAX_MB": str(args.size_mib + 64),
        "TMPDIR": str(spool),  # whatever the server spools outside MEDIA_ROOT, removed with tmp
    }


def manage_shell(env: dict[str, str], snippet: str) -> str:
    done = subprocess.run(
        [str(BIN / "python"), "manage.py", "shell", "-c", snippet],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if done.returncode != 0:
        raise BenchError(f"manage.py shell failed:\n{done.stderr[-2000:]}")
    return done.stdout.strip().splitlines()[-1]


def pdf_frame(size: int) -> tuple[bytes, bytes]:
    """(head, tail) of a valid PDF of `size` bytes whose middle is an unused stream (the same
    as opiniondesk.documents.tests.samples.pdf_frame: the bench does not import the app)."""
    head = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
    ]
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(head))
        head += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    offsets.append(len(head))
    stream = b"4 0 obj\n<< /Length %20d >>\nstream\n"
    start, tail = len(head) + len(stream % 0), b""
    for _ in range(3):  # the tail's length depends on the offsets, which depend on it
        padding = size - start - len(tail)
        rows = b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
        xref = start + padding + len(b"\nendstream\nendobj\n")
        tail = (
            b"\nendstream\nendobj\nxref\n0 5\n0000000000 65535 f \n%s" % rows
            + b"trailer\n<< /Size 5 /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % xref
        )
    return head + stream % padding, tail


def write_pdf(label: str, path: Path, size: int) -> TestFile:
    """A PDF as the server's checks want it (a one-page PDF whose unused stream is the random
    padding); hashed as written."""
    header, trailer = pdf_frame(size)
    block = os.urandom(WRITE_CHUNK)
    digest, written = hashlib.sha256(), 0
    padding = size - len(header) - len(trailer)
    pieces = padding // WRITE_CHUNK + 1
    with path.open("wb") as f:
        for number in range(-1, pieces + 1):  # header, padding in chunks, trailer: bounded
            if number == -1:
                piece = header
            elif number == pieces:
                piece = trailer
            else:
                length = min(WRITE_CHUNK, padding - number * WRITE_CHUNK)
                # Each chunk starts with its number: no two chunks are alike.
                piece = (number.to_bytes(8, "big") + block[8:])[:length]
            f.write(piece)
            digest.update(piece)
            written += len(piece)
    if written != size:
        raise BenchError(f"wrote {written} bytes to {path.name}, not {size}")
    return TestFile(label, path, size, digest.hexdigest())


def time_sha256(path: Path) -> float:
    """hashlib's SHA-256 of the file on one core, read from the page cache (best of 2)."""
    best = float("inf")
    for _ in range(2):
        started = time.perf_counter()
        file_sha256(path)
        best = min(best, time.perf_counter() - started)
    return best


def hashing_copy(source: Path, target: Path) -> str:
    """The floor for storing a hashed document durably: one pass in Python that writes each
    256 KiB chunk and feeds it to SHA-256, then fsync of the file and of its directory (what
    core.storage.DurableFileSystemStorage does before an upload is answered)."""
    digest = hashlib.sha256()
    with source.open("rb") as reader, target.open("wb") as writer:
        while chunk := reader.read(256 * 1024):
            writer.write(chunk)
            digest.update(chunk)
        writer.flush()
        os.fsync(writer.fileno())
    directory = os.open(target.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
    return digest.hexdigest()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(WRITE_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class CpuMeter:
    """CPU used by bin/serve's processes, and by processes other than those and this one."""

    def __init__(self, pgid: int | None) -> None:
        self.pgid = pgid
        self.start = self.sample()

    def sample(self) -> tuple[int, int, int, int]:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
        total, busy = sum(fields), sum(fields) - fields[3] - fields[4]  # idle, iowait
        usage = resource.getrusage(resource.RUSAGE_SELF)
        ours = round((usage.ru_utime + usage.ru_stime) * CLK_TCK)
        server = process_group_ticks(self.pgid) if self.pgid else 0
        return total, busy, ours, server

    def stop(self, timing: Timing) -> None:
        total, busy, ours, server = (b - a for a, b in zip(self.start, self.sample(), strict=True))
        timing.server_cpu = server / CLK_TCK
        timing.other_cpu = max(busy - ours - server, 0) / max(total, 1)


def timed_copy(
    source: TestFile, target: Path, pgid: int | None, prime: bool, *, hashing: bool = False
) -> Timing:
    """shutil.copyfile into the page cache, or (`hashing`) the least a server must do to store a
    hashed document durably: hashing_copy, SHA-256 in one pass, synced to the disk."""
    os.sync()  # each timed step starts with no dirty pages waiting to be written
    if prime:
        prime_memory(round(source.size * PRIME_FACTOR))
    meter = CpuMeter(pgid)
    started = time.perf_counter()
    if hashing:
        if hashing_copy(source.path, target) != source.sha256:
            raise BenchError("the hashing copy computed another SHA-256")
    else:
        shutil.copyfile(source.path, target)
    seconds = time.perf_counter() - started
    synced = time.perf_counter()
    os.sync()
    timing = Timing(source.size, seconds, time.perf_counter() - synced)
    meter.stop(timing)
    target.unlink()
    return timing


def server_workers(serve_pid: int, expected: int, timeout: float = 30) -> list[int]:
    """The worker processes of the ASGI server bin/serve started: the children of its parent
    process (uvicorn's are multiprocessing's spawn_main, granian's run granian itself)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        parents = [p for p in children(serve_pid) if re.search(rb"uvicorn|granian", cmdline(p))]
        workers = [
            w
            for p in parents
            for w in children(p)
            if b"spawn_main" in cmdline(w) or b"granian" in cmdline(w)
        ]
        if len(workers) >= expected:
            return workers
        time.sleep(0.2)
    raise BenchError(f"did not find {expected} worker processes of the server under bin/serve")


def children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile
        if int(fields[1]) == pid:  # fields[0] is the state, fields[1] the parent's pid
            found.append(int(stat.parent.name))
    return found


def cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def status_bytes(pid: int, key: str) -> int:
    """A /proc/<pid>/status memory field (VmRSS, VmHWM) in bytes; 0 if the process is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def reset_hwm(pid: int) -> bool:
    """Set VmHWM back to the current RSS (Linux 4.0+; allowed on one's own processes)."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


class RssSampler(threading.Thread):
    """The workers' VmRSS every SAMPLE_SECONDS until stopped, at most `limit` times."""

    def __init__(self, workers: list[int], limit: int) -> None:
        super().__init__(daemon=True)
        self.workers, self.limit = workers, limit
        self.stopping = threading.Event()
        self.peak = self.count = 0

    def run(self) -> None:
        while self.count < self.limit and not self.stopping.is_set():
            self.peak = max(self.peak, *(status_bytes(w, "VmRSS") for w in self.workers))
            self.count += 1
            self.stopping.wait(SAMPLE_SECONDS)

    def stop(self) -> int:
        self.stopping.set()
        self.join(timeout=5)
        return self.peak


def post_file(
    url: str,
    cookies: dict[str, str],
    headers: dict[str, str],
    fields: dict[str, str],
    test_file: TestFile,
    timeout: float,
) -> tuple[int, bytes, float]:
    """POST `fields` and the file as multipart/form-data, the file sent by socket.sendfile.

    A browser sends a file from native code; this client does the same from the kernel, so that
    the figure is the server's, not a Python client's (httpx, streaming 64 KiB reads, took
    1.9 s to send 1 GiB here while the server kept up). Returns the status, the body and the
    perf_counter() time when the last byte of the file had been handed to the kernel.
    """
    parts = urllib.parse.urlsplit(url)
    boundary = f"opiniondesk-bench-{secrets.token_hex(16)}"
    head = (
        b"".join(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
            f"{value}\r\n".encode()
            for name, value in fields.items()
        )
        + (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="{test_file.path.name}"\r\nContent-Type: application/pdf\r\n\r\n'
        ).encode()
    )
    tail = f"\r\n--{boundary}--\r\n".encode()
    request_headers = {
        "Host": parts.netloc,
        "Content-Type": f"multipart/form-data; boundary={boundary}",
        "Content-Length": str(len(head) + test_file.size + len(tail)),
        "Cookie": "; ".join(f"{name}={value}" for name, value in cookies.items()),
        "Connection": "close",
        **headers,
    }
    request = f"POST {parts.path} HTTP/1.1\r\n" + "".join(
        f"{name}: {value}\r\n" for name, value in request_headers.items()
    )
    with socket.create_connection((parts.hostname, parts.port), timeout=timeout) as sock:
        sock.sendall(request.encode("latin-1") + b"\r\n" + head)
        with test_file.path.open("rb") as f:
            sock.sendfile(f)
        sent_at = time.perf_counter()
        sock.sendall(tail)
        response = http.client.HTTPResponse(sock)
        response.begin()
        return response.status, response.read(), sent_at


def csrf_token(client: httpx.Client, url: str) -> str:
    page = client.get(url)
    if page.status_code != 200 or "csrftoken" not in client.cookies:
        raise BenchError(f"GET {url} answered {page.status_code} without a CSRF cookie")
    return client.cookies["csrftoken"]


@dataclass
class Uploader:
    cookies: dict[str, str]
    url: str
    csrf: str
    workers: list[int]
    pgid: int
    prime: bool

    def send(self, test_file: TestFile, note: str, *, fresh: bool = False) -> Upload:
        """Upload the file as the documents page's form does, streamed from disk."""
        os.sync()  # as before each copy
        if self.prime and not fresh:
            prime_memory(round(test_file.size * PRIME_FACTOR))
        baseline = max(status_bytes(w, "VmRSS") for w in self.workers)
        resets = [reset_hwm(w) for w in self.workers]  # every one, not up to a failure
        sampler = RssSampler(self.workers, limit=round(UPLOAD_TIMEOUT / SAMPLE_SECONDS) + 100)
        headers = {"X-CSRFToken": self.csrf, "Accept": "application/json", "Referer": self.url}
        fields = {"kind": "test_data", "test_data_kind": "ct_mri", "note": note}
        meter = CpuMeter(self.pgid)
        sampler.start()
        started = time.perf_counter()
        try:
            status, body, sent_at = post_file(
                self.url, self.cookies, headers, fields, test_file, UPLOAD_TIMEOUT
            )
        finally:
            seconds = time.perf_counter() - started
            peak = sampler.stop()
        sent = sent_at - started
        synced = time.perf_counter()
        os.sync()
        result = Upload(
            size=test_file.size,
            seconds=seconds,
            sync_seconds=time.perf_counter() - synced,
            note=note,
            sent_seconds=sent,
            baseline_rss=baseline,
            peak_rss=max(peak, *(status_bytes(w, "VmRSS") for w in self.workers)),
            hwm=max(status_bytes(w, "VmHWM") for w in self.workers),
            samples=sampler.count,
            hwm_reset=all(resets),
        )
        meter.stop(result)
        if status != 200 or not json.loads(body).get("ok"):
            raise BenchError(f"upload {note}: {status} {body[:500]!r}")
        return result


def verify(
    test_file: TestFile, uploads: list[Upload], stored: list[dict]
) -> list[tuple[str, bool]]:
    """Each upload's Document: the bench's size and SHA-256, and the stored bytes themselves."""
    checks = []
    for upload in uploads:
        rows = [row for row in stored if row["note"] == upload.note]
        row = rows[0] if len(rows) == 1 else None
        checks.append((f"{upload.note}: one Document row", row is not None))
        if row is None:
            continue
        path = Path(row["path"])
        checks += [
            (f"{upload.note}: size {row['size']} is the file's", row["size"] == test_file.size),
            (f"{upload.note}: SHA-256 is the bench's", row["sha256"] == test_file.sha256),
            (
                f"{upload.note}: the stored bytes hash the same",
                file_sha256(path) == test_file.sha256,
            ),
            (f"{upload.note}: the stored file is private", path.stat().st_mode & 0o777 == 0o600),
        ]
    return checks


def best(timings: list[Timing]) -> Timing:
    return min(timings, key=lambda t: t.seconds)


def best_durable(timings: list[Timing]) -> Timing:
    return min(timings, key=lambda t: t.seconds + t.sync_seconds)


def floor_ratio(runs: Runs) -> float:
    """The upload (until its bytes are on the disk) against the hashing, synced copy."""
    upload = best_durable(runs.big).durable_mb_per_s
    return upload / best_durable(runs.hashing_copies).durable_mb_per_s


def verdicts(runs: Runs) -> list[tuple[str, bool]]:
    ratio = floor_ratio(runs)
    growth = peak(runs.big) - peak(runs.small)
    return [
        ("speed", ratio >= TARGET_RATIO),
        ("memory", growth <= MEMORY_GROWTH_LIMIT),
        *runs.checks,
    ]


def peak(uploads: list[Upload]) -> int:
    return max(u.peak_rss for u in uploads)


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


def print_machine(args: argparse.Namespace) -> None:
    disk = os.statvfs(tempfile.gettempdir())
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    print(f"date:    {date.today().isoformat()}")
    print(
        f"machine: {cpu_model()}, {os.cpu_count()} cores, {ram / 2**30:.0f} GiB RAM, "
        f"{platform.system()} {platform.release()}"
    )
    print(
        f"python:  {platform.python_version()}, Django {version('django')}; the client, on the "
        "same machine, sends each file with socket.sendfile"
    )
    print(
        f"server:  {server_description(default_server())}, {args.workers} workers, "
        "started by bin/serve"
    )
    print(
        f"disk:    {tempfile.gettempdir()}, {disk.f_bavail * disk.f_frsize / 2**30:.0f} GiB free: "
        "test files, copies, media, request spools all in one temporary directory there"
    )


def mib(value: float) -> str:
    return f"{value / MiB:.0f} MiB"


def print_results(runs: Runs, small: TestFile, big: TestFile, primed: bool) -> None:
    copy = best(runs.copies)
    floor = best_durable(runs.hashing_copies)
    sha_speed = big.size / MB / runs.sha256_seconds
    print(
        f"\n== speed: best of {len(runs.copies)} run(s); 'durable' adds the os.sync() after "
        f"the step; 'of floor' compares durable figures with the hashing, synced copy; "
        f"'of cache copy' MB/s with shutil.copyfile's; "
        f"memory {'primed' if primed else 'NOT primed'} before each step =="
    )
    print(
        f"{'':<44}{'seconds':>8}{'MB/s':>7}{'durable':>9}{'of floor':>9}{'of cache copy':>15}"
        f"{'server CPU':>12}{'other CPU':>11}"
    )

    def row(label: str, t: Timing) -> None:
        print(
            f"{label:<44}{t.seconds:>8.2f}{t.mb_per_s:>7.0f}{t.durable_mb_per_s:>9.0f}"
            f"{t.durable_mb_per_s / floor.durable_mb_per_s:>9.0%}"
            f"{t.mb_per_s / copy.mb_per_s:>15.0%}"
            f"{t.server_cpu:>10.2f} s{t.other_cpu:>11.0%}"
        )

    row(f"copy {big.label} + SHA-256 + fsync (floor)", floor)
    row(f"copy {big.label} (shutil.copyfile, cache)", copy)
    row(f"upload {small.label}", best(runs.small))
    row(f"upload {big.label}", best(runs.big))
    print(
        f"{'SHA-256 alone of ' + big.label + ' (hashlib)':<44}{runs.sha256_seconds:>8.2f}"
        f"{sha_speed:>7.0f}{'':>18}{sha_speed / copy.mb_per_s:>15.0%}"
    )
    print(
        "MB/s of every run: "
        f"copy {speeds(runs.copies)}; copy + SHA-256 + fsync {speeds(runs.hashing_copies)}; "
        f"upload {small.label} {speeds(runs.small)}; upload {big.label} {speeds(runs.big)}"
    )
    b = best(runs.big)
    print(
        f"upload {big.label}: the client had sent the last byte after {b.sent_seconds:.2f} s, "
        f"the answer came after {b.seconds:.2f} s (parsing, checking and storing)"
    )
    disturbed = max(
        t.other_cpu for t in [*runs.copies, *runs.hashing_copies, *runs.small, *runs.big]
    )
    if disturbed > 0.1:
        print(
            f"!! other processes took up to {disturbed:.0%} of the CPU during a run: figures "
            "are low and noisy; rerun on a quiet machine"
        )

    print("\n== server memory: RSS of the uvicorn workers (highest of the workers) ==")
    print(f"{'':<36}{'before':>9}{'peak RSS':>10}{'VmHWM':>9}{'samples':>9}")
    for test_file, uploads in ((small, runs.small), (big, runs.big)):
        top = max(uploads, key=lambda u: u.peak_rss)
        print(
            f"{'upload ' + test_file.label:<36}{mib(top.baseline_rss):>9}{mib(top.peak_rss):>10}"
            f"{mib(max(u.hwm for u in uploads)):>9}{sum(u.samples for u in uploads):>9}"
        )
    if not all(u.hwm_reset for u in [*runs.small, *runs.big]):
        print("   (VmHWM could not be reset before each upload: it is the workers' lifetime peak)")
    client = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(f"client (this process) peak RSS: {mib(client)}: the files were streamed from disk")

    print("\n== checks ==")
    for name, ok in runs.checks:
        print(f"{'ok  ' if ok else 'FAIL'} {name}")
    ratio = floor_ratio(runs)
    print(
        f"\nupload / copy with SHA-256 in one pass, synced to the disk, {big.label}: {ratio:.0%}  "
        f"{'PASS' if ratio >= TARGET_RATIO else 'FAIL'} (target: at least {TARGET_RATIO:.0%}; "
        "both until the bytes are on the disk: the server syncs each document before it answers)"
    )
    print(
        f"upload / page-cache copy (shutil.copyfile, not synced), {big.label}: "
        f"{b.mb_per_s / copy.mb_per_s:.0%} (for reference; no target)"
    )
    growth = peak(runs.big) - peak(runs.small)
    print(
        f"worker peak RSS, {big.label} vs {small.label}: {mib(peak(runs.big))} vs "
        f"{mib(peak(runs.small))} ({growth / MiB:+.0f} MiB)  "
        f"{'PASS' if growth <= MEMORY_GROWTH_LIMIT else 'FAIL'} "
        f"(at most +{MEMORY_GROWTH_LIMIT // MiB} MiB)"
    )


def speeds(timings: list[Timing]) -> str:
    listed = ", ".join(f"{t.mb_per_s:.0f}" for t in timings)
    if len(timings) < 3:
        return listed
    return f"{listed} (median {statistics.median(t.mb_per_s for t in timings):.0f})"


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (BenchError, subprocess.CalledProcessError, OSError, httpx.HTTPError) as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        sys.exit(1)
