"""How receipts are named and dated, in the words and formats of Japanese receipts."""

from datetime import date


def receipt_number_text(number: int) -> str:
    """The receipt number as printed: six digits at least (No. 000123)."""
    return f"{number:06d}"


def receipt_filename(number: int) -> str:
    return f"receipt-{receipt_number_text(number)}.pdf"


def japanese_date(day: date) -> str:
    """2026年12月2日: the western year, as the tax office accepts it."""
    return f"{day.year}年{day.month}月{day.day}日"


def yen(amount: int) -> str:
    return f"¥{amount:,}"
