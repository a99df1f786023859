"""The CSV file for accounting: headers, one line per charge, the two encodings, the formula
guard and amounts typed by hand."""

import csv
import io

import pytest

from opiniondesk.billing import services
from opiniondesk.billing.export import (
    GETA,
    HEADERS,
    charges_csv,
    charges_export,
    cp932_missing,
    guard,
    to_cp932,
)
from opiniondesk.billing.reports import charges
from opiniondesk.billing.staff_forms import yen
from opiniondesk.cases.models import Case
from opiniondesk.testing.builders import completed_case


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ("=1+1", "'=1+1"),
        ("+81 3", "'+81 3"),
        ("-5", "'-5"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=cmd", "'\t=cmd"),
        ("山田 花", "山田 花"),
        ("5500", "5500"),
        ("", ""),
        ("a=b", "a=b"),
    ],
)
def test_a_cell_read_as_a_formula_is_guarded(cell, written):
    assert guard(cell) == written


@pytest.mark.parametrize(
    ("text", "encoded", "replaced"),
    [
        ("山田", "山田".encode("cp932"), 0),
        ("髙橋", "髙橋".encode("cp932"), 0),  # in cp932, not in plain Shift_JIS
        ("山﨑", "山﨑".encode("cp932"), 0),
        ("①㈱", "①㈱".encode("cp932"), 0),
        ("花😀", ("花" + GETA).encode("cp932"), 1),
        ("𠮷田", (GETA + "田").encode("cp932"), 1),
        ("😀😀", (GETA * 2).encode("cp932"), 2),
    ],
)
def test_cp932_writes_geta_for_what_it_cannot_hold(text, encoded, replaced):
    assert to_cp932(text) == (encoded, replaced)
    assert cp932_missing([text]) == replaced


@pytest.mark.parametrize(
    ("typed", "amount"),
    [
        ("5500", 5500),
        ("５５００", 5500),
        ("5,500", 5500),
        ("５，５００", 5500),
        ("¥5,500", 5500),
        ("￥５，５００", 5500),
        ("5500円", 5500),
        (" 1 000 ", 1000),
        ("", None),
        ("-100", None),
        ("12.5", None),
        ("abc", None),
        ("1e3", None),
        ("9999999999", None),
    ],
)
def test_an_amount_is_read_as_typed(typed, amount):
    assert yen(typed) == amount


@pytest.fixture
def paid(billing_ito):
    """Two fees paid at the hospital: 髙橋 (cp932 has it) and a name with an emoji and a
    formula."""
    first = completed_case(call_minutes=25)
    Case.objects.filter(pk=first.pk).update(patient_family_name="髙橋", patient_given_name="花")
    services.collect(charge_id=first.charge.pk, actor=billing_ito, method="cash")
    second = completed_case(call_minutes=40)
    Case.objects.filter(pk=second.pk).update(
        patient_family_name="=HYPERLINK(1)", patient_given_name="花😀"
    )
    return first, second


def _lines(data: bytes, encoding: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode(encoding), newline="")))


@pytest.mark.django_db
def test_the_utf8_file_has_a_bom_and_one_line_per_charge(paid):
    first, _second = paid
    data = charges_csv(charges().order_by("pk"), encoding="utf-8-sig")
    assert data.startswith(b"\xef\xbb\xbf")
    assert b"\r\n" in data
    header, *rows = _lines(data, "utf-8-sig")
    assert tuple(header) == HEADERS
    assert len(rows) == 2
    one = dict(zip(header, rows[0], strict=True))
    receipt = first.charge.receipts.get()
    assert one["領収書番号"] == str(receipt.number)
    assert one["受付番号"] == first.reference
    assert one["患者氏名"] == "髙橋 花"
    assert one["診療科"] == first.department.name
    assert one["課金対象時間（分）"] == "25"
    assert one["金額（税込）"] == str(first.charge.amount)
    assert one["差引額"] == str(first.charge.amount)
    assert one["状態"] == "窓口収納済"
    assert one["支払方法"] == "現金"
    assert one["精算日"] != ""
    two = dict(zip(header, rows[1], strict=True))
    assert two["患者氏名"] == "'=HYPERLINK(1) 花😀"
    assert two["状態"] == "窓口支払待ち"
    assert two["差引額"] == "0"  # nothing received yet
    assert two["精算日"] == ""


@pytest.mark.django_db
def test_the_shift_jis_file_is_cp932_with_geta_counted(paid):
    export = charges_export(charges().order_by("pk"), encoding="shift_jis")
    assert not export.data.startswith(b"\xef\xbb\xbf")
    text = export.data.decode("cp932")
    assert "髙橋 花" in text
    assert f"'=HYPERLINK(1) 花{GETA}" in text
    assert export.replaced == 1
    assert export.rows == 2


def test_an_unknown_encoding_is_refused():
    with pytest.raises(ValueError):
        charges_csv([], encoding="latin-1")  # type: ignore[arg-type]


def test_no_charges_give_the_headers_alone():
    assert _lines(charges_csv([]), "utf-8-sig") == [list(HEADERS)]
