"""Scheduling benchmarks (issue #5): slot generation over a year, and booking under load.

Prepares a fresh SQLite database the way `make run` does (bench/eligibility_api.py: migrate,
collectstatic, load_demo, DEMO_MODE=true, in a temporary directory), then, through the ORM in this
process (benchmark setup, not the product's own paths):

  - 20 departments, each with 2–3 weekly consult sessions of 2–3 hours on different weekdays;
  - 50 specialists per department (1,000 users), each with a year of exceptions: ~10 away days
    (a week off and single days), 4 partial absences inside sessions, 4 extra sessions (one on a
    day the hospital is closed, which must give nothing);
  - existing holds (offered cases, 2 slots each) and bookings in every department.

Part 1, in this process, best of 3 (a run disturbed by other processes is repeated):
  (a) `slots.generate_slots` for every specialist over 365 days, inputs prepared beforehand;
  (b) `selectors.department_slots` for every department over the same 365 days (DB reads included);
  (c) `selectors.suggest_slots` for one department, as the coordinator's page calls it.
Checks: the totals of (a) and (b) agree, (b) shows exactly the holds and bookings made; no slot on
a closed day or during an absence; counts equal a brute-force count for one specialist of each
department; (c) gives the earliest free slots.

Part 2, against bin/serve (the server and workers of `make run`), on 127.0.0.1 only: patients book
through `POST /cases/<id>/book/` (form field `slot` = the OfferedSlot id, as the case page's
buttons post it). Each case is `offered` with 2–3 real free slots held; each account has a
server-side session and the CSRF token from GETting its case page (which must list the slots).
  - one client per case: 32 concurrent clients book 320 cases;
  - contention: 16 pairs of clients, the applicant and the patient's own account of a case booking
    different slots of it at the same moment (160 cases): exactly one may win.
Warm-up first. Prints requests/s, p50/p95/p99 latency and the status codes, then checks in the
database: every case booked exactly once, no slot booked twice, every case `booked`, the winner
redirected to #booking with a success message and the loser to #dates with an error message.

    .venv/bin/python bench/scheduling.py                     # both parts, about 4 minutes
    .venv/bin/python bench/scheduling.py --part slots        # part 1 only
    .venv/bin/python bench/scheduling.py --part booking --cases 64 --pair-cases 32

Exits non-zero on any failed check. Every loop is bounded; the server's process group is stopped
and the temporary directory removed however the script ends.
"""

import argparse
import asyncio
import contextlib
import logging
import os
import platform
import random
import re
import resource
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as clock
from http.cookies import SimpleCookie
from importlib.metadata import version
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# The site is prepared and started as the eligibility benchmark does it, which is make run's way.
from bench.eligibility_api import (  # noqa: E402
    ATTEMPTS,
    DISTURBED,
    BenchError,
    bench_env,
    cpu_busy_fraction,
    default_server,
    prepare_database,
    process_group_ticks,
    running_server,
    server_description,
)
from bench.upload import cpu_model  # noqa: E402

SEED = 5
DEPARTMENTS, SPECIALISTS, DAYS = 20, 50, 365
WEEK_OFF, SINGLE_AWAY_DAYS, PARTIAL_ABSENCES, EXTRA_SESSIONS = 5, 5, 4, 4
HELD_CASES, BOOKED_CASES = 10, 10  # existing, per department; each held case holds 2 slots
SESSION_STARTS = [clock(9, 0), clock(9, 30), clock(10, 0), clock(13, 0), clock(13, 30), clock(14)]
SESSION_MINUTES = [120, 150, 180]
FAMILY_NAMES = ["佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤"]
CLK_TCK = os.sysconf("SC_CLK_TCK")
HTTP_TIMEOUT = httpx.Timeout(30.0)
WARMUP_CASES = 64
QUEUE_DRAIN_SECONDS = 120


def main() -> int:
    args = parse_args()
    print_machine(args)
    with tempfile.TemporaryDirectory(prefix="opiniondesk-bench-scheduling-") as tmp:
        env = bench_env(Path(tmp), default_server(), args.workers)
        with fresh_database(args.postgres) as url:
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


def database_name(args: argparse.Namespace) -> str:
    return "a fresh PostgreSQL database" if args.postgres else "a fresh SQLite database (WAL)"


@contextlib.contextmanager
def fresh_database(server_url: str) -> Iterator[str]:
    """With --postgres: a new database on that server for this run, dropped afterwards."""
    if not server_url:
        yield ""
        return
    import psycopg

    name = f"opiniondesk_bench_{os.getpid()}"
    parts = urlsplit(server_url)
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--part", choices=["all", "slots", "booking"], default="all")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of part 1 (best of)")
    parser.add_argument("--clients", type=int, default=32, help="concurrent clients (default 32)")
    parser.add_argument("--cases", type=int, default=320, help="cases booked, one client each")
    parser.add_argument("--pair-cases", type=int, default=160, help="cases booked by two clients")
    parser.add_argument("--workers", type=int, default=2, help="server workers (default 2)")
    parser.add_argument(
        "--postgres",
        default="",
        metavar="URL",
        help="run on a fresh database on this PostgreSQL server (postgres://user@host:port/any) "
        "instead of make run's SQLite",
    )
    args = parser.parse_args()
    if not 1 <= args.repeat <= 10:
        parser.error("--repeat must be between 1 and 10")
    if not 2 <= args.clients <= 128 or args.clients % 2:
        parser.error("--clients must be an even number from 2 to 128")
    if not args.clients <= args.cases <= 5000 or not args.clients // 2 <= args.pair_cases <= 2500:
        parser.error("need --clients <= --cases <= 5000 and --clients/2 <= --pair-cases <= 2500")
    return args


def warn_if_busy() -> None:
    """Everything here shares the machine's 2 cores: anything else running lowers the figures."""
    busy = cpu_busy_fraction()
    if busy > DISTURBED:
        print(f"!! the CPU was {busy:.0%} busy just before: other processes are using it")


def setup_django(env: dict[str, str]) -> None:
    """This process reads and writes the benchmark's database with the project's settings."""
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    logging.getLogger("httpx").setLevel(logging.WARNING)  # not a line per request


def run(args: argparse.Namespace, env: dict[str, str], tmp: Path) -> int:
    from opiniondesk.core.time import jst_today

    rng = random.Random(SEED)
    today = jst_today()
    start, end = today, today + timedelta(days=DAYS - 1)
    print(f"building the calendar: {DEPARTMENTS} departments × {SPECIALISTS} specialists ...")
    calendar = build_calendar(rng, start, end)
    checks: list[tuple[str, bool]] = []
    if args.part in ("all", "slots"):
        checks += bench_slots(calendar, args.repeat, today)
    if args.part in ("all", "booking"):
        checks += bench_booking(args, env, tmp, calendar, rng, today)
    print("\n== checks ==")
    for name, ok in checks:
        print(f"{'ok  ' if ok else 'FAIL'} {name}")
    failed = sum(not ok for _, ok in checks)
    print(f"{len(checks) - failed} passed, {failed} failed")
    return 1 if failed else 0


# --- the calendar: departments, specialists, their exceptions, existing holds and bookings -----


@dataclass
class Inputs:
    """generate_slots' arguments for one specialist."""

    weekly: list[Any]
    away: list[Any]
    extra: list[Any]


@dataclass
class Calendar:
    start: date
    end: date
    departments: list[Any]
    coordinator: Any
    inputs: dict[int, Inputs] = field(default_factory=dict)  # by specialist id
    department_of: dict[int, int] = field(default_factory=dict)  # specialist id → department id
    year_end: Any = None  # the closure of settings, as generate_slots takes it
    held: Counter[int] = field(default_factory=Counter)  # live holds made, by department id
    booked: Counter[int] = field(default_factory=Counter)  # live bookings made, by department


def build_calendar(rng: random.Random, start: date, end: date) -> Calendar:
    from opiniondesk.accounts.models import Role
    from opiniondesk.catalog.selectors import year_end_closure

    departments = make_departments(rng)
    calendar = Calendar(start, end, departments, bench_user("bench_coordinator", Role.COORDINATOR))
    calendar.year_end = year_end_closure()
    specialists = make_specialists(departments)
    make_exceptions(rng, calendar, specialists)
    load_inputs(calendar)
    make_claims(rng, calendar)
    return calendar


def make_departments(rng: random.Random) -> list[Any]:
    from opiniondesk.catalog.models import ConsultHours, Department, Disease

    departments = Department.objects.bulk_create(
        Department(code=f"bench-{n:02d}", name=f"ベンチ科{n:02d}", name_en=f"Bench {n:02d}")
        for n in range(1, DEPARTMENTS + 1)
    )
    Disease.objects.bulk_create(
        Disease(department=d, code="bench_disease", name="ベンチ疾患") for d in departments
    )
    hours = []
    for department in departments:
        for weekday in sorted(rng.sample(range(5), rng.choice([2, 3]))):
            begins = rng.choice(SESSION_STARTS)
            ends = plus_minutes(begins, rng.choice(SESSION_MINUTES))
            hours.append(
                ConsultHours(department=department, weekday=weekday, starts_at=begins, ends_at=ends)
            )
    ConsultHours.objects.bulk_create(hours)
    return departments


def plus_minutes(moment: clock, minutes: int) -> clock:
    total = moment.hour * 60 + moment.minute + minutes
    return clock(total // 60, total % 60)


def bench_user(username: str, role: str, **fields: Any) -> Any:
    from django.contrib.auth.hashers import make_password

    from opiniondesk.accounts.models import User

    return User.objects.create(
        username=username,
        email=f"{username}@bench.example.jp",
        role=role,
        password=make_password(None),
        **fields,
    )


def make_specialists(departments: list[Any]) -> dict[int, list[Any]]:
    """50 specialists per department, by department id (unusable passwords: they never log in)."""
    from django.contrib.auth.hashers import make_password

    from opiniondesk.accounts.models import Role, User

    password = make_password(None)
    users = User.objects.bulk_create(
        User(
            username=f"bench_dr_{d:02d}_{n:02d}",
            email=f"bench_dr_{d:02d}_{n:02d}@bench.example.jp",
            role=Role.SPECIALIST,
            last_name=FAMILY_NAMES[(d * 7 + n) % len(FAMILY_NAMES)],
            first_name=f"医師{n:02d}",
            password=password,
        )
        for d in range(len(departments))
        for n in range(SPECIALISTS)
    )
    through = User.departments.through
    through.objects.bulk_create(
        through(user_id=user.pk, department_id=departments[i // SPECIALISTS].pk)
        for i, user in enumerate(users)
    )
    return {d.pk: users[i * SPECIALISTS : (i + 1) * SPECIALISTS] for i, d in enumerate(departments)}


def make_exceptions(
    rng: random.Random, calendar: Calendar, specialists: dict[int, list[Any]]
) -> None:
    """A year of a specialist's life: a week off, single days away, partial absences inside
    sessions, extra sessions on other weekdays and one entered on a closed day."""
    from opiniondesk.catalog.closed_days import is_open
    from opiniondesk.scheduling.models import Away, ExtraSession

    days = [calendar.start + timedelta(days=n) for n in range(DAYS)]
    away, extra = [], []
    for department in calendar.departments:
        hours = list(department.consult_hours.all())
        weekdays = {h.weekday for h in hours}
        session_days = [d for d in days if d.weekday() in weekdays]
        other_days = [d for d in days if d.weekday() < 5 and d.weekday() not in weekdays]
        closed_days = [d for d in days if not is_open(d)]
        for person in specialists[department.pk]:
            monday = rng.choice([d for d in days[:-7] if d.weekday() == 0])
            week_off = [monday + timedelta(days=n) for n in range(WEEK_OFF)]
            singles = rng.sample([d for d in days if d not in week_off], SINGLE_AWAY_DAYS)
            away += [Away(specialist=person, day=d, note="bench") for d in week_off + singles]
            for day in rng.sample(session_days, PARTIAL_ABSENCES):
                session = next(h for h in hours if h.weekday == day.weekday())
                begins = plus_minutes(session.starts_at, rng.choice([0, 45, 60]))
                away.append(
                    Away(
                        specialist=person,
                        day=day,
                        starts_at=begins,
                        ends_at=plus_minutes(begins, rng.choice([60, 90])),
                    )
                )
            extra_days = [*rng.sample(other_days, EXTRA_SESSIONS - 1), rng.choice(closed_days)]
            for day in extra_days:
                begins = rng.choice([clock(9, 30), clock(13, 0), clock(15, 0)])
                extra.append(
                    ExtraSession(
                        specialist=person,
                        department=department,
                        day=day,
                        starts_at=begins,
                        ends_at=plus_minutes(begins, 120),
                    )
                )
            calendar.department_of[person.pk] = department.pk
    Away.objects.bulk_create(away)
    ExtraSession.objects.bulk_create(extra)


def load_inputs(calendar: Calendar) -> None:
    """Read every specialist's inputs back from the database, as generate_slots takes them."""
    from opiniondesk.scheduling import slots as rules
    from opiniondesk.scheduling.models import Away, ExtraSession

    weekly = {
        d.pk: [rules.WeeklyHours(h.weekday, h.starts_at, h.ends_at) for h in d.consult_hours.all()]
        for d in calendar.departments
    }
    for specialist_id, department_id in calendar.department_of.items():
        calendar.inputs[specialist_id] = Inputs(weekly[department_id], [], [])
    span = (calendar.start, calendar.end)
    for a in Away.objects.filter(specialist_id__in=calendar.inputs, day__range=span):
        calendar.inputs[a.specialist_id].away.append(rules.Away(a.day, a.starts_at, a.ends_at))
    for e in ExtraSession.objects.filter(specialist_id__in=calendar.inputs, day__range=span):
        calendar.inputs[e.specialist_id].extra.append(
            rules.ExtraSession(e.day, e.starts_at, e.ends_at)
        )


def generate(calendar: Calendar, specialist_id: int) -> list[Any]:
    from opiniondesk.scheduling.slots import generate_slots

    given = calendar.inputs[specialist_id]
    return generate_slots(
        weekly=given.weekly,
        start=calendar.start,
        end=calendar.end,
        away=given.away,
        extra=given.extra,
        year_end=calendar.year_end,
    )


def make_claims(rng: random.Random, calendar: Calendar) -> None:
    """Per department: cases offered two slots each (holds) and cases booked (bookings)."""
    from django.utils import timezone

    from opiniondesk.cases.workflow import Status
    from opiniondesk.scheduling.models import BookedSlot, Booking, HeldSlot, Offer, OfferedSlot

    soon = timezone.now() + timedelta(days=2)
    holder = bench_user("bench_holder", "patient", last_name="山田", first_name="花")
    for department in calendar.departments:
        mine = [s for s, d in calendar.department_of.items() if d == department.pk]
        future = [(s, slot) for s in mine[:10] for slot in generate(calendar, s)]
        picks = rng.sample(
            [p for p in future if p[1].starts_at > soon], 2 * HELD_CASES + BOOKED_CASES
        )
        held = new_cases([holder] * HELD_CASES, department, Status.OFFERED)
        offers = Offer.objects.bulk_create(
            Offer(case=c, offered_by=calendar.coordinator, hold_until=soon) for c in held
        )
        offered = OfferedSlot.objects.bulk_create(
            OfferedSlot(
                offer=offers[i // 2],
                specialist_id=s,
                department=department,
                starts_at=slot.starts_at,
                ends_at=slot.ends_at,
            )
            for i, (s, slot) in enumerate(picks[: 2 * HELD_CASES])
        )
        HeldSlot.objects.bulk_create(  # each a 30-minute consult: one slot row
            HeldSlot(offered_slot=o, specialist_id=o.specialist_id, starts_at=o.starts_at)
            for o in offered
        )
        booked = new_cases([holder] * BOOKED_CASES, department, Status.BOOKED)
        bookings = Booking.objects.bulk_create(
            Booking(
                case=c,
                specialist_id=s,
                department=department,
                mode="online",
                starts_at=slot.starts_at,
                ends_at=slot.ends_at,
                booked_by=holder,
            )
            for c, (s, slot) in zip(booked, picks[2 * HELD_CASES :], strict=True)
        )
        BookedSlot.objects.bulk_create(
            BookedSlot(booking=b, specialist_id=b.specialist_id, starts_at=b.starts_at)
            for b in bookings
        )
        calendar.held[department.pk] += 2 * HELD_CASES
        calendar.booked[department.pk] += BOOKED_CASES


def new_cases(
    applicants: list[Any], department: Any, status: str, patients: list[Any] | None = None
) -> list[Any]:
    """Sent, accepted cases of the department, filled in as an application would be (ORM rows:
    benchmark setup). With `patients`, the applicant is the patient's child, and each patient's
    own account is linked to the case."""
    from django.utils import timezone

    from opiniondesk.cases.models import Case

    now, disease = timezone.now(), department.diseases.first()
    rows = []
    for n, applicant in enumerate(applicants):
        patient = patients[n] if patients else applicant
        rows.append(
            Case(
                applicant=applicant,
                patient_account=patients[n] if patients else None,
                status=status,
                planned_minutes=30,  # one slot per date and booking
                submitted_at=now,
                status_changed_at=now,
                applicant_relation="child" if patients else "self",
                applicant_family_name=applicant.last_name,
                applicant_given_name=applicant.first_name,
                patient_family_name=patient.last_name,
                patient_given_name=patient.first_name,
                patient_birth_date=date(1945, 1, 1) + timedelta(days=n % 9000),
                patient_sex="female",
                patient_resides_in_japan=True,
                patient_has_japanese_insurance=True,
                patient_consent="signed" if patients else "none",
                mode="online",
                department=department,
                disease=disease,
                joining_from_japan=True,
                current_diagnosis="慢性心不全",
                questions="今の治療を続けてよいでしょうか。",
            )
        )
    return Case.objects.bulk_create(rows)


# --- part 1: slot generation -------------------------------------------------------------------


@dataclass
class Run:
    seconds: float
    other_cpu: float


@dataclass
class Timed:
    label: str
    slots: int
    runs: list[Run]

    @property
    def best(self) -> Run:
        return min(self.runs, key=lambda r: r.seconds)


class CpuWindow:
    """From its creation to `other()`: the share of all cores' time used by processes other than
    this one (and the server's process group, when given)."""

    def __init__(self, pgid: int | None = None) -> None:
        self.pgid = pgid
        self.start = self.sample()

    def sample(self) -> tuple[int, int, int]:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
        total = sum(fields)
        usage = resource.getrusage(resource.RUSAGE_SELF)
        ours = round((usage.ru_utime + usage.ru_stime) * CLK_TCK)
        if self.pgid is not None:
            ours += process_group_ticks(self.pgid)
        return total, total - fields[3] - fields[4], ours  # idle and iowait are not busy

    def other(self) -> float:
        total, busy, ours = (a - b for a, b in zip(self.sample(), self.start, strict=True))
        return max(busy - ours, 0) / max(total, 1)


def best_of(label: str, repeat: int, work: Callable[[], int]) -> Timed:
    """`repeat` timed runs of `work` (which returns its slot count); while the fastest run lost
    more than DISTURBED of the CPU to other processes, up to ATTEMPTS more."""
    runs, counts = [], set()
    for _ in range(repeat + ATTEMPTS):
        window, started = CpuWindow(), time.perf_counter()
        counts.add(work())
        runs.append(Run(time.perf_counter() - started, window.other()))
        fastest = min(runs, key=lambda r: r.seconds)
        if len(runs) >= repeat and fastest.other_cpu <= DISTURBED:
            break
        if repeat <= len(runs) < repeat + ATTEMPTS:
            print(
                f"   {label}: other processes used {fastest.other_cpu:.0%} of the CPU during "
                "the fastest run: running it again"
            )
    if len(counts) != 1:
        raise BenchError(f"{label}: the runs gave different slot counts: {sorted(counts)}")
    return Timed(label, counts.pop(), runs)


def bench_slots(calendar: Calendar, repeat: int, today: date) -> list[tuple[str, bool]]:
    from opiniondesk.scheduling.selectors import (
        SlotState,
        department_slots,
        earliest_offer_day,
        suggest_slots,
    )

    warn_if_busy()
    generated: dict[int, list[Any]] = {}

    def pure() -> int:
        generated.clear()
        generated.update((s, generate(calendar, s)) for s in calendar.inputs)
        return sum(map(len, generated.values()))

    views: dict[int, list[Any]] = {}

    def selector() -> int:
        for d in calendar.departments:
            views[d.pk] = department_slots(department=d, start=calendar.start, end=calendar.end)
        return sum(map(len, views.values()))

    first = calendar.departments[0]
    suggested: list[Any] = []

    def suggest() -> int:
        suggested[:] = suggest_slots(department=first, today=today)
        return len(suggested)

    a = best_of(f"(a) generate_slots, {len(calendar.inputs)} specialists", repeat, pure)
    b = best_of(f"(b) department_slots, {len(calendar.departments)} departments", repeat, selector)
    c = best_of(f"(c) suggest_slots, department {first.code}", repeat, suggest)
    window = (earliest_offer_day(today), suggest_horizon(today))
    looked_at = len(department_slots(department=first, start=window[0], end=window[1]))
    print_slot_figures(calendar, [a, b, c], looked_at)
    states = Counter(v.state for vs in views.values() for v in vs)
    print(
        f"(b) states: {states[SlotState.FREE]} free, {states[SlotState.HELD]} held, "
        f"{states[SlotState.BOOKED]} booked"
    )
    return slot_checks(calendar, generated, views, suggested, today)


def suggest_horizon(today: date) -> date:
    from django.conf import settings

    return today + timedelta(days=settings.SCHEDULING_HORIZON_DAYS)


def print_slot_figures(calendar: Calendar, timed: list[Timed], looked_at: int) -> None:
    print(
        f"\n== slot generation: {len(calendar.departments)} departments × {SPECIALISTS} "
        f"specialists, {calendar.start} to {calendar.end} ({DAYS} days), fastest run of each =="
    )
    print(f"{'':<44}{'slots':>9}{'seconds':>9}{'slots/s':>11}{'other CPU':>11}  every run (s)")
    for t in timed:
        slots = looked_at if t is timed[-1] else t.slots
        every = ", ".join(f"{r.seconds:.3f}" for r in t.runs)
        print(
            f"{t.label:<44}{slots:>9}{t.best.seconds:>9.3f}{slots / t.best.seconds:>11,.0f}"
            f"{t.best.other_cpu:>11.0%}  {every}"
        )
    print(
        f"   (c) returned the {timed[-1].slots} earliest free slots; its 'slots' are those it "
        f"generated and looked at: {SPECIALISTS} specialists over the offer window"
    )
    if max(t.best.other_cpu for t in timed) > DISTURBED:
        print("!! other processes used the CPU during the runs: figures are low; rerun quietly")


def slot_checks(
    calendar: Calendar,
    generated: dict[int, list[Any]],
    views: dict[int, list[Any]],
    suggested: list[Any],
    today: date,
) -> list[tuple[str, bool]]:
    from opiniondesk.scheduling.selectors import SlotState

    total_a = sum(map(len, generated.values()))
    total_b = sum(map(len, views.values()))
    wrong, brute, counted = [], [], 0
    for department in calendar.departments:
        mine = [s for s, d in calendar.department_of.items() if d == department.pk]
        states = Counter(v.state for v in views[department.pk])
        if (
            len(views[department.pk]) != sum(len(generated[s]) for s in mine)
            or states[SlotState.HELD] != calendar.held[department.pk]
            or states[SlotState.BOOKED] != calendar.booked[department.pk]
        ):
            wrong.append(department.code)
        expected = independent_count(calendar, mine[0])
        counted += expected
        if len(generated[mine[0]]) != expected:
            brute.append(f"{mine[0]}: {len(generated[mine[0]])} != {expected}")
    return [
        ("(a) no slot on a closed day, none during an absence", no_bad_slot(calendar, generated)),
        (f"(a) and (b) give the same total: {total_a} and {total_b}", total_a == total_b),
        (
            "(b) each department: as many slots as (a) gives its specialists, and exactly the "
            f"holds and bookings made ({sum(calendar.held.values())} and "
            f"{sum(calendar.booked.values())}){' wrong in ' + ', '.join(wrong) if wrong else ''}",
            not wrong,
        ),
        (
            "(a) one specialist of each department: the count equals a brute-force count "
            f"({counted} slots){' differ: ' + ', '.join(brute) if brute else ''}",
            not brute,
        ),
        suggest_check(calendar, generated, suggested, today),
    ]


def closed(day: date, jp_holidays: Any, year_end: tuple[str, str]) -> bool:
    """Closed the obvious way: weekend, a Japanese holiday, or inside the year-end range."""
    month_day = f"{day.month:02d}-{day.day:02d}"
    first, last = year_end
    in_year_end = (
        first <= month_day <= last if first <= last else month_day >= first or month_day <= last
    )
    return day.weekday() >= 5 or day in jp_holidays or in_year_end


def jp_closed(calendar: Calendar) -> set[date]:
    import holidays
    from django.conf import settings

    jp = holidays.country_holidays("JP", years=range(calendar.start.year, calendar.end.year + 1))
    days = (calendar.start + timedelta(days=n) for n in range(DAYS))
    return {d for d in days if closed(d, jp, settings.CLOSURE_YEAR_END)}


def no_bad_slot(calendar: Calendar, generated: dict[int, list[Any]]) -> bool:
    shut = jp_closed(calendar)
    for specialist_id, slots in generated.items():
        absences = defaultdict(list)
        for a in calendar.inputs[specialist_id].away:
            absences[a.day].append(a)
        for slot in slots:
            day = slot.starts_at.date()
            if day in shut or any(
                a.all_day
                or (a.starts_at < slot.ends_at.time() and slot.starts_at.time() < a.ends_at)
                for a in absences[day]
            ):
                return False
    return True


def minutes(moment: clock) -> int:
    return moment.hour * 60 + moment.minute


def independent_count(calendar: Calendar, specialist_id: int) -> int:
    """One specialist's slots counted by brute force from the database rows: every :00/:30 start
    of every open day, kept when a session holds the whole half hour and no absence touches it."""
    from opiniondesk.catalog.models import ConsultHours
    from opiniondesk.scheduling.models import Away, ExtraSession

    shut = jp_closed(calendar)
    weekly = ConsultHours.objects.filter(department_id=calendar.department_of[specialist_id])
    away = list(Away.objects.filter(specialist_id=specialist_id))
    extra = list(ExtraSession.objects.filter(specialist_id=specialist_id))
    count = 0
    for day in (calendar.start + timedelta(days=n) for n in range(DAYS)):
        if day in shut:
            continue
        sessions = [
            (minutes(h.starts_at), minutes(h.ends_at)) for h in weekly if h.weekday == day.weekday()
        ]
        sessions += [(minutes(e.starts_at), minutes(e.ends_at)) for e in extra if e.day == day]
        gone = [
            (minutes(a.starts_at), minutes(a.ends_at)) if a.starts_at else (0, 24 * 60)
            for a in away
            if a.day == day
        ]
        for begin in range(0, 24 * 60, 30):
            inside = any(s <= begin and begin + 30 <= e for s, e in sessions)
            count += inside and not any(s < begin + 30 and begin < e for s, e in gone)
    return count


def suggest_check(
    calendar: Calendar, generated: dict[int, list[Any]], suggested: list[Any], today: date
) -> tuple[str, bool]:
    """(c) equals the 12 earliest unclaimed slots of (a) in the offer window, by time and name."""
    from opiniondesk.accounts.models import User
    from opiniondesk.core.time import JST
    from opiniondesk.scheduling.models import Booking, OfferedSlot
    from opiniondesk.scheduling.selectors import earliest_offer_day

    first = calendar.departments[0]
    mine = [s for s, d in calendar.department_of.items() if d == first.pk]
    names = {u.pk: u.get_full_name() for u in User.objects.filter(pk__in=mine)}
    claimed = set(
        OfferedSlot.objects.filter(specialist_id__in=mine, released_at__isnull=True).values_list(
            "specialist_id", "starts_at"
        )
    )
    claimed |= set(
        Booking.objects.filter(specialist_id__in=mine, cancelled_at__isnull=True).values_list(
            "specialist_id", "starts_at"
        )
    )
    window = (earliest_offer_day(today), suggest_horizon(today))
    free = sorted(
        (slot.starts_at, names[s], s)
        for s in mine
        for slot in generated[s]
        if window[0] <= slot.starts_at.date() <= window[1] and (s, slot.starts_at) not in claimed
    )
    expected = [f"{s}@{at.astimezone(JST):%Y-%m-%dT%H:%M}" for at, __, s in free[: len(suggested)]]
    got = [view.key for view in suggested]
    return (
        f"(c) suggest_slots gave the {len(got)} earliest free slots",
        len(got) == 12 and got == expected,
    )


# --- part 2: the booking endpoint ----------------------------------------------------------------


@dataclass
class Account:
    user_id: int
    session_key: str
    csrf: str = ""

    def cookie(self) -> str:
        from django.conf import settings

        return (
            f"{settings.SESSION_COOKIE_NAME}={self.session_key}; "
            f"{settings.CSRF_COOKIE_NAME}={self.csrf}"
        )


@dataclass
class BenchCase:
    case_id: int
    slot_ids: list[int]
    accounts: list[Account]  # the applicant, then the patient's own account (pairs)


@dataclass
class Result:
    case_id: int
    user_id: int
    slot_id: int
    status: int
    seconds: float
    location: str
    message_levels: list[int]


@dataclass
class Figures:
    label: str
    results: list[Result]
    seconds: float
    other_cpu: float

    def percentile(self, p: int) -> float:
        cut = statistics.quantiles([r.seconds for r in self.results], n=100, method="inclusive")
        return cut[p - 1] * 1000

    @property
    def per_second(self) -> float:
        return len(self.results) / self.seconds


class SlotPool:
    """Free slots of the bench departments in the offer window, handed out 2–3 at a time, each
    from a different day, never twice."""

    def __init__(self, calendar: Calendar, today: date, rng: random.Random) -> None:
        from opiniondesk.scheduling.selectors import (
            SlotState,
            department_slots,
            earliest_offer_day,
        )

        self.rng, self.by_department = rng, []
        for d in calendar.departments:
            days: dict[date, deque[Any]] = defaultdict(deque)
            for view in department_slots(
                department=d, start=earliest_offer_day(today), end=suggest_horizon(today)
            ):
                if view.state is SlotState.FREE:
                    days[view.starts_at.date()].append(view)
            self.by_department.append((d, [days[day] for day in sorted(days)]))
        self.turn = 0

    def take(self) -> tuple[Any, list[Any]]:
        department, days = self.by_department[self.turn % len(self.by_department)]
        self.turn += 1
        open_days = [q for q in days if q]
        if len(open_days) < 3:
            raise BenchError(f"{department.code} has run out of free slots")
        first = self.rng.randrange(len(open_days) - 2)
        wanted = self.rng.choice([2, 3])
        return department, [q.popleft() for q in open_days[first : first + wanted]]


def make_booking_cases(
    calendar: Calendar, pool: SlotPool, count: int, *, pairs: bool, tag: str
) -> list[BenchCase]:
    """`count` offered cases, each with 2–3 held slots and a session for each of its accounts
    (the patient alone, or the applicant and the patient's own account)."""
    from django.utils import timezone

    from opiniondesk.cases.workflow import Status
    from opiniondesk.core.time import JST
    from opiniondesk.scheduling.models import HeldSlot, Offer, OfferedSlot

    applicants = patients(f"bench_{tag}_a", count, "田中")
    own = patients(f"bench_{tag}_p", count, "田中") if pairs else None
    made: list[BenchCase] = []
    for n in range(count):
        department, slots = pool.take()
        [case] = new_cases([applicants[n]], department, Status.OFFERED, [own[n]] if own else None)
        day_before = slots[0].starts_at.astimezone(JST).date() - timedelta(days=1)
        hold = min(
            timezone.now() + timedelta(days=3),
            datetime.combine(day_before, clock(23, 59), tzinfo=JST),
        )
        offer = Offer.objects.create(case=case, offered_by=calendar.coordinator, hold_until=hold)
        held = OfferedSlot.objects.bulk_create(
            OfferedSlot(
                offer=offer,
                specialist_id=v.specialist_id,
                department=department,
                starts_at=v.starts_at,
                ends_at=v.ends_at,
            )
            for v in slots
        )
        HeldSlot.objects.bulk_create(
            HeldSlot(offered_slot=h, specialist_id=h.specialist_id, starts_at=h.starts_at)
            for h in held
        )
        people = [applicants[n]] + ([own[n]] if own else [])
        made.append(BenchCase(case.pk, [s.pk for s in held], sessions_for(people)))
    return made


def patients(prefix: str, count: int, family: str) -> list[Any]:
    from django.contrib.auth.hashers import make_password

    from opiniondesk.accounts.models import Role, User

    password = make_password(None)
    return User.objects.bulk_create(
        User(
            username=f"{prefix}{n:04d}",
            email=f"{prefix}{n:04d}@bench.example.jp",
            role=Role.PATIENT,
            last_name=family,
            first_name=f"患者{n:04d}",
            password=password,
        )
        for n in range(count)
    )


def sessions_for(users: list[Any]) -> list[Account]:
    """Server-side sessions as a login would create them (patient accounts have no MFA)."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    accounts = []
    for user in users:
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        accounts.append(Account(user.pk, session.session_key or ""))
    return accounts


def new_client(base_url: str) -> httpx.AsyncClient:
    """One client: one keep-alive connection, cookies sent by hand (each case its own session)."""
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    return httpx.AsyncClient(base_url=base_url, timeout=HTTP_TIMEOUT, limits=limits)


async def fetch_tokens(base_url: str, cases: list[BenchCase], clients: int) -> list[str]:
    """GET each account's case page: it must list the held slots with their booking forms; the
    CSRF cookie it sets is what the browser would post back. Returns the problems found."""
    work = deque((case, account) for case in cases for account in case.accounts)
    problems: list[str] = []

    async def client() -> None:
        async with new_client(base_url) as http:
            while work:
                case, account = work.popleft()
                page = await http.get(
                    f"/cases/{case.case_id}/", headers={"Cookie": account.cookie()}
                )
                http.cookies.clear()
                account.csrf = set_cookies(page).get("csrftoken", "")
                listed = all(f'data-slot="{s}"' in page.text for s in case.slot_ids)
                form = f'action="/cases/{case.case_id}/book/"' in page.text
                if page.status_code != 200 or not account.csrf or not listed or not form:
                    problems.append(
                        f"case {case.case_id}: GET {page.status_code}, token "
                        f"{bool(account.csrf)}, slots listed {listed}, form {form}"
                    )

    await asyncio.gather(*(client() for _ in range(clients)))
    return problems


def set_cookies(response: httpx.Response) -> dict[str, str]:
    jar: SimpleCookie = SimpleCookie()
    for header in response.headers.get_list("set-cookie"):
        jar.load(header)
    return {name: morsel.value for name, morsel in jar.items()}


async def book(http: httpx.AsyncClient, case: BenchCase, account: Account, slot_id: int) -> Result:
    """The booking form's POST, as the case page's button sends it; redirects are not followed."""
    started = time.perf_counter()
    response = await http.post(
        f"/cases/{case.case_id}/book/",
        data={"csrfmiddlewaretoken": account.csrf, "slot": str(slot_id)},
        headers={"Cookie": account.cookie()},
    )
    seconds = time.perf_counter() - started
    http.cookies.clear()
    stored = set_cookies(response).get("messages", "")
    return Result(
        case.case_id,
        account.user_id,
        slot_id,
        response.status_code,
        seconds,
        response.headers.get("location", ""),
        message_levels(stored),
    )


def message_levels(cookie: str) -> list[int]:
    """The levels of the messages the response left for the next page (cookie storage)."""
    from django.contrib.messages.storage.cookie import CookieStorage
    from django.http import HttpRequest

    if not cookie:
        return []
    request = HttpRequest()
    request.COOKIES = {CookieStorage.cookie_name: cookie}
    return [message.level for message in CookieStorage(request)]


async def book_each(base_url: str, cases: list[BenchCase], clients: int) -> list[Result]:
    """`clients` clients, each booking one case after another, one slot each."""
    work, results = deque(cases), []

    async def client() -> None:
        async with new_client(base_url) as http:
            while work:
                case = work.popleft()
                slot = case.slot_ids[case.case_id % len(case.slot_ids)]
                results.append(await book(http, case, case.accounts[0], slot))

    await asyncio.gather(*(client() for _ in range(clients)))
    return results


async def book_in_pairs(base_url: str, cases: list[BenchCase], clients: int) -> list[Result]:
    """Pairs of clients: for each case of its lane, the applicant books its first slot and the
    patient's own account its second, both requests sent at the same moment."""
    lanes = [cases[n :: clients // 2] for n in range(clients // 2)]
    results: list[Result] = []

    async def pair(lane: list[BenchCase]) -> None:
        async with new_client(base_url) as first, new_client(base_url) as second:
            for case in lane:
                results.extend(
                    await asyncio.gather(
                        book(first, case, case.accounts[0], case.slot_ids[0]),
                        book(second, case, case.accounts[1], case.slot_ids[1]),
                    )
                )

    await asyncio.gather(*(pair(lane) for lane in lanes))
    return results


def wait_for_task_queue() -> None:
    """Let the task worker finish what earlier steps queued (e-mails), so that a run pays only for
    its own."""
    from django_tasks_db.models import DBTaskResult

    deadline = time.monotonic() + QUEUE_DRAIN_SECONDS
    while time.monotonic() < deadline:
        if not (DBTaskResult.objects.ready().exists() or DBTaskResult.objects.running().exists()):
            return
        time.sleep(0.5)
    print(f"   (the task queue was not empty after {QUEUE_DRAIN_SECONDS} s: measuring anyway)")


class Scenario:
    """One way of booking: prepares its cases, runs them, checks the outcome."""

    def __init__(self, label: str, pairs: bool, count: int) -> None:
        self.label, self.pairs, self.count, self.batches = label, pairs, count, 0

    def prepare(
        self, calendar: Calendar, pool: SlotPool, base_url: str, clients: int, count: int
    ) -> list[BenchCase]:
        self.batches += 1
        tag = f"{'pair' if self.pairs else 'own'}{self.batches}"
        cases = make_booking_cases(calendar, pool, count, pairs=self.pairs, tag=tag)
        problems = asyncio.run(fetch_tokens(base_url, cases, clients))
        if problems:
            raise BenchError("the case pages are not ready to book:\n" + "\n".join(problems[:10]))
        return cases

    def run(self, base_url: str, cases: list[BenchCase], clients: int, pgid: int) -> Figures:
        wait_for_task_queue()
        runner = book_in_pairs if self.pairs else book_each
        window, started = CpuWindow(pgid), time.perf_counter()
        results = asyncio.run(runner(base_url, cases, clients))
        label = f"{self.label} ({len(cases)} cases)"
        return Figures(label, results, time.perf_counter() - started, window.other())


def bench_booking(
    args: argparse.Namespace,
    env: dict[str, str],
    tmp: Path,
    calendar: Calendar,
    rng: random.Random,
    today: date,
) -> list[tuple[str, bool]]:
    from django.db import connections

    pool = SlotPool(calendar, today, rng)
    scenarios = [
        Scenario("one client per case", False, args.cases),
        Scenario("two clients per case", True, args.pair_cases),
    ]
    checks: list[tuple[str, bool]] = []
    connections.close_all()
    with running_server(env, tmp) as server:
        base, pgid = server.base_url, server.proc.pid
        print(f"\nwarming up: {WARMUP_CASES} + {args.clients // 2} cases booked, not measured ...")
        for scenario, count in zip(scenarios, [WARMUP_CASES, args.clients // 2], strict=True):
            cases = scenario.prepare(calendar, pool, base, args.clients, count)
            offset = server.log_path.stat().st_size
            warm = scenario.run(base, cases, args.clients, pgid)
            show_server_errors(warm, server.log_path, offset)
            checks.append(verify(scenario, cases, warm, "warm-up"))
        kept = []
        for scenario in scenarios:
            runs: list[Figures] = []
            while len(runs) < ATTEMPTS and (not runs or runs[-1].other_cpu > DISTURBED):
                if runs:
                    print(
                        f"   {scenario.label}: other processes used {runs[-1].other_cpu:.0%} "
                        "of the CPU during the run: running it again with new cases"
                    )
                warn_if_busy()
                cases = scenario.prepare(calendar, pool, base, args.clients, scenario.count)
                offset = server.log_path.stat().st_size
                runs.append(scenario.run(base, cases, args.clients, pgid))
                show_server_errors(runs[-1], server.log_path, offset)
                checks.append(verify(scenario, cases, runs[-1], f"run {len(runs)}"))
            kept.append(min(runs, key=lambda f: f.other_cpu))
    print_booking_figures(args, kept)
    return checks


def show_server_errors(figures: Figures, log_path: Path, offset: int) -> None:
    """Server errors fail the run; print the exceptions the server logged during it (after
    `offset`, the log's size when it began)."""
    errors = sum(r.status >= 500 for r in figures.results)
    if errors:
        with log_path.open("rb") as f:
            f.seek(offset)
            log = f.read().decode(errors="replace").splitlines()
        raised = Counter(line for line in log if re.match(r"[\w.]+(Error|Exception)\w*: ", line))
        print(f"!! {errors} answers were server errors; the server logged:")
        for line, count in raised.most_common(5):
            print(f"   {count} × {line}")


def verify(
    scenario: Scenario, cases: list[BenchCase], figures: Figures, run: str
) -> tuple[str, bool]:
    """The database after a run, and what each client was answered; one line, naming what failed."""
    from django.db.models import Count

    from opiniondesk.cases.models import Case
    from opiniondesk.scheduling.models import Booking

    ids = [c.case_id for c in cases]
    bookings = list(Booking.objects.filter(case_id__in=ids, cancelled_at__isnull=True))
    per_case = Counter(b.case_id for b in bookings)
    twice = (
        Booking.objects.filter(cancelled_at__isnull=True)
        .values("specialist_id", "starts_at")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
        .count()
    )
    statuses = Counter(Case.objects.filter(pk__in=ids).values_list("status", flat=True))
    held = {c.case_id: c.slot_ids for c in cases}
    codes = Counter(r.status for r in figures.results)
    live = {b.case_id: b for b in bookings}
    parts = {
        "each case booked exactly once": all(per_case[i] == 1 for i in ids),
        "on a slot held for it": all(b.offered_slot_id in held[b.case_id] for b in bookings),
        "no slot booked twice (whole database)": twice == 0,
        f"every case `booked` {dict(statuses)}": statuses == {"booked": len(ids)},
        f"every answer a 302 {dict(codes)}": set(codes) == {302},
    }
    what, answered = answers_check(scenario, cases, figures, live)
    parts[what] = answered
    failed = [name for name, ok in parts.items() if not ok]
    text = "; ".join(parts) if not failed else "FAILED: " + "; ".join(failed)
    return f"{scenario.label}, {run}, {len(ids)} cases: {text}", not failed


def answers_check(
    scenario: Scenario, cases: list[BenchCase], figures: Figures, live: dict[int, Any]
) -> tuple[str, bool]:
    """The winner is sent to the booking with a success message; in a pair, the other is sent back
    to the dates with an error message, and the winner is the one the database recorded."""
    from django.contrib.messages import ERROR, SUCCESS

    by_case = defaultdict(list)
    for r in figures.results:
        by_case[r.case_id].append(r)
    ok = True
    for case in cases:
        answers = by_case[case.case_id]
        won = [
            r
            for r in answers
            if r.location == f"/cases/{case.case_id}/#booking" and r.message_levels == [SUCCESS]
        ]
        lost = [
            r
            for r in answers
            if r.location == f"/cases/{case.case_id}/#dates" and r.message_levels == [ERROR]
        ]
        booking = live.get(case.case_id)
        ok &= (
            len(answers) == len(case.accounts)
            and len(won) == 1
            and len(lost) == len(answers) - 1
            and booking is not None
            and booking.booked_by_id == won[0].user_id
            and booking.offered_slot_id == won[0].slot_id
        )
    what = (
        "one client won (#booking, success message), the other lost (#dates, error message)"
        if scenario.pairs
        else "each client sent to #booking with a success message"
    )
    return what, ok


def print_booking_figures(args: argparse.Namespace, kept: list[Figures]) -> None:
    print(
        f"\n== booking: POST /cases/<id>/book/, {args.clients} concurrent clients, "
        f"{server_description(default_server())}, {args.workers} workers =="
    )
    print(
        f"{'scenario':<36}{'requests':>9}{'req/s':>8}{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}"
        f"{'other CPU':>11}  status codes"
    )
    for f in kept:
        codes = ", ".join(
            f"{code}: {n}" for code, n in sorted(Counter(r.status for r in f.results).items())
        )
        print(
            f"{f.label:<36}{len(f.results):>9}{f.per_second:>8.1f}{f.percentile(50):>8.1f}"
            f"{f.percentile(95):>8.1f}{f.percentile(99):>8.1f}{f.other_cpu:>11.0%}  {codes}"
        )
        if f.other_cpu > DISTURBED:
            print(
                f"!! {f.label}: other processes used {f.other_cpu:.0%} of the CPU during the run, "
                "so its figures are low: rerun on a quiet machine"
            )


def print_machine(args: argparse.Namespace) -> None:
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    print(f"date:    {date.today().isoformat()}")
    print(
        f"machine: {cpu_model()}, {os.cpu_count()} cores, {ram / 2**30:.0f} GiB RAM, "
        f"{platform.system()} {platform.release()}"
    )
    print(
        f"python:  {platform.python_implementation()} {platform.python_version()}, "
        f"Django {version('django')}, httpx {version('httpx')} (the client, same machine)"
    )
    print(
        f"server:  {server_description(default_server())}, {args.workers} workers, started by "
        f"bin/serve; {database_name(args)}"
    )


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (BenchError, OSError, httpx.HTTPError) as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        sys.exit(1)
