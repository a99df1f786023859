"""What a coordinator typed in the queue's search box: a reference (受付番号), a phone number or
names. Pure: the text in, a `Search` out; the selector turns it into a query.

Text is NFKC-normalised here (full-width digits and letters, half-width kana), as people type on
the phone to a patient: "so-000123", "ＳＯ－０００１２３", "０３（１２３４）５６７８", "ﾔﾏﾀﾞ".
"""

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum


class SearchKind(StrEnum):
    NONE = "none"
    REFERENCE = "reference"
    PHONE = "phone"
    NAME = "name"


# Hyphens, dashes, the long vowel mark and brackets people put in numbers; NFKC leaves some.
_NUMBER_PUNCTUATION = "-‐‑‒–—―−ー－ー() .+"
_REFERENCE = re.compile(r"^SO[-ー]?(\d{1,9})$", re.IGNORECASE)
MIN_PHONE_DIGITS = 4  # fewer digits match half the queue
REFERENCE_DIGITS = 6  # SO-000123
MAX_TERMS = 4
MAX_LENGTH = 100

_HIRAGANA = range(ord("ぁ"), ord("ゖ") + 1)
_KATAKANA = range(ord("ァ"), ord("ヶ") + 1)
_KANA_SHIFT = ord("ァ") - ord("ぁ")


@dataclass(frozen=True)
class Search:
    kind: SearchKind
    case_id: int | None = None
    digits: str = ""  # a phone number's digits, matched anywhere in the stored number
    terms: tuple[tuple[str, ...], ...] = ()  # each term with its kana spellings; all must match

    @property
    def active(self) -> bool:
        return self.kind is not SearchKind.NONE


NO_SEARCH = Search(SearchKind.NONE)


def normalize(text: str) -> str:
    """NFKC and single spaces (the shared normaliser in core may replace this)."""
    return " ".join(unicodedata.normalize("NFKC", text).split())


def digits_of(text: str) -> str:
    """The digits of a phone number however it was typed or stored; "" if it has anything else."""
    stripped = "".join(ch for ch in normalize(text) if ch not in _NUMBER_PUNCTUATION)
    return stripped if stripped.isascii() and stripped.isdigit() else ""


def phone_pattern(digits: str) -> str:
    """A regular expression finding `digits` in a stored number whatever lies between them
    (hyphens, brackets, spaces) and in ASCII or full-width digits: stored numbers may predate
    normalised input. One portable lookup (SQLite and PostgreSQL), no function per character."""
    between = "[^0-9０-９]*"
    return between.join(f"[{d}{chr(ord(d) + 0xFEE0)}]" for d in digits)


def kana_variants(term: str) -> tuple[str, ...]:
    """The term as typed, in katakana and in hiragana: kana readings match either way."""
    katakana = "".join(chr(ord(c) + _KANA_SHIFT) if ord(c) in _HIRAGANA else c for c in term)
    hiragana = "".join(chr(ord(c) - _KANA_SHIFT) if ord(c) in _KATAKANA else c for c in term)
    return tuple(dict.fromkeys((term, katakana, hiragana)))


def parse_search(text: str) -> Search:
    """What the search box asks for: a reference, a phone number (only digits, at least
    MIN_PHONE_DIGITS of them) or up to MAX_TERMS name parts that must all match."""
    query = normalize(text)[:MAX_LENGTH]
    if not query:
        return NO_SEARCH
    if match := _REFERENCE.match(query.replace(" ", "")):
        return Search(SearchKind.REFERENCE, case_id=int(match.group(1)))
    digits = digits_of(query)
    if digits:
        # A short number is a reference typed without "SO-"; up to six digits may be either.
        case_id = int(digits) if len(digits) <= REFERENCE_DIGITS and int(digits) else None
        if len(digits) < MIN_PHONE_DIGITS:
            return Search(SearchKind.REFERENCE, case_id=case_id)
        return Search(SearchKind.PHONE, case_id=case_id, digits=digits)
    terms = tuple(kana_variants(term) for term in query.split(" ")[:MAX_TERMS])
    return Search(SearchKind.NAME, terms=terms)
