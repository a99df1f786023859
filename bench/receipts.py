"""Receipt benchmarks (issue #12): the receipt PDF and a month's CSV export for accounting.

Prepares a fresh SQLite database the way `make run` does (bench/eligibility_api.py: migrate,
collectstatic, load_demo, DEMO_MODE=true, in a temporary directory), then, in this process:

Part 1, receipt PDFs (target: under 0.5 s a receipt). `billing.receipt_pdf.receipt_pdf` renders
--receipts receipts (default 200): originals, corrected receipts (every 5th) and reissues (every
3rd), each with another patient's name, number and amount, so no two PDFs are alike. Interleaved
with it, in the same run, the reference: WeasyPrint rendering a one-line PDF (「領収書」 in the
same Noto Sans CJK JP font) through the same `html_to_pdf` call. The reference is the engine's
fixed cost for a page with an embedded CJK font subset, which no template can go below; the
difference is what the receipt's own layout costs. The first render of the process (fontconfig
and the font files loaded) is reported apart, as the first download after a worker starts.
Every 50th receipt is read back with pdftotext and must show its number and the patient's name.

Part 2, a month's CSV for accounting: 10,000 charges (--charges) settled in one month, written
directly as rows (benchmark setup, not the product's path), with their receipts; then
`billing.export.charges_csv` for the month, UTF-8 with BOM and Shift_JIS, best of 3. The CSV
must have a line per charge. If `opiniondesk.billing.export` is not there, part 2 is skipped
(said so, not failed).

    make bench-receipts
    .venv/bin/python bench/receipts.py --receipts 500 --charges 10000

Exits non-zero when the p95 of a receipt is 0.5 s or more, or a check fails.
"""

import argparse
import copy
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from importlib.metadata import version
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.eligibility_api import (  # noqa: E402
    DISTURBED,
    BenchError,
    bench_env,
    cpu_busy_fraction,
    default_server,
    prepare_database,
)
from bench.upload import cpu_model  # noqa: E402

TARGET_SECONDS = 0.5
SEED = 12
FAMILY = ["山田", "佐藤", "鈴木", "高橋", "田中", "渡辺", "伊藤", "中村", "小林", "髙橋", "齋藤"]
GIVEN = ["花", "健", "一郎", "美咲", "翔太", "さくら", "陽子", "大輔", "結衣", "蒼"]
METHODS = ["現金", "クレジットカード（院内端末）", "銀行振込", "クレジットカード（VISA ****4242）"]
REFERENCE_HTML = '<!DOCTYPE html><html lang="ja"><body><p>領収書</p></body></html>'
REFERENCE_CSS = 'html { font-family: "Noto Sans CJK JP"; }'


def main() -> int:
    args = parse_args()
    print_machine()
    with tempfile.TemporaryDirectory(prefix="opiniondesk-bench-receipts-") as tmp:
        env = bench_env(Path(tmp), default_server(), 1)
        print("preparing: migrate, collectstatic, load_demo; a fresh SQLite database ...")
        prepare_database(env)
        setup_django(env)
        try:
            checks = bench_pdf(args.receipts)
            if not args.skip_csv:
                checks += bench_csv(args.charges)
        finally:
            from django.db import connections

            connections.close_all()
    print("\n== checks ==")
    for name, ok in checks:
        print(f"{'ok  ' if ok else 'FAIL'} {name}")
    failed = sum(not ok for _, ok in checks)
    print(f"{len(checks) - failed} passed, {failed} failed")
    return 1 if failed else 0


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--receipts", type=int, default=200, help="receipt PDFs to render")
    parser.add_argument("--charges", type=int, default=10_000, help="charges in the month's CSV")
    parser.add_argument("--skip-csv", action="store_true", help="part 1 only")
    args = parser.parse_args()
    if not 20 <= args.receipts <= 5000 or not 100 <= args.charges <= 100_000:
        parser.error("need 20 <= --receipts <= 5000 and 100 <= --charges <= 100000")
    return args


def setup_django(env: dict[str, str]) -> None:
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def print_machine() -> None:
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    print(f"date:    {date.today().isoformat()}")
    print(
        f"machine: {cpu_model()}, {os.cpu_count()} cores, {ram / 2**30:.0f} GiB RAM, "
        f"{platform.system()} {platform.release()}"
    )
    print(
        f"python:  {platform.python_implementation()} {platform.python_version()}, "
        f"Django {version('django')}, WeasyPrint {version('weasyprint')}, "
        f"pydyf {version('pydyf')}, fonttools {version('fonttools')}"
    )


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def timed(call: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = call()
    return time.perf_counter() - start, result


# Part 1: receipt PDFs.


def demo_receipts(count: int) -> list[tuple[Any, bool]]:
    """`count` receipts as the billing services store them (unsaved: rendering reads only the
    row), each with whether it is rendered as a reissue."""
    from django.conf import settings
    from django.utils import timezone

    from opiniondesk.billing.invoice_number import normalise
    from opiniondesk.billing.models import Receipt, ReceiptKind
    from opiniondesk.billing.services import RECEIPT_DESCRIPTION, tax_within

    rng = random.Random(SEED)
    hospital = settings.HOSPITAL
    receipts: list[tuple[Any, bool]] = []
    previous = None
    for index in range(count):
        corrected = index % 5 == 4 and previous is not None
        amount = rng.choice([44_000, 88_000])
        if corrected and previous is not None:
            amount = previous.amount - rng.choice([1_000, 4_000, 10_000])
        receipt = Receipt(
            number=100_000 + index,
            kind=ReceiptKind.CORRECTED if corrected else ReceiptKind.ORIGINAL,
            corrects=previous if corrected else None,
            issued_at=timezone.now(),
            issued_on=date(2026, 12, 1) + timedelta(days=index % 28),
            payer_name=f"{rng.choice(FAMILY)} {rng.choice(GIVEN)}",
            description=RECEIPT_DESCRIPTION,
            amount=amount,
            tax=tax_within(amount, 10),
            tax_rate_percent=10,
            method=rng.choice(METHODS),
            issuer_name=hospital["name"],
            issuer_address=f"〒{hospital['postal_code']} {hospital['address']}",
            issuer_phone=hospital["phone"],
            registration_number=normalise(hospital["invoice_number"]),
        )
        receipts.append((receipt, index % 3 == 2))
        previous = receipt
    return receipts


def pdf_text(pdf: bytes) -> str:
    pdftotext = shutil.which("pdftotext")
    if pdftotext is None:
        raise BenchError("pdftotext is missing: apt-get install poppler-utils")
    return subprocess.run(
        [pdftotext, "-layout", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()


def bench_pdf(count: int) -> list[tuple[str, bool]]:
    from opiniondesk.billing.receipt_pdf import html_to_pdf, receipt_pdf

    print(f"\n== part 1: {count} receipt PDFs, and a one-line PDF as the reference ==")
    receipts = demo_receipts(count)
    busy_before = cpu_busy_fraction()
    first, _ = timed(lambda: receipt_pdf(receipts[0][0], reissue=False))
    print(f"first receipt of the process (fonts loaded): {first:.3f} s")
    for receipt, reissue in receipts[:3]:  # warm-up
        receipt_pdf(receipt, reissue=reissue)
        html_to_pdf(REFERENCE_HTML, REFERENCE_CSS)
    times, reference, sizes, read_back = [], [], [], True
    for index, (receipt, reissue) in enumerate(receipts):
        seconds, pdf = timed(lambda r=receipt, again=reissue: receipt_pdf(r, reissue=again))
        times.append(seconds)
        sizes.append(len(pdf))
        reference.append(timed(lambda: html_to_pdf(REFERENCE_HTML, REFERENCE_CSS))[0])
        if index % 50 == 0:
            text = pdf_text(pdf)
            read_back &= f"{receipt.number:06d}" in text and receipt.payer_name in text
            read_back &= ("再発行" in text) is reissue
    busy = cpu_busy_fraction()
    p50, p95 = statistics.median(times), percentile(times, 0.95)
    ref50, ref95 = statistics.median(reference), percentile(reference, 0.95)
    print(f"{'':<24}{'median':>9}{'p95':>9}{'max':>9}")
    print(f"{'receipt PDF':<24}{p50:>8.3f}s{p95:>8.3f}s{max(times):>8.3f}s")
    print(f"{'one-line PDF (ref.)':<24}{ref50:>8.3f}s{ref95:>8.3f}s{max(reference):>8.3f}s")
    print(f"receipt / reference (median): {p50 / ref50:.2f}×; the layout costs {p50 - ref50:.3f} s")
    print(
        f"PDF size: median {statistics.median(sizes) / 1024:.0f} KiB, "
        f"max {max(sizes) / 1024:.0f} KiB; {len(times) / sum(times):.1f} receipts/s on one core"
    )
    verdict = "PASS" if p95 < TARGET_SECONDS else "FAIL"
    print(f"target: p95 < {TARGET_SECONDS} s a receipt: {verdict}")
    if max(busy_before, busy) > DISTURBED:
        print(f"!! the CPU was {max(busy_before, busy):.0%} busy: other processes used it")
    return [
        (f"receipt PDF p95 {p95:.3f} s < {TARGET_SECONDS} s", p95 < TARGET_SECONDS),
        ("receipts read back: number, name and 再発行 as rendered", read_back),
    ]


# Part 2: a month's CSV export.


def bench_csv(count: int) -> list[tuple[str, bool]]:
    print(f"\n== part 2: a month's CSV of {count:,} charges ==")
    try:
        from opiniondesk.billing.export import charges_csv
    except ImportError:
        print("skipped: opiniondesk.billing.export (charges_csv) is not in this tree yet")
        return []
    from opiniondesk.billing.models import Charge

    month_start, month_end = month_of_charges(count)

    def rows():
        return (
            Charge.objects.filter(created_at__gte=month_start, created_at__lt=month_end)
            .select_related("case", "case__department")
            .order_by("created_at", "pk")
        )

    # The month also holds the demo's own charges (load_demo): a line for each charge in it.
    in_month = rows().count()
    checks = []
    for encoding in ("utf-8-sig", "shift_jis"):
        runs = [timed(lambda e=encoding: charges_csv(rows(), encoding=e)) for _ in range(3)]
        best, data = min(runs, key=lambda run: run[0])
        lines = data.decode("utf-8-sig" if encoding == "utf-8-sig" else "cp932").splitlines()
        print(
            f"{encoding:<10} best of 3: {best:.2f} s "
            f"({best / count * 1e6:.0f} µs a charge), {len(data) / 2**20:.1f} MiB, "
            f"{len(lines):,} lines"
        )
        checks.append(
            (f"CSV {encoding}: a line per charge and a header", len(lines) == in_month + 1)
        )
    return checks


def month_of_charges(count: int) -> tuple[datetime, datetime]:
    """`count` charges in December 2026, each of its own case, settled as a busy desk would
    (cash, terminal, transfer, card, a few waived, a few still to pay), with their receipts."""
    from django.db import transaction

    from opiniondesk.billing.models import (
        Charge,
        ChargeState,
        FeeSchedule,
        Provider,
        Receipt,
        ReceiptKind,
    )
    from opiniondesk.cases.models import Case
    from opiniondesk.core.time import JST

    rng = random.Random(SEED)
    start = datetime(2026, 12, 1, tzinfo=JST)
    template = Case.objects.exclude(status="draft").first() or Case.objects.first()
    if template is None:
        raise BenchError("load_demo made no case to copy")
    schedule = FeeSchedule.objects.filter(tiers__isnull=False).first()
    began = time.perf_counter()
    with transaction.atomic():
        cases = []
        for _ in range(count):
            case = copy.copy(template)
            case.pk = case.id = None
            case.patient_family_name, case.patient_given_name = (
                rng.choice(FAMILY),
                rng.choice(GIVEN),
            )
            cases.append(case)
        cases = Case.objects.bulk_create(cases, batch_size=500)
        states = [ChargeState.COLLECTED] * 12 + [ChargeState.PAID] * 6
        states += [ChargeState.WAIVED, ChargeState.AT_DESK]
        charges = []
        for case in cases:
            state = rng.choice(states)
            created = start + timedelta(minutes=rng.randrange(30 * 24 * 60))
            minutes = rng.randint(1, 60)
            amount = 44_000 if minutes <= 30 else 88_000
            charges.append(
                Charge(
                    case=case,
                    state=state,
                    provider=Provider.STRIPE if state == ChargeState.PAID else Provider.DESK,
                    schedule=schedule,
                    review_seconds=0,
                    call_seconds=minutes * 60,
                    billable_minutes=minutes,
                    tier=1 if minutes <= 30 else 2,
                    amount=amount,
                    tax=amount // 11,
                    tax_rate_percent=10,
                    created_at=created,
                    settled_at=created + timedelta(hours=1)
                    if state not in (ChargeState.AT_DESK,)
                    else None,
                    collect_method=rng.choice(["cash", "terminal", "transfer"])
                    if state == ChargeState.COLLECTED
                    else "",
                )
            )
        charges = Charge.objects.bulk_create(charges, batch_size=500)
        receipts = [
            Receipt(
                number=number,
                charge=charge,
                kind=ReceiptKind.ORIGINAL,
                issued_at=charge.settled_at,
                issued_on=charge.settled_at.astimezone(JST).date(),
                payer_name=charge.case.patient_name,
                description="セカンドオピニオン（自費診療）",
                amount=charge.amount,
                tax=charge.tax,
                tax_rate_percent=10,
                method="現金",
                issuer_name="OpinionDesk 大学病院",
                issuer_address="〒000-0000 東京都架空区見本町1-2-3",
                issuer_phone="03-0000-1234",
                registration_number="T9000000000000",
            )
            for number, charge in enumerate(
                (c for c in charges if c.state in (ChargeState.COLLECTED, ChargeState.PAID)),
                start=1_000_000,
            )
        ]
        Receipt.objects.bulk_create(receipts, batch_size=500)
    print(
        f"written: {count:,} cases and charges, {len(receipts):,} receipts "
        f"in {time.perf_counter() - began:.1f} s (setup, not measured)"
    )
    return start, datetime(2027, 1, 1, tzinfo=JST)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (BenchError, OSError, subprocess.CalledProcessError) as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        sys.exit(1)
