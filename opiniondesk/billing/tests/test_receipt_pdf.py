"""The receipt PDF (領収書, SPEC §11.17): a qualified simplified invoice in Japanese, read back
with pdftotext and pdffonts. Receipts are made as the billing desk makes them: a consult ended
through the consult services, its fee recorded as paid at the hospital, a refund."""

import re

import pytest

from opiniondesk.billing import services
from opiniondesk.billing.models import ChargeState, Receipt, ReceiptKind
from opiniondesk.billing.receipt_pdf import receipt_pdf
from opiniondesk.billing.wording import japanese_date
from opiniondesk.testing.builders import completed_case
from opiniondesk.testing.pdf import pdf_fonts, pdf_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def collected(billing_ito):
    """A 25-minute in-person consult (tier 1: ¥44,000 with ¥4,000 tax), paid in cash."""
    case = completed_case(mode="in_person", call_minutes=25)
    charge = services.collect(charge_id=case.charge.pk, actor=billing_ito, method="cash")
    assert charge.state == ChargeState.COLLECTED
    return charge


def _squeezed(text: str) -> str:
    # pdftotext -layout pads columns with spaces; the words themselves must come back whole.
    return re.sub(r"[ \t]+", " ", text)


def _flat(text: str) -> str:
    # A sentence wrapped over two lines, read without its line breaks and spaces.
    return re.sub(r"\s+", "", text)


def test_the_receipt_says_what_a_qualified_simplified_invoice_must(collected, settings):
    receipt = collected.receipts.get()
    text = _squeezed(pdf_text(receipt_pdf(receipt)))
    hospital = settings.HOSPITAL
    for expected in [
        "領収書",
        f"No. {receipt.number:06d}",
        f"発行日 {japanese_date(receipt.issued_on)}",
        "山田 花 様",
        "セカンドオピニオン（自費診療）",
        "¥44,000",
        "（税込）",
        "10%対象 ¥44,000 うち消費税 ¥4,000",
        "適用税率 10%",
        "お支払い方法 現金",
        hospital["name"],
        hospital["address"],
        f"電話 {hospital['phone']}",
        "登録番号 T9000000000000",
        "医療費控除",
        "上記正に領収いたしました。",
    ]:
        assert expected in text, f"{expected!r} not found in:\n{text}"
    assert "再発行" not in text
    assert "訂正" not in text


def test_every_glyph_comes_from_an_embedded_noto_cjk_font(collected):
    pdf = receipt_pdf(collected.receipts.get())
    fonts = pdf_fonts(pdf)
    assert fonts, "no font in the PDF"
    for font in fonts:
        assert font["emb"] == "yes", font
        assert font["sub"] == "yes", font  # a subset, not the whole 16 MB collection
        assert "Noto-Sans-CJK-JP" in font["name"], font
    text = pdf_text(pdf)
    assert "\ufffd" not in text  # no replacement character: every glyph was found
    assert not re.search(r"[\x00-\x08\x0b\x0e-\x1f]", text)
    assert text.count("\f") == 1  # one page


def test_the_date_is_written_the_japanese_way(collected):
    receipt = collected.receipts.get()
    day = receipt.issued_on
    assert f"{day.year}年{day.month}月{day.day}日" in pdf_text(receipt_pdf(receipt))


def test_a_reissue_says_so(collected):
    receipt = collected.receipts.get()
    text = pdf_text(receipt_pdf(receipt, reissue=True))
    assert "再発行" in text
    assert f"No. {receipt.number:06d} の領収書を再発行したものです" in _squeezed(text)


def test_a_card_payment_names_the_card(billing_ito, settings):
    case = completed_case(mode="in_person", call_minutes=40)  # tier 2: ¥88,000
    services.collect(charge_id=case.charge.pk, actor=billing_ito, method="terminal")
    text = _squeezed(pdf_text(receipt_pdf(case.charge.receipts.get())))
    assert "¥88,000" in text
    assert "うち消費税 ¥8,000" in text
    assert "お支払い方法 クレジットカード（院内端末）" in text


def test_a_corrected_receipt_after_a_refund_replaces_the_old_one(collected, billing_ito):
    original = collected.receipts.get()
    services.refund(
        charge_id=collected.pk,
        actor=billing_ito,
        amount=10_000,
        reason="一部返金（説明時間の短縮）",
    )
    corrected = Receipt.objects.get(charge=collected, kind=ReceiptKind.CORRECTED)
    assert corrected.corrects == original
    assert corrected.number > original.number
    assert (corrected.amount, corrected.tax) == (34_000, 34_000 * 10 // 110)
    text = _squeezed(pdf_text(receipt_pdf(corrected)))
    assert "領収書（訂正）" in text
    assert f"No. {corrected.number:06d}" in text
    assert "¥34,000" in text
    assert f"10%対象 ¥34,000 うち消費税 ¥{34_000 * 10 // 110:,}" in text
    assert f"領収書No.{original.number:06d}（金額¥44,000）に代わるものです" in _flat(text)
    assert "再発行" not in text


def test_a_name_with_markup_is_printed_as_text(billing_ito):
    case = completed_case(mode="in_person", call_minutes=25)
    case.patient_given_name = '<b>花</b> & "子"'
    case.save(update_fields=["patient_given_name"])
    services.collect(charge_id=case.charge.pk, actor=billing_ito, method="cash")
    text = pdf_text(receipt_pdf(case.charge.receipts.get()))
    assert '山田 <b>花</b> & "子" 様' in text
