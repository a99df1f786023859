"""The qualified-invoice registration number (登録番号): T + a corporate number (法人番号) whose
first digit checks the other twelve (財務省令第七十号 第二条)."""

import pytest
from django.core import checks

from opiniondesk.billing.checks import invoice_number_check
from opiniondesk.billing.invoice_number import (
    CHECK_DIGIT,
    EMPTY,
    LENGTH,
    NOT_DIGITS,
    PREFIX_MISSING,
    check_digit,
    normalise,
    registration_number_problem,
)

# Published corporate numbers and the ordinance's worked example, with their check digits.
PUBLISHED = [
    "7000012050002",  # 国税庁 (the National Tax Agency itself)
    "4011001098993",  # a company, as published on the NTA's corporate number site
    "2120901007402",  # a company, as published on the NTA's corporate number site
    "7123456789012",  # the worked example of the formula (74 mod 9 = 2, 9 − 2 = 7)
]


@pytest.mark.parametrize("number", PUBLISHED)
def test_published_numbers_check(number):
    assert check_digit(number[1:]) == int(number[0])
    assert registration_number_problem("T" + number) is None


@pytest.mark.parametrize(
    ("base", "digit"),
    [
        ("000000000000", 9),  # sum 0: 9, never 0
        ("000000000001", 8),  # n=1 (odd) weighs 1
        ("000000000010", 7),  # n=2 (even) weighs 2
        ("100000000000", 7),  # n=12, the highest digit of the base, weighs 2
        ("010000000000", 8),  # n=11 weighs 1
        ("000000000009", 9),  # 9 ≡ 0 (mod 9)
        ("999999999999", 9),  # 9 × 18 = 162 ≡ 0
        ("000012050002", 7),
        ("123456789012", 7),
        ("000000000045", 9 - (5 + 8) % 9),
    ],
)
def test_check_digit(base, digit):
    assert check_digit(base) == digit


@pytest.mark.parametrize("base", ["", "12345678901", "1234567890123", "12345678901a", "１２３"])
def test_check_digit_wants_twelve_ascii_digits(base):
    with pytest.raises(ValueError):
        check_digit(base)


def test_every_check_digit_is_one_to_nine():
    seen = {check_digit(f"{n:012d}") for n in range(0, 10**12, 10**12 // 997)}
    assert seen == set(range(1, 10))


def test_a_single_wrong_digit_is_caught_unless_it_swaps_0_and_9():
    # Mod 9 cannot tell 0 from 9 (at weight 1 or 2 the sum moves by 9 or 18); every other
    # single-digit slip anywhere in the 13 digits is caught.
    number = "7000012050002"
    for position in range(13):
        for digit in "0123456789":
            if digit == number[position]:
                continue
            slip = number[:position] + digit + number[position + 1 :]
            undetectable = {digit, number[position]} == {"0", "9"}
            problem = registration_number_problem("T" + slip)
            if position == 0 and digit == "0":
                assert problem == CHECK_DIGIT  # a check digit is never 0
            elif undetectable:
                assert problem is None, slip
            else:
                assert problem == CHECK_DIGIT, slip


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("T7000012050002", None),
        ("T9000000000000", None),  # the invented demo default
        ("Ｔ７０００００１２０５０００２", LENGTH),  # full-width, one digit too many
        ("Ｔ７００００１２０５０００２", None),  # full-width, normalised
        ("T700001205000２", None),  # one full-width digit
        (" t7000012050002\n", None),  # spaces around, lower-case t
        ("", EMPTY),
        ("   ", EMPTY),
        ("7000012050002", PREFIX_MISSING),  # the corporate number alone
        ("X7000012050002", PREFIX_MISSING),
        ("TT7000012050002", NOT_DIGITS),
        ("T", NOT_DIGITS),
        ("T700001205000", LENGTH),  # 12 digits
        ("T70000120500021", LENGTH),  # 14 digits
        ("T7000-012-050002", NOT_DIGITS),
        ("T 7000012050002", NOT_DIGITS),
        ("T٧000012050002", NOT_DIGITS),  # an Arabic-Indic 7 is a digit to Python, not to us
        ("T⁷000012050002", None),  # a superscript 7: NFKC makes it 7
        ("T0000000000000", CHECK_DIGIT),  # the old placeholder
        ("T7000012050003", CHECK_DIGIT),
        ("T1000012050002", CHECK_DIGIT),
    ],
)
def test_registration_number_problem(value, problem):
    assert registration_number_problem(value) == problem


@pytest.mark.parametrize(
    ("value", "normalised"),
    [
        ("Ｔ７００００１２０５０００２", "T7000012050002"),
        ("　T7000012050002　", "T7000012050002"),  # ideographic spaces
        ("t7000012050002", "T7000012050002"),
        ("T7000012050002", "T7000012050002"),
    ],
)
def test_normalise(value, normalised):
    assert normalise(value) == normalised


# The system check on the setting.


def _with_number(settings, value, *, debug=False, demo=False):
    settings.HOSPITAL = {**settings.HOSPITAL, "invoice_number": value}
    settings.DEBUG, settings.DEMO_MODE = debug, demo
    return invoice_number_check()


def test_a_valid_number_passes_the_check(settings):
    assert _with_number(settings, "T7000012050002") == []
    assert _with_number(settings, "Ｔ７００００１２０５０００２") == []


def test_the_default_setting_is_valid():
    from config import settings as config

    assert registration_number_problem(config.HOSPITAL["invoice_number"]) is None


def test_a_wrong_check_digit_is_an_error_in_production(settings):
    [message] = _with_number(settings, "T7000012050003")
    assert isinstance(message, checks.Error)
    assert message.id == "billing.E001"
    assert "check digit" in message.msg
    assert "T7000012050003" in message.msg


@pytest.mark.parametrize(("debug", "demo"), [(True, False), (False, True)])
def test_a_wrong_number_is_a_warning_while_developing_or_in_the_demo(settings, debug, demo):
    [message] = _with_number(settings, "T0000000000000", debug=debug, demo=demo)
    assert isinstance(message, checks.Warning)
    assert not isinstance(message, checks.Error)
    assert message.id == "billing.W001"


def test_the_check_is_registered():
    assert invoice_number_check in checks.registry.registry.get_checks()
