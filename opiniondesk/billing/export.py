"""The charges as a CSV file for accounting (経理): one line per charge, Japanese headers.

UTF-8 with a BOM by default, so Excel opens it as UTF-8; Shift_JIS on request, written as cp932
(what Japanese Excel means by Shift_JIS: it also has 髙, 﨑, ①, ㈱). A character cp932 still cannot
write (an emoji, a rare kanji) becomes 〓 (geta, the typesetters' mark for a missing character)
and is counted, so the page can say so: nothing crashes, nothing vanishes silently.

The file is for people, not for us: Japanese words for the states and the ways of paying are
written here directly, as on the receipt.
"""

import csv
import io
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from opiniondesk.billing.models import (
    AttemptState,
    Charge,
    ChargeAttempt,
    ChargeState,
    CollectMethod,
    Provider,
    Receipt,
)
from opiniondesk.core.time import JST

Encoding = Literal["utf-8-sig", "shift_jis"]
GETA = "〓"
# A cell a spreadsheet would read as a formula (CSV injection): prefixed with an apostrophe.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CHUNK = 500  # charges per query for their receipts and references

HEADERS = (
    "領収書番号",
    "課金日",
    "精算日",
    "受付番号",
    "患者氏名",
    "診療科",
    "課金対象時間（分）",
    "料金区分",
    "金額（税込）",
    "消費税",
    "税率（%）",
    "返金額",
    "差引額",
    "状態",
    "支払方法",
    "決済参照番号",
)
STATE_WORDS = {
    ChargeState.NEEDS_DECISION: "要判断（0分）",
    ChargeState.PENDING: "カード請求待ち",
    ChargeState.PROCESSING: "カード会社処理中",
    ChargeState.REQUIRES_ACTION: "本人認証待ち",
    ChargeState.FAILED: "カード決済失敗",
    ChargeState.AT_DESK: "窓口支払待ち",
    ChargeState.PAID: "カード決済済",
    ChargeState.COLLECTED: "窓口収納済",
    ChargeState.WAIVED: "免除",
}
METHOD_WORDS = {
    CollectMethod.CASH: "現金",
    CollectMethod.TERMINAL: "院内カード端末",
    CollectMethod.TRANSFER: "銀行振込",
}
RECEIVED = (ChargeState.PAID, ChargeState.COLLECTED)


@dataclass(frozen=True)
class Export:
    data: bytes
    replaced: int  # characters written as 〓 (Shift_JIS only)
    rows: int


def charges_csv(rows: Iterable[Charge], *, encoding: Encoding = "utf-8-sig") -> bytes:
    """The CSV file of these charges (fetched with `case` and `case__department`)."""
    return charges_export(rows, encoding=encoding).data


def charges_export(rows: Iterable[Charge], *, encoding: Encoding = "utf-8-sig") -> Export:
    """The CSV file and how many characters Shift_JIS could not hold."""
    if encoding not in ("utf-8-sig", "shift_jis"):
        raise ValueError(f"unknown encoding {encoding!r}")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADERS)
    count = 0
    for charge, receipts, reference in _with_details(rows):
        writer.writerow([guard(cell) for cell in charge_line(charge, receipts, reference)])
        count += 1
    text = buffer.getvalue()
    if encoding == "utf-8-sig":
        return Export(text.encode("utf-8-sig"), 0, count)
    data, replaced = to_cp932(text)
    return Export(data, replaced, count)


def charge_line(charge: Charge, receipts: Sequence[int], reference: str) -> list[str]:
    case = charge.case
    department = case.department.name if case.department else ""
    received = charge.state in RECEIVED
    return [
        " ".join(str(number) for number in receipts),
        _day(charge.created_at),
        _day(charge.settled_at),
        case.reference,
        case.patient_name,
        department,
        str(charge.billable_minutes),
        str(charge.tier),
        str(charge.amount),
        str(charge.tax),
        str(charge.tax_rate_percent),
        str(charge.refunded),
        str(charge.amount - charge.refunded if received else 0),
        STATE_WORDS.get(ChargeState(charge.state), charge.state),
        _method(charge),
        reference,
    ]


def guard(cell: str) -> str:
    """A cell Excel would run as a formula starts with an apostrophe instead."""
    return f"'{cell}" if cell.startswith(FORMULA_STARTS) else cell


def to_cp932(text: str) -> tuple[bytes, int]:
    """`text` in cp932, each character it cannot hold written as 〓; and how many there were."""
    out = bytearray()
    replaced = 0
    for char in text:
        try:
            out += char.encode("cp932")
        except UnicodeEncodeError:
            out += GETA.encode("cp932")
            replaced += 1
    return bytes(out), replaced


def cp932_missing(texts: Iterable[str]) -> int:
    """How many characters of `texts` cp932 cannot hold (for a warning before the download)."""
    missing = 0
    for text in texts:
        try:
            text.encode("cp932")
        except UnicodeEncodeError:
            missing += sum(1 for char in text if not _encodes(char))
    return missing


def _encodes(char: str) -> bool:
    try:
        char.encode("cp932")
    except UnicodeEncodeError:
        return False
    return True


def _day(moment: datetime | None) -> str:
    return moment.astimezone(JST).date().isoformat() if moment else ""


def _method(charge: Charge) -> str:
    if charge.collect_method:
        return METHOD_WORDS.get(CollectMethod(charge.collect_method), charge.collect_method)
    if charge.provider == Provider.STRIPE:
        return "クレジットカード（Stripe）"
    return ""


def _with_details(rows: Iterable[Charge]) -> Iterator[tuple[Charge, list[int], str]]:
    """Each charge with its receipt numbers and the provider's reference of its payment, read
    a chunk of charges at a time (two queries per chunk, not two per charge)."""
    chunk: list[Charge] = []
    for charge in rows:
        chunk.append(charge)
        if len(chunk) == CHUNK:
            yield from _details(chunk)
            chunk = []
    if chunk:
        yield from _details(chunk)


def _details(chunk: list[Charge]) -> Iterator[tuple[Charge, list[int], str]]:
    ids = [charge.pk for charge in chunk]
    receipts: dict[int, list[int]] = defaultdict(list)
    for charge_id, number in (
        Receipt.objects.filter(charge_id__in=ids).order_by("number").values_list("charge", "number")
    ):
        receipts[charge_id].append(number)
    references: dict[int, tuple[bool, str]] = {}
    for charge_id, reference, state in (
        ChargeAttempt.objects.filter(charge_id__in=ids)
        .exclude(reference="")
        .order_by("number")
        .values_list("charge", "reference", "state")
    ):
        # The reference of the try that succeeded; else of the last try.
        if not references.get(charge_id, (False, ""))[0]:
            references[charge_id] = (state == AttemptState.SUCCEEDED, reference)
    for charge in chunk:
        yield charge, receipts[charge.pk], references.get(charge.pk, (False, ""))[1]
