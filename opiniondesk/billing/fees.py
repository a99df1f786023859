"""The consult fee (SPEC §8). Pure: the fee tables come in as data, nothing is read here.

Billable time is the specialist's document-review minutes plus the call's whole minutes (the
call's leftover seconds are dropped). Prices are stored without tax; the tax is computed once on
the tier's price and rounded down to the yen, as a qualified invoice does per tax rate.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

CONSULT_LIMIT_MINUTES = 60  # 最長60分


@dataclass(frozen=True)
class FeeTier:
    up_to_minutes: int  # inclusive upper bound of billable minutes
    price_excluding_tax: int  # yen
    tax_rate_percent: int  # 10 for the standard consumption tax

    def __post_init__(self) -> None:
        if self.price_excluding_tax < 0 or not 0 <= self.tax_rate_percent <= 100:
            raise ValueError("a fee tier needs a price of 0 yen or more and a tax rate of 0–100 %")

    @property
    def tax(self) -> int:
        return self.price_excluding_tax * self.tax_rate_percent // 100

    @property
    def amount(self) -> int:
        return self.price_excluding_tax + self.tax


@dataclass(frozen=True)
class FeeTable:
    effective_from: date
    tiers: tuple[FeeTier, ...]  # ascending by up_to_minutes

    def __post_init__(self) -> None:
        bounds = [tier.up_to_minutes for tier in self.tiers]
        if not bounds or bounds != sorted(set(bounds)) or bounds[0] <= 0:
            raise ValueError("a fee table needs tiers with distinct, ascending positive bounds")


@dataclass(frozen=True)
class Quote:
    billable_minutes: int
    tier: int  # 1-based; 0 when nothing is billable
    amount_jpy: int  # tax included
    tax_jpy: int
    tax_rate_percent: int
    over_limit: bool  # longer than the top tier: charged as the top tier, flagged for review


class NoFeeTable(LookupError):
    """No fee table is in force on the date asked about."""


def billable_minutes(review_minutes: int, call_seconds: int) -> int:
    if review_minutes < 0 or call_seconds < 0:
        raise ValueError("review minutes and call seconds cannot be negative")
    return review_minutes + call_seconds // 60


def table_in_force(tables: Iterable[FeeTable], on: date) -> FeeTable:
    """The table with the latest effective date on or before `on`."""
    candidates = [table for table in tables if table.effective_from <= on]
    if not candidates:
        raise NoFeeTable(f"no fee table is in force on {on.isoformat()}")
    return max(candidates, key=lambda table: table.effective_from)


def quote(*, review_minutes: int, call_seconds: int, table: FeeTable) -> Quote:
    return quote_minutes(billable_minutes(review_minutes, call_seconds), table)


def quote_minutes(minutes: int, table: FeeTable) -> Quote:
    """The fee for this many billable minutes (a consult's record gives them in seconds: see
    `consults.clock.billable_minutes`)."""
    if minutes < 0:
        raise ValueError("billable minutes cannot be negative")
    tiers: Sequence[FeeTier] = table.tiers
    if minutes == 0:
        # Nothing billable: charging anything needs a staff decision.
        return Quote(minutes, 0, 0, 0, tiers[0].tax_rate_percent, over_limit=False)
    for number, tier in enumerate(tiers, start=1):
        if minutes <= tier.up_to_minutes:
            return Quote(minutes, number, tier.amount, tier.tax, tier.tax_rate_percent, False)
    top = tiers[-1]
    return Quote(minutes, len(tiers), top.amount, top.tax, top.tax_rate_percent, over_limit=True)


def tax_within(amount: int, rate_percent: int) -> int:
    """The consumption tax contained in a tax-included amount (a corrected receipt after a
    partial refund), rounded down once for the rate, as the qualified invoice rules allow."""
    if amount < 0 or not 0 <= rate_percent <= 100:
        raise ValueError("an amount of 0 yen or more and a tax rate of 0–100 %")
    return amount * rate_percent // (100 + rate_percent)
