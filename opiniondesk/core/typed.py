"""Japanese input as people type it (SPEC §13): what is kept of what was typed. Pure.

People type ０９０－１２３４－５６７８, 〒１１３－８６５５, ０３（１２３４）５６７８ or
03ー1234ー5678 (the katakana long mark for a hyphen). Numbers, codes and addresses are stored
in one form: NFKC (full-width digits, letters and spaces made plain, half-width kana made
full-width), every dash an ASCII "-". Names and free text keep the characters typed: NFKC
would turn a patient's （） into () and ① into 1; they are only trimmed. `name_key` is for
comparing names, never for storing.

Every form field goes through one of these by its kind (opiniondesk.core.forms decides the kind).
"""

import re
import unicodedata
from enum import StrEnum


class Kind(StrEnum):
    TEXT = "text"  # names and free text: trimmed, line ends made "\n"
    CODE = "code"  # numbers, IDs, dates and amounts typed as text
    PHONE = "phone"
    POSTAL = "postal"
    ADDRESS = "address"
    EMAIL = "email"


# Dashes NFKC leaves as they are (it already makes － and ﹣ a "-"): hyphen, non-breaking hyphen,
# figure dash, en dash, em dash, horizontal bar, minus sign, hyphen bullet.
DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u2043"
_DASHES = re.compile(f"[{DASHES}]")
# The long-vowel mark (ー; half-width ｰ is ー after NFKC) reads as a hyphen only between digits
# (03ー1234): in words it is a vowel (センター), which an address may hold.
_LONG_MARK_IN_NUMBER = re.compile(r"(?<=[0-9])\s*ー\s*(?=[0-9])")
# In a code only ASCII surrounds it (SOー2026ー0001).
_LONG_MARK_IN_CODE = re.compile(r"(?<=[0-9A-Za-z])ー(?=[0-9A-Za-z])")
# A phone number written with any separators: 03 (1234) 5678, (03)1234-5678, 090 1234 5678.
_PHONE_SHAPE = re.compile(r"\+?[0-9()\-\s]+")
_POSTAL_MARK = "〒"


def text(value: str) -> str:
    """Names and free text as typed: line ends as "\\n" (a browser sends "\\r\\n", which would
    count twice against a limit), spaces of any width around removed."""
    return value.replace("\r\n", "\n").replace("\r", "\n").strip()


def _plain(value: str) -> str:
    return _DASHES.sub("-", unicodedata.normalize("NFKC", value)).strip()


def code(value: str) -> str:
    """A number or code typed in any width: ＳＯ－２０２６－０００１ → SO-2026-0001."""
    value = _LONG_MARK_IN_CODE.sub("-", _plain(value))
    return _LONG_MARK_IN_NUMBER.sub("-", value)


def phone(value: str) -> str:
    """A phone number with its groups joined by "-": ０３（１２３４）５６７８ → 03-1234-5678.
    Anything else is returned as a code, for the form to refuse."""
    value = code(value)
    if not _PHONE_SHAPE.fullmatch(value):
        return value
    groups = "-".join(re.findall(r"[0-9]+", value))
    return f"+{groups}" if value.startswith("+") else groups


def postal(value: str) -> str:
    """A postal code as 123-4567: 〒１１３－８６５５ and 1138655 alike."""
    value = re.sub(r"\s", "", code(value).removeprefix(_POSTAL_MARK))
    if re.fullmatch(r"[0-9]{7}", value):
        return f"{value[:3]}-{value[3:]}"
    return value


def address(value: str) -> str:
    """An address in one form: 本郷７ー３ー１ → 本郷7-3-1; the ー of センター stays."""
    return _LONG_MARK_IN_NUMBER.sub("-", _plain(text(value)))


def email(value: str) -> str:
    """An e-mail address typed in full width: ｈａｎａ＠ｅｘａｍｐｌｅ．ｊｐ → hana@example.jp."""
    return unicodedata.normalize("NFKC", value).strip()


NORMALISE = {
    Kind.TEXT: text,
    Kind.CODE: code,
    Kind.PHONE: phone,
    Kind.POSTAL: postal,
    Kind.ADDRESS: address,
    Kind.EMAIL: email,
}


def normalise(value: str, kind: Kind) -> str:
    """What a form keeps of a typed value of this kind."""
    return NORMALISE[kind](value)


def name_key(name: str) -> str:
    """A name for comparison only: one Unicode form, no spaces of any width (山田　花子 is
    山田花子)."""
    return "".join(unicodedata.normalize("NFKC", name).split())
