"""Data at hospital scale (issue #17 item 4), on PostgreSQL.

Creates a scratch database on the server of DATABASE_URL (a postgres:// URL; its database is
only used to connect), migrates it with temporary audit keys, seeds the catalog and the staff,
then generates years of invented cases in bulk (benchmark setup, not the product's path):

- cases spread over --years (3) up to today, in every state (old ones mostly ended, recent ones
  open), over every department, online and on paper, both modes;
- each case's transitions along the workflow's table (checked against `workflow.TRANSITIONS`),
  ~8 for a closed case; three documents each (referral letter, test data, the patient's ID;
  rows only, no files), the IDs of cases before their consult waiting for a check;
- 20 audit events per case, each with its real MAC, then sealed (`seal`), so that
  `verify_audit_log --full` passes.

The kept case counts come from the database's own triggers as the rows go in (cases.state_counts).

At each size of --sizes (10,000 and 100,000 cases: the second extends the first) it measures,
in this process through Django's test client (the views, templates and queries; no server, no
network), --runs requests after 3 warm-ups per page: p50/p95 in ms and the queries one request
makes. Pages: the coordinator's queue (open cases, all states, 20 pages down by cursor), the
specialist's queue, the coordinator's page of a case being screened, the case API list (first
page, and 2,000 rows down by cursor), the admin's audit log and its search by case number.
Reference, in the same run: the API list 2,000 rows down by page number (an OFFSET read),
which grows with the rows before it.

Target: p95 <= 50 ms for each page at 100,000 cases and flat: the 100,000 figure within 1.5x of
the 10,000 one (both printed, with the ratio).

    make bench-scale                                   # DATABASE_URL=postgres:///postgres
    .venv/bin/python bench/scale.py --sizes 2000 20000 --runs 20
    .venv/bin/python bench/scale.py --keep             # keep the database (its name is printed)
"""

import argparse
import itertools
import os
import random
import re
import statistics
import sys
import tempfile
import time
import warnings
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TARGET_MS = 50.0
FLAT = 1.5
EVENTS_PER_CASE = 20

# How a case reaches each final state; the share of old (ended) and recent (open) cases.
_TO_REFERRED = ["draft", "submitted", "screening", "referred"]
_TO_BOOKED = [*_TO_REFERRED, "accepted", "offered", "booked"]
PATHS = {
    "draft": ["draft"],
    "submitted": ["draft", "submitted"],
    "screening": ["draft", "submitted", "screening"],
    "awaiting_documents": ["draft", "submitted", "awaiting_documents"],
    "rejected": ["draft", "submitted", "screening", "rejected"],
    "referred": _TO_REFERRED,
    "declined": [*_TO_REFERRED, "declined"],
    "accepted": [*_TO_REFERRED, "accepted"],
    "offered": [*_TO_REFERRED, "accepted", "offered"],
    "booked": _TO_BOOKED,
    "ready": [*_TO_BOOKED, "ready"],
    "in_consult": [*_TO_BOOKED, "ready", "in_consult"],
    "completed": [*_TO_BOOKED, "ready", "in_consult", "completed"],
    "charged": [*_TO_BOOKED, "ready", "in_consult", "completed", "charged"],
    "closed": [*_TO_BOOKED, "ready", "in_consult", "completed", "charged", "closed"],
    "withdrawn": ["draft", "submitted", "screening", "withdrawn"],
    "cancelled": [*_TO_BOOKED, "cancelled"],
    "no_show": [*_TO_BOOKED, "ready", "no_show"],
}
ENDED = {"closed": 70, "withdrawn": 8, "rejected": 8, "declined": 6, "cancelled": 4, "no_show": 2}
OPEN = {
    "draft": 6,
    "submitted": 10,
    "screening": 12,
    "awaiting_documents": 10,
    "referred": 10,
    "accepted": 8,
    "offered": 6,
    "booked": 10,
    "ready": 6,
    "completed": 8,
    "charged": 8,
}
FAMILY = ["山田", "佐々木", "高橋", "中村", "小林", "加藤", "吉田", "山口", "松本", "井上"]
GIVEN = ["花子", "一郎", "美紀", "健", "陽子", "誠", "直美", "浩", "由美", "大輔"]
KANA_FAMILY = [
    "ヤマダ",
    "ササキ",
    "タカハシ",
    "ナカムラ",
    "コバヤシ",
    "カトウ",
    "ヨシダ",
    "ヤマグチ",
]
KANA_GIVEN = ["ハナコ", "イチロウ", "ミキ", "ケン", "ヨウコ", "マコト", "ナオミ", "ヒロシ"]


def _env(url: str, keys: Path) -> dict[str, str]:
    return {
        "DATABASE_URL": url,
        "SECRET_KEY": "bench-only-secret-key-" + "x" * 40,
        "DEMO_MODE": "false",
        "DEBUG": "false",
        "ALLOWED_HOSTS": "testserver",
        "AUDIT_MAC_KEY_FILE": str(keys / "mac.key"),
        "AUDIT_SIGNING_KEY_FILE": str(keys / "signing.key"),
        "AUDIT_CHECKPOINT_DIR": str(keys / "checkpoints"),
        "MEDIA_ROOT": str(keys / "media"),
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }


def _check_paths() -> None:
    from opiniondesk.cases.workflow import TRANSITIONS, Status

    for final, path in PATHS.items():
        assert path[-1] == final, final
        for a, b in itertools.pairwise(path):
            assert (Status(a), Status(b)) in TRANSITIONS, (a, b)


def generate(first: int, count: int, *, years: int, rng: random.Random) -> None:
    """Cases first+1 .. first+count (by order of creation), their transitions, documents and
    audit events, written in batches."""
    from django.db import transaction
    from django.utils import timezone

    from opiniondesk.accounts.models import User
    from opiniondesk.audit.chain import event_mac
    from opiniondesk.audit.keys import mac_key
    from opiniondesk.audit.models import AuditEvent
    from opiniondesk.cases.models import Case, CaseTransition
    from opiniondesk.catalog.models import Disease
    from opiniondesk.documents.models import Document

    now = timezone.now()
    span = timedelta(days=365 * years)
    # The rows carry the plan's times, not the time of the insert.
    for model, field in ((Case, "created_at"), (CaseTransition, "at"), (Document, "uploaded_at")):
        model._meta.get_field(field).auto_now_add = False  # type: ignore[union-attr]
    diseases = list(Disease.objects.select_related("department"))
    staff = {u.username: u for u in User.objects.exclude(role="patient")}
    patients = list(User.objects.filter(role="patient"))
    key = mac_key()
    ended_states, ended_weights = zip(*ENDED.items(), strict=True)
    open_states, open_weights = zip(*OPEN.items(), strict=True)
    batch = 2000
    for start in range(first, first + count, batch):
        size = min(batch, first + count - start)
        # Spread evenly over the years: case n is created at its share of the span.
        created = [now - span + span * ((start + i + 0.5) / (first + count)) for i in range(size)]
        with transaction.atomic():
            plans = []
            for at in created:
                recent = now - at < timedelta(days=60)
                states, weights = (
                    (open_states, open_weights) if recent else (ended_states, ended_weights)
                )
                final = rng.choices(states, weights)[0]
                plans.append((at, final, rng.choice(diseases)))
            cases = [_case(at, final, disease, patients, rng, now) for at, final, disease in plans]
            Case.objects.bulk_create(cases)
            transitions, documents, events = [], [], []
            for case, (at, final, _) in zip(cases, plans, strict=True):
                moments = _moments(at, len(PATHS[final]), now)
                for (a, b), moment in zip(
                    itertools.pairwise(PATHS[final]), moments[1:], strict=True
                ):
                    transitions.append(
                        CaseTransition(
                            case=case,
                            from_status=a,
                            to_status=b,
                            actor=None,
                            actor_role="system",
                            at=moment,
                        )
                    )
                before_consult = final in ("accepted", "offered", "booked", "ready")
                for kind in ("referral_letter", "test_data", "patient_id"):
                    documents.append(
                        Document(
                            case=case,
                            kind=kind,
                            test_data_kind="blood" if kind == "test_data" else "",
                            id_type="drivers_licence" if kind == "patient_id" else "",
                            file=f"cases/{case.pk}/bench-{kind}.pdf",
                            original_name=f"{kind}.pdf",
                            file_kind="pdf",
                            content_type="application/pdf",
                            size=120_000,
                            sha256=f"{case.pk:064x}",
                            source="applicant",
                            uploaded_by=case.applicant,
                            uploaded_at=moments[min(1, len(moments) - 1)],
                            identity_check_pending=kind == "patient_id"
                            and before_consult
                            and rng.random() < 0.3,
                        )
                    )
                events += _events(case, moments, staff, rng, key, event_mac)
            CaseTransition.objects.bulk_create(transitions)
            Document.objects.bulk_create(documents)
            AuditEvent.objects.bulk_create(events, batch_size=5000)


def _case(
    at: datetime, final: str, disease: Any, patients: list, rng: random.Random, now: datetime
):  # type: ignore[no-untyped-def]
    from opiniondesk.cases.models import Case

    path = PATHS[final]
    moments = _moments(at, len(path), now)
    referred = "referred" in path
    i = rng.randrange(10)
    return Case(
        created_at=at,
        updated_at=moments[-1],
        applicant=rng.choice(patients),
        status=final,
        submitted_at=moments[1] if len(path) > 1 else None,
        status_changed_at=moments[-1] if len(path) > 1 else None,
        referred_at=moments[path.index("referred")] if referred else None,
        channel=rng.choices(["online", "post", "desk", "phone"], [85, 8, 4, 3])[0],
        applicant_relation="self",
        patient_family_name=FAMILY[i],
        patient_given_name=GIVEN[rng.randrange(10)],
        patient_family_name_kana=KANA_FAMILY[i % 8],
        patient_given_name_kana=KANA_GIVEN[rng.randrange(8)],
        patient_phone=f"090-0{rng.randrange(100, 999)}-{rng.randrange(1000, 9999)}",
        patient_birth_date=datetime(1940 + rng.randrange(60), 1 + rng.randrange(12), 1).date(),
        mode=rng.choice(["online", "in_person"]),
        department=disease.department,
        disease=disease,
        revision=1,
    )


def _moments(at: datetime, steps: int, now: datetime) -> list[datetime]:
    """The case's creation and then one moment per transition, a few days apart, never
    later than now."""
    moments = [at]
    for _ in range(steps - 1):
        moments.append(min(moments[-1] + timedelta(days=2, hours=3), now))
    return moments


def _events(
    case: Any, moments: list, staff: dict, rng: random.Random, key: bytes, mac: Any
) -> list:  # type: ignore[no-untyped-def]
    from opiniondesk.audit.models import AuditEvent

    events = []
    names = list(staff)
    for n in range(EVENTS_PER_CASE):
        user = staff[names[n % len(names)]]
        action = "transition" if n < len(moments) - 1 else rng.choice(["read", "read", "download"])
        event = AuditEvent(
            at=moments[min(n, len(moments) - 1)] + timedelta(minutes=n),
            user_id=user.pk,
            username=user.username,
            action=action,
            case_id=case.pk,
            object_type="cases.Case" if action != "download" else "documents.Document",
            object_id=str(case.pk),
            source_address=f"192.0.2.{1 + n % 50}",
            detail={"page": "case"} if action == "read" else {},
            nonce=f"{rng.getrandbits(64):016x}",
        )
        event.mac = mac(key, event.keyed_fields())
        events.append(event)
    return events


def measure(runs: int) -> dict[str, tuple[float, float, int]]:
    """Each page: (p50 ms, p95 ms, queries of one request)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from opiniondesk.accounts.models import User
    from opiniondesk.cases.keyset import Cursor, cursor_encode
    from opiniondesk.cases.models import Case

    def client_for(username: str) -> Client:
        client = Client()
        client.force_login(User.objects.get(username=username))
        return client

    coordinator, specialist, admin = (
        client_for("coordinator_sato"),
        client_for("dr_tanaka"),
        client_for("admin_kato"),
    )
    down = min(2000, Case.objects.count() // 2) // 25 * 25  # rows before the far page
    far = Case.objects.order_by("-created_at", "-pk")[down - 1]
    far_cursor = cursor_encode(Cursor(far.created_at, far.pk, False, down // 25 + 1))
    queue_far = _walk(coordinator, "/staff/queue/?state=all", 20)
    a_case = Case.objects.order_by("?").values_list("pk", flat=True).first()
    screened = Case.objects.filter(status="screening").order_by("?").values_list("pk", flat=True)
    pages = {
        "coordinator queue (open)": (coordinator, "/staff/queue/"),
        "coordinator queue (all states)": (coordinator, "/staff/queue/?state=all"),
        "coordinator queue, 20 pages down": (coordinator, queue_far),
        "specialist queue": (specialist, "/staff/queue/"),
        "coordinator's case page (screening)": (coordinator, f"/staff/cases/{screened[0]}/"),
        "case API list": (coordinator, "/api/v1/cases"),
        "case API list, 2,000 down (cursor)": (coordinator, f"/api/v1/cases?cursor={far_cursor}"),
        "admin audit log": (admin, "/admin/audit/auditevent/"),
        "admin audit search by case": (admin, f"/admin/audit/auditevent/?q={a_case}"),
        "reference: API 2,000 down by page (OFFSET)": (
            coordinator,
            f"/api/v1/cases?page={down // 25 + 1}",
        ),
    }
    results = {}
    for name, (client, url) in pages.items():
        for _ in range(3):
            assert client.get(url, secure=True).status_code == 200, (name, url)
        times = []
        for _ in range(runs):
            t = time.perf_counter()
            response = client.get(url, secure=True)
            times.append((time.perf_counter() - t) * 1000)
            assert response.status_code == 200
        with CaptureQueriesContext(connection) as queries:
            client.get(url, secure=True)
        times.sort()
        p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
        results[name] = (statistics.median(times), p95, len(queries))
    return results


def _walk(client: Any, url: str, pages: int) -> str:
    """The queue's page `pages` (or its last), by its "next" links."""
    for _ in range(pages - 1):
        html = client.get(url, secure=True).content.decode()
        found = re.search(r'rel="next" href="[^"]*cursor=([A-Za-z0-9_-]+)"', html)
        if not found:
            break
        url = f"/staff/queue/?state=all&cursor={found[1]}"
    return url


def _use(name: str, keys: Path) -> None:
    """Point Django at database `name` (and its own audit checkpoint directory)."""
    from django.conf import settings
    from django.db import connections

    connections.close_all()
    connections["default"].settings_dict["NAME"] = name
    settings.AUDIT_CHECKPOINT_DIR = str(keys / f"checkpoints-{name}")


def build(name: str, size: int, keys: Path, *, years: int) -> None:
    """A new database of `size` cases, their rows and sealed audit events, analysed."""
    from django.core.management import call_command
    from django.db import connection

    from opiniondesk.audit.sealer import seal
    from opiniondesk.testing.seed import ensure_seeded

    _use(name, keys)
    call_command("migrate", verbosity=0)
    ensure_seeded()
    t = time.perf_counter()
    generate(0, size, years=years, rng=random.Random(17))
    generated = time.perf_counter() - t
    t = time.perf_counter()
    sealed = seal(lag=0).events
    sealing = time.perf_counter() - t
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(
        f"{name}: {describe()}; generated in {generated:.0f} s, "
        f"{sealed:,} events sealed in {sealing:.0f} s"
    )


def describe() -> str:
    from django.db import connection

    counts = []
    with connection.cursor() as cursor:
        for table in ("cases_case", "cases_casetransition", "documents_document"):
            cursor.execute(f"SELECT count(*) FROM {table}")
            counts.append(cursor.fetchone()[0])
        cursor.execute("SELECT max(sequence) FROM audit_auditevent")
        counts.append(cursor.fetchone()[0] or 0)
    cases, transitions, documents, events = counts
    return (
        f"{cases:,} cases, {transitions:,} transitions, {documents:,} documents, "
        f"{events:,} audit events"
    )


def compare(figures: dict[str, dict[str, tuple[float, float, int]]], intact: bool) -> bool:
    """Print every page's figures per database and the verdicts; True when all pass."""
    names = list(figures)
    small, large = figures[names[0]], figures[names[-1]]
    for name in names:
        print(f"\n{name}")
        for page, (p50, p95, queries) in figures[name].items():
            print(f"  {page:45} p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  {queries:3d} queries")
    print(f"\n{'page':45} p95 first / last database   ratio  verdict")
    ok_all = intact
    for page in large:
        ratio = large[page][1] / small[page][1]
        reference = page.startswith("reference")
        ok = reference or (large[page][1] <= TARGET_MS and ratio <= FLAT)
        ok_all &= ok
        verdict = "(reference)" if reference else ("PASS" if ok else "FAIL")
        print(
            f"{page:45} {small[page][1]:7.1f} / {large[page][1]:7.1f} ms  {ratio:4.2f}x  {verdict}"
        )
    print(f"target: p95 <= {TARGET_MS:.0f} ms on the largest and within {FLAT}x of the smallest")
    return ok_all


def _setup(url: str, keys: Path) -> None:
    os.environ.update(_env(url, keys))
    sys.path.insert(0, str(ROOT))
    import logging

    import django

    django.setup()
    from django.conf import settings

    logging.getLogger("opiniondesk.access").setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", message="No directory at")
    # Static files by name, uncollected (as the tests do): the pages, not the manifest.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


def run(names: list[str], keys: Path, runs: int) -> bool:
    from opiniondesk.audit.verify import verify

    figures, intact = {}, True
    for name in names:
        _use(name, keys)
        print(f"measuring {name}: {describe()}")
        figures[name] = measure(runs)
        t = time.perf_counter()
        result = verify(full=True)
        intact &= result.intact
        print(
            f"  verify_audit_log --full: {result.events:,} events, "
            f"{'intact' if result.intact else 'BROKEN'} ({time.perf_counter() - t:.0f} s)"
        )
    return compare(figures, intact)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--years", type=int, default=3)
    parser.add_argument(
        "--keep", action="store_true", help="keep the databases (one per size) and the keys"
    )
    parser.add_argument(
        "--reuse",
        nargs="+",
        metavar="DATABASE",
        help="measure databases kept by --keep again (with --keys)",
    )
    parser.add_argument("--keys", type=Path, help="the key directory --keep printed")
    args = parser.parse_args()
    base = os.environ.get("DATABASE_URL", "postgres:///postgres")
    if not base.startswith("postgres"):
        raise SystemExit("bench/scale.py needs PostgreSQL: DATABASE_URL=postgres://…")
    server = base.rsplit("/", 1)[0]
    if args.reuse:
        if not args.keys:
            raise SystemExit("--reuse needs --keys (printed by the run that kept them)")
        _setup(f"{server}/{args.reuse[0]}", args.keys)
        passed = run(args.reuse, args.keys, args.runs)
        raise SystemExit(0 if passed else 1)
    import psycopg

    from_keys = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    names = [f"bench_scale_{size}_{os.getpid()}" for size in sorted(args.sizes)]
    admin = psycopg.connect(base, autocommit=True)
    for name in names:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        _setup(f"{server}/{names[0]}", from_keys)
        from opiniondesk.audit.keys import create_keys

        _check_paths()
        create_keys(from_keys / "mac.key", from_keys / "signing.key")
        print(f"PostgreSQL, {os.cpu_count()} CPUs, {args.runs} requests a page")
        for name, size in zip(names, sorted(args.sizes), strict=True):
            build(name, size, from_keys, years=args.years)
        passed = run(names, from_keys, args.runs)
    finally:
        from django.db import connections

        connections.close_all()
        if args.keep:
            print(f"kept: --reuse {' '.join(names)} --keys {from_keys}")
        else:
            for name in names:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()
    raise SystemExit(0 if passed else 1)


if __name__ == "__main__":
    main()
