"""The qualified-invoice registration number (適格請求書発行事業者の登録番号, SPEC §11.17).
Pure: no database, settings or clock.

A corporation's number is "T" followed by its 13-digit corporate number (法人番号), whose first
digit is a check digit over the other twelve (the base number, 基礎番号). The formula is the
Ministry of Finance ordinance on corporate numbers (平成二十六年財務省令第七十号, 第二条):

    check = 9 − ((Σ_{n=1..12} P_n × Q_n) mod 9)

P_n is the n-th digit of the base number counted from its lowest (rightmost) digit, Q_n is 1 for
odd n and 2 for even n. The check digit is therefore 1–9, never 0. The National Tax Agency's own
corporate number 7000012050002 checks: 2×1 + 5×1 + 2×1 + 1×2 = 11, 11 mod 9 = 2, 9 − 2 = 7.

Problems are reason codes (see `PROBLEMS`); the caller words them.
"""

from opiniondesk.core import typed

PREFIX = "T"
DIGITS = 13

EMPTY = "empty"
PREFIX_MISSING = "prefix"
LENGTH = "length"
NOT_DIGITS = "digits"
CHECK_DIGIT = "check_digit"
PROBLEMS = {
    EMPTY: "no registration number is set",
    PREFIX_MISSING: 'it does not start with "T"',
    LENGTH: 'it is not "T" followed by 13 digits',
    NOT_DIGITS: 'it is not "T" followed by 13 digits',
    CHECK_DIGIT: "its first digit is not the check digit of the corporate number",
}


def normalise(value: str) -> str:
    """Full-width letters and digits (Ｔ１２３…) to ASCII by NFKC, spaces around removed, the
    prefix upper-cased."""
    value = typed.code(value)
    if value[:1] == "t":
        value = PREFIX + value[1:]
    return value


def check_digit(base: str) -> int:
    """The check digit of a 12-digit base number (基礎番号)."""
    if len(base) != DIGITS - 1 or not _ascii_digits(base):
        raise ValueError("a base number is 12 digits")
    total = sum(int(digit) * (1 if n % 2 else 2) for n, digit in enumerate(reversed(base), start=1))
    return 9 - total % 9


def registration_number_problem(value: str) -> str | None:
    """None for a valid registration number (after `normalise`), else the problem's code."""
    value = normalise(value)
    if not value:
        return EMPTY
    if not value.startswith(PREFIX):
        return PREFIX_MISSING
    number = value[len(PREFIX) :]
    if not _ascii_digits(number):
        return NOT_DIGITS
    if len(number) != DIGITS:
        return LENGTH
    if int(number[0]) != check_digit(number[1:]):
        return CHECK_DIGIT
    return None


def _ascii_digits(text: str) -> bool:
    # str.isdigit() also accepts other scripts' digits and superscripts; only 0-9 count here.
    return bool(text) and all("0" <= char <= "9" for char in text)
