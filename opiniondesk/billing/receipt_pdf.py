"""The receipt (領収書) as a PDF: a qualified simplified invoice (適格簡易請求書, SPEC §11.17)
drawn from the `Receipt` row alone, so a copy printed years later reads as the first did.

Rendered by WeasyPrint (`core.pdf`) from `billing/receipt.html` and `billing/receipt.css`,
every glyph from Debian's Noto Sans CJK JP (fonts-noto-cjk), embedded as a subset. Nothing is
written to disk: the PDF is built in memory and returned as bytes.
"""

from typing import Any

from django.template.loader import render_to_string

from opiniondesk.billing.models import Receipt, ReceiptKind
from opiniondesk.billing.wording import japanese_date, receipt_number_text, yen
from opiniondesk.core.pdf import html_to_pdf

__all__ = ["html_to_pdf", "receipt_context", "receipt_pdf"]


def receipt_context(receipt: Receipt, *, reissue: bool) -> dict[str, Any]:
    """What the receipt shows, every value from the stored row."""
    corrects = receipt.corrects if receipt.kind == ReceiptKind.CORRECTED else None
    return {
        "receipt": receipt,
        "reissue": reissue,
        "corrected": corrects is not None,
        "title": "領収書（訂正）" if corrects is not None else "領収書",
        "number": receipt_number_text(receipt.number),
        "issued_on": japanese_date(receipt.issued_on),
        "amount": yen(receipt.amount),
        "tax": yen(receipt.tax),
        "rate": receipt.tax_rate_percent,
        "corrects_number": receipt_number_text(corrects.number) if corrects else "",
        "corrects_amount": yen(corrects.amount) if corrects else "",
        "corrects_issued_on": japanese_date(corrects.issued_on) if corrects else "",
    }


def receipt_pdf(receipt: Receipt, *, reissue: bool = False) -> bytes:
    """The receipt as PDF bytes; `reissue` marks a copy after the first (再発行)."""
    context = receipt_context(receipt, reissue=reissue)
    return html_to_pdf(
        render_to_string("billing/receipt.html", context),
        render_to_string("billing/receipt.css"),
    )
