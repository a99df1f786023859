"""The consult fee (SPEC §8): billable minutes, tiers, tax in whole yen, tables by date."""

from datetime import date

import pytest

from opiniondesk.billing.fees import (
    CONSULT_LIMIT_MINUTES,
    FeeTable,
    FeeTier,
    NoFeeTable,
    Quote,
    billable_minutes,
    quote,
    quote_minutes,
    table_in_force,
    tax_within,
)

# SPEC §8: up to 30 minutes 44,000 JPY (40,000 + 4,000 tax); up to 60 minutes 88,000 JPY.
DEFAULT_TABLE = FeeTable(
    effective_from=date(2019, 10, 1),
    tiers=(
        FeeTier(up_to_minutes=30, price_excluding_tax=40_000, tax_rate_percent=10),
        FeeTier(up_to_minutes=60, price_excluding_tax=80_000, tax_rate_percent=10),
    ),
)
# A price change from 1 April 2026, and an older table under the 8 % rate.
TABLE_2026 = FeeTable(
    effective_from=date(2026, 4, 1),
    tiers=(
        FeeTier(up_to_minutes=30, price_excluding_tax=50_000, tax_rate_percent=10),
        FeeTier(up_to_minutes=60, price_excluding_tax=100_000, tax_rate_percent=10),
    ),
)
TABLE_2014 = FeeTable(
    effective_from=date(2014, 4, 1),
    tiers=(
        FeeTier(up_to_minutes=30, price_excluding_tax=12_345, tax_rate_percent=8),
        FeeTier(up_to_minutes=60, price_excluding_tax=24_691, tax_rate_percent=8),
    ),
)


def test_the_consult_limit_is_60_minutes() -> None:
    assert CONSULT_LIMIT_MINUTES == 60
    assert DEFAULT_TABLE.tiers[-1].up_to_minutes == CONSULT_LIMIT_MINUTES


@pytest.mark.parametrize(
    ("review_minutes", "call_seconds", "minutes"),
    [
        (0, 0, 0),
        (0, 59, 0),
        (0, 60, 1),
        (0, 119, 1),
        (0, 120, 2),
        (0, 29 * 60 + 59, 29),
        (0, 30 * 60, 30),
        (0, 59 * 60 + 59, 59),
        (0, 60 * 60, 60),
        (0, 61 * 60, 61),
        (5, 0, 5),
        (5, 59, 5),
        (10, 20 * 60 + 59, 30),
        (10, 21 * 60, 31),
        (60, 0, 60),
        (60, 59, 60),
        (45, 16 * 60 + 30, 61),
    ],
)
def test_billable_minutes_drop_the_seconds(
    review_minutes: int, call_seconds: int, minutes: int
) -> None:
    assert billable_minutes(review_minutes, call_seconds) == minutes


@pytest.mark.parametrize(("review_minutes", "call_seconds"), [(-1, 0), (0, -1), (-5, -60)])
def test_negative_times_are_refused(review_minutes: int, call_seconds: int) -> None:
    with pytest.raises(ValueError):
        billable_minutes(review_minutes, call_seconds)
    with pytest.raises(ValueError):
        quote(review_minutes=review_minutes, call_seconds=call_seconds, table=DEFAULT_TABLE)


# billable minutes → tier, amount with tax, tax, over the limit
DEFAULT_QUOTES = [
    (0, 0, 0, 0, False),
    (1, 1, 44_000, 4_000, False),
    (29, 1, 44_000, 4_000, False),
    (30, 1, 44_000, 4_000, False),
    (31, 2, 88_000, 8_000, False),
    (59, 2, 88_000, 8_000, False),
    (60, 2, 88_000, 8_000, False),
    (61, 2, 88_000, 8_000, True),
    (90, 2, 88_000, 8_000, True),
    (600, 2, 88_000, 8_000, True),
]


@pytest.mark.parametrize(("minutes", "tier", "amount", "tax", "over_limit"), DEFAULT_QUOTES)
def test_default_fee_table(
    minutes: int, tier: int, amount: int, tax: int, over_limit: bool
) -> None:
    result = quote(review_minutes=0, call_seconds=minutes * 60 + 59, table=DEFAULT_TABLE)

    assert result == Quote(
        billable_minutes=minutes,
        tier=tier,
        amount_jpy=amount,
        tax_jpy=tax,
        tax_rate_percent=10,
        over_limit=over_limit,
    )


@pytest.mark.parametrize(
    ("review_minutes", "call_seconds", "tier", "amount"),
    [
        (20, 10 * 60 + 59, 1, 44_000),  # 30 minutes: the seconds do not tip it over
        (20, 11 * 60, 2, 88_000),  # 31 minutes
        (30, 0, 1, 44_000),  # document review alone is billable
        (0, 59, 0, 0),  # under a minute of call is nothing
    ],
)
def test_review_and_call_add_up(
    review_minutes: int, call_seconds: int, tier: int, amount: int
) -> None:
    result = quote(review_minutes=review_minutes, call_seconds=call_seconds, table=DEFAULT_TABLE)

    assert (result.tier, result.amount_jpy) == (tier, amount)


@pytest.mark.parametrize(
    ("price", "rate", "tax", "amount"),
    [
        (40_000, 10, 4_000, 44_000),
        (80_000, 10, 8_000, 88_000),
        (40_000, 8, 3_200, 43_200),
        (12_345, 8, 987, 13_332),  # 987.6 → 987
        (24_691, 8, 1_975, 26_666),  # 1,975.28 → 1,975
        (12_345, 10, 1_234, 13_579),  # 1,234.5 → 1,234
        (99, 8, 7, 106),  # 7.92 → 7
        (9, 10, 0, 9),  # 0.9 → 0
        (40_000, 0, 0, 40_000),
    ],
)
def test_tax_is_rounded_down_to_the_yen(price: int, rate: int, tax: int, amount: int) -> None:
    tier = FeeTier(up_to_minutes=30, price_excluding_tax=price, tax_rate_percent=rate)

    assert (tier.tax, tier.amount) == (tax, amount)


@pytest.mark.parametrize(
    ("minutes", "expected"),
    [
        (0, Quote(0, 0, 0, 0, 8, False)),
        (30, Quote(30, 1, 13_332, 987, 8, False)),
        (31, Quote(31, 2, 26_666, 1_975, 8, False)),
        (61, Quote(61, 2, 26_666, 1_975, 8, True)),
    ],
)
def test_an_eight_percent_table(minutes: int, expected: Quote) -> None:
    assert quote(review_minutes=minutes, call_seconds=0, table=TABLE_2014) == expected


THREE_TIERS = FeeTable(
    effective_from=date(2026, 4, 1),
    tiers=(
        FeeTier(up_to_minutes=20, price_excluding_tax=30_000, tax_rate_percent=10),
        FeeTier(up_to_minutes=40, price_excluding_tax=60_000, tax_rate_percent=10),
        FeeTier(up_to_minutes=60, price_excluding_tax=90_000, tax_rate_percent=10),
    ),
)


@pytest.mark.parametrize(
    ("minutes", "tier", "amount", "over_limit"),
    [
        (1, 1, 33_000, False),
        (20, 1, 33_000, False),
        (21, 2, 66_000, False),
        (40, 2, 66_000, False),
        (41, 3, 99_000, False),
        (60, 3, 99_000, False),
        (61, 3, 99_000, True),
    ],
)
def test_tiers_are_numbered_from_one(
    minutes: int, tier: int, amount: int, over_limit: bool
) -> None:
    result = quote(review_minutes=minutes, call_seconds=0, table=THREE_TIERS)

    assert (result.tier, result.amount_jpy, result.over_limit) == (tier, amount, over_limit)


# The 8 % table of 2014, the 10 % table of 2019 and the 2026 price change, given out of order.
TABLES = [TABLE_2026, TABLE_2014, DEFAULT_TABLE]


@pytest.mark.parametrize(
    ("on", "expected"),
    [
        (date(2014, 4, 1), TABLE_2014),
        (date(2019, 9, 30), TABLE_2014),
        (date(2019, 10, 1), DEFAULT_TABLE),
        (date(2019, 10, 2), DEFAULT_TABLE),
        (date(2026, 3, 31), DEFAULT_TABLE),
        (date(2026, 4, 1), TABLE_2026),
        (date(2026, 4, 2), TABLE_2026),
        (date.max, TABLE_2026),
    ],
)
def test_table_in_force(on: date, expected: FeeTable) -> None:
    assert table_in_force(TABLES, on) == expected
    assert table_in_force(reversed(TABLES), on) == expected
    assert table_in_force(iter(TABLES), on) == expected


@pytest.mark.parametrize(
    ("tables", "on"),
    [
        ([TABLE_2026, TABLE_2014, DEFAULT_TABLE], date(2014, 3, 31)),
        ([TABLE_2026], date(2026, 3, 31)),
        ([TABLE_2026], date.min),
        ([], date(2026, 4, 1)),
    ],
)
def test_no_table_before_the_first(tables: list[FeeTable], on: date) -> None:
    with pytest.raises(NoFeeTable):
        table_in_force(tables, on)


def test_no_fee_table_is_a_lookup_error() -> None:
    assert issubclass(NoFeeTable, LookupError)


@pytest.mark.parametrize(
    ("on", "amount"),
    [(date(2026, 3, 31), 44_000), (date(2026, 4, 1), 55_000)],
)
def test_a_price_change_needs_no_code(on: date, amount: int) -> None:
    table = table_in_force(TABLES, on)

    assert quote(review_minutes=10, call_seconds=15 * 60, table=table).amount_jpy == amount


@pytest.mark.parametrize(
    "bounds",
    [
        pytest.param((), id="no-tiers"),
        pytest.param((60, 30), id="descending"),
        pytest.param((30, 30), id="duplicate"),
        pytest.param((30, 60, 45), id="unsorted"),
        pytest.param((0, 60), id="zero-bound"),
        pytest.param((-30, 60), id="negative-bound"),
    ],
)
def test_bad_tiers_are_refused(bounds: tuple[int, ...]) -> None:
    tiers = tuple(FeeTier(bound, 40_000, 10) for bound in bounds)

    with pytest.raises(ValueError):
        FeeTable(effective_from=date(2026, 4, 1), tiers=tiers)


@pytest.mark.parametrize("bounds", [(1,), (60,), (30, 60), (20, 40, 60), (1, 2, 3, 4)])
def test_good_tiers_are_accepted(bounds: tuple[int, ...]) -> None:
    tiers = tuple(FeeTier(bound, 40_000, 10) for bound in bounds)

    assert FeeTable(effective_from=date(2026, 4, 1), tiers=tiers).tiers == tiers


@pytest.mark.parametrize(("price", "rate"), [(-1, 10), (40_000, -1), (40_000, 101)])
def test_a_tier_with_a_negative_price_or_impossible_rate_is_refused(price: int, rate: int) -> None:
    with pytest.raises(ValueError, match="price"):
        FeeTier(30, price, rate)


@pytest.mark.parametrize(
    ("minutes", "tier", "amount", "over_limit"),
    [
        (0, 0, 0, False),
        (1, 1, 44_000, False),
        (30, 1, 44_000, False),
        (31, 2, 88_000, False),
        (60, 2, 88_000, False),
        (61, 2, 88_000, True),
        (600, 2, 88_000, True),
    ],
)
def test_a_charge_quotes_the_minutes_of_the_consult_record(minutes, tier, amount, over_limit):
    result = quote_minutes(minutes, DEFAULT_TABLE)
    assert (result.billable_minutes, result.tier, result.amount_jpy, result.over_limit) == (
        minutes,
        tier,
        amount,
        over_limit,
    )


def test_negative_minutes_are_refused():
    with pytest.raises(ValueError):
        quote_minutes(-1, DEFAULT_TABLE)


@pytest.mark.parametrize(
    ("amount", "rate", "tax"),
    [
        (44_000, 10, 4_000),
        (88_000, 10, 8_000),
        (22_000, 10, 2_000),  # half refunded
        (10_000, 10, 909),  # 909.09… rounded down
        (1, 10, 0),
        (0, 10, 0),
        (13_332, 8, 987),  # 987.55… rounded down
        (5_000, 0, 0),
    ],
)
def test_the_tax_within_a_tax_included_amount_is_rounded_down_once(amount, rate, tax):
    assert tax_within(amount, rate) == tax


@pytest.mark.parametrize(("amount", "rate"), [(-1, 10), (100, -1), (100, 101)])
def test_tax_within_refuses_what_cannot_be(amount, rate):
    with pytest.raises(ValueError):
        tax_within(amount, rate)
