"""Audit log benchmark (issue #14), on PostgreSQL.

Creates a scratch database on the server of DATABASE_URL (a postgres:// URL; the database in it
is only used to connect), migrates it, with temporary audit keys and checkpoint directory, then:

Part 1, writers. Transactions that write one audit event (`audit_record`) and then hold 5 ms
(the rest of a request's work), against the same transactions with a plain one-row insert into
a table of the same shape (columns and indexes), 1 and 8 threads, interleaved in one run
(--seconds each).
Target: at 8 threads the audited figure is at least 0.8 of the plain one (it was 0.09 with the
old chain head's row lock).

Part 2, sealer: --events events (default 1,000,000) written as rows with their MACs (benchmark
setup, not the product's path), then `seal_audit_log` over all of them: events per second.

Part 3, verification: `verify_audit_log --full` in a child process over 10,000 events and over
all --events: time, events per second and the child's peak RSS (target >= 50,000 events/s,
memory flat: the same peak for both sizes).

    make bench-audit                      # DATABASE_URL=postgres:///postgres
    .venv/bin/python bench/audit.py --events 100000 --seconds 5
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOLD = 0.005


def _child_env(url: str, keys: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": "bench-only-secret-key",
        "DEMO_MODE": "false",
        "DEBUG": "false",
        "AUDIT_MAC_KEY_FILE": str(keys / "mac.key"),
        "AUDIT_SIGNING_KEY_FILE": str(keys / "signing.key"),
        "AUDIT_CHECKPOINT_DIR": str(keys / "checkpoints"),
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }


def _writers(threads: int, seconds: float, write) -> float:  # type: ignore[no-untyped-def]
    from django.db import connection, transaction

    stop = time.monotonic() + seconds
    counts = [0] * threads

    def run(i: int) -> None:
        try:
            while time.monotonic() < stop:
                with transaction.atomic():
                    write()
                    time.sleep(HOLD)
                counts[i] += 1
        finally:
            connection.close()

    pool = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    started = time.monotonic()
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return sum(counts) / (time.monotonic() - started)


def part_writers(seconds: float) -> dict[str, float]:
    from django.db import connection

    from opiniondesk.audit.models import AuditAction
    from opiniondesk.audit.services import audit_record

    with connection.cursor() as cursor:
        # The same shape as the audit table: its columns, identity and indexes (the admin's and
        # the verifier's), without its triggers. The difference is then what the log's
        # mechanism costs (the MAC, the nonce, preparing the values), not what storing a row
        # with these indexes costs.
        cursor.execute("CREATE TABLE bench_plain (LIKE audit_auditevent INCLUDING ALL)")

    def audited() -> None:
        audit_record(action=AuditAction.READ, case_id=7, detail={"page": "case"})

    def plain() -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO bench_plain (at, username, action, case_id, object_type,"
                " object_id, detail, nonce, mac)"
                " VALUES (now(), '', 'read', 7, '', '', '{\"page\": \"case\"}', '', %s)",
                [uuid.uuid4().hex],
            )

    results = {}
    for threads in (1, 8):
        for name, write in (("plain", plain), ("audit", audited)):
            results[f"{name}_{threads}"] = _writers(threads, seconds, write)
            print(f"  {threads} thread(s), {name:5}: {results[f'{name}_{threads}']:8.0f} tx/s")
        ratio = results[f"audit_{threads}"] / results[f"plain_{threads}"]
        print(f"  {threads} thread(s): audited / plain = {ratio:.2f}")
    return results


def fill(events: int) -> None:
    """Benchmark setup: events written as rows, each with its real MAC."""
    from django.utils import timezone

    from opiniondesk.audit.chain import event_mac
    from opiniondesk.audit.keys import mac_key
    from opiniondesk.audit.models import AuditEvent

    key, now, batch = mac_key(), timezone.now(), 5000
    for start in range(0, events, batch):
        rows = []
        for n in range(start, min(start + batch, events)):
            event = AuditEvent(
                at=now,
                username=f"user{n % 50}",
                action="read",
                case_id=n % 1000,
                object_type="cases.Case",
                object_id=str(n % 1000),
                source_address="192.0.2.1",
                detail={"page": "case", "n": n},
                nonce=f"{n:016x}",
            )
            event.mac = event_mac(key, event.keyed_fields())
            rows.append(event)
        AuditEvent.objects.bulk_create(rows)


def verify_child(env: dict[str, str]) -> tuple[float, int, str]:
    """verify_audit_log --full in its own process: seconds, peak RSS (KiB), its output."""
    code = (
        "import django, resource, time; django.setup()\n"
        "from opiniondesk.audit.verify import verify\n"
        "t = time.perf_counter(); r = verify(full=True); t = time.perf_counter() - t\n"
        "import json; print(json.dumps({'seconds': t, 'events': r.events, 'intact': r.intact,"
        " 'rss': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))\n"
    )
    out = (
        subprocess.run(
            [sys.executable, "-c", code],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    data = json.loads(out)
    if not data["intact"]:
        raise SystemExit(f"verification found the benchmark log broken: {data}")
    return data["seconds"], data["rss"], out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--writers-only", action="store_true", help="part 1 only")
    args = parser.parse_args()
    base = os.environ.get("DATABASE_URL", "postgres:///postgres")
    if not base.startswith("postgres"):
        raise SystemExit("bench/audit.py needs PostgreSQL: DATABASE_URL=postgres://…")
    import psycopg

    name = f"bench_audit_{os.getpid()}"
    server = base.rsplit("/", 1)[0]
    admin = psycopg.connect(base, autocommit=True)
    admin.execute(f'CREATE DATABASE "{name}"')
    keys = Path(tempfile.mkdtemp(prefix="bench-audit-"))
    env = _child_env(f"{server}/{name}", keys)
    try:
        os.environ.update(env)
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        from django.core.management import call_command

        from opiniondesk.audit.keys import create_keys

        create_keys(keys / "mac.key", keys / "signing.key")
        call_command("migrate", verbosity=0)
        print(f"PostgreSQL, {os.cpu_count()} CPUs, {args.seconds:.0f} s per measurement")
        print("Part 1: transactions writing one event then holding 5 ms")
        part_writers(args.seconds)
        if args.writers_only:
            return

        from opiniondesk.audit.sealer import seal

        print(f"Part 2: sealer over {args.events:,} events")
        fill(10_000)
        seal(lag=0)
        small_seconds, small_rss, _ = verify_child(env)
        t = time.perf_counter()
        fill(args.events - 10_000)
        print(
            f"  setup: {args.events - 10_000:,} events written in {time.perf_counter() - t:.0f} s"
        )
        t = time.perf_counter()
        sealed = seal(lag=0).events
        took = time.perf_counter() - t
        print(f"  sealed {sealed:,} events in {took:.1f} s: {sealed / took:,.0f} events/s")
        print("Part 3: verify_audit_log --full (child process)")
        print(
            f"  10,000 events: {small_seconds:.2f} s, {10_000 / small_seconds:,.0f} events/s,"
            f" peak RSS {small_rss / 1024:.0f} MiB"
        )
        seconds, rss, _ = verify_child(env)
        total = args.events + 0  # plus the part 1 events, counted by verify itself
        print(
            f"  all events (~{total:,} + part 1's): {seconds:.1f} s,"
            f" {total / seconds:,.0f} events/s, peak RSS {rss / 1024:.0f} MiB"
        )
        overall = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(f"  children's peak RSS overall: {overall:.0f} MiB")
    finally:
        from django.db import connections

        connections.close_all()
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


if __name__ == "__main__":
    main()
