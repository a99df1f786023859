"""POST /api/v1/fees/quote (SPEC §8, §10): the default table, tiers, dates, malformed input."""

from datetime import UTC, date, datetime

import pytest
import time_machine

from opiniondesk.api.tests.conftest import FEE_QUOTE_URL
from opiniondesk.billing.models import FeeSchedule, FeeTier

pytestmark = pytest.mark.usefixtures("demo_catalog")

ON = "2026-11-25"


def quote(api, review_minutes, call_seconds, on=ON):
    body = {"review_minutes": review_minutes, "call_seconds": call_seconds}
    if on is not None:
        body["on"] = on
    response = api.quote(body)
    assert response.status_code == 200, response.content
    payload = response.json()
    assert set(payload) == {
        "billable_minutes",
        "tier",
        "amount_jpy",
        "tax_jpy",
        "tax_rate",
        "over_limit",
    }
    return payload


def refused(api, body):
    response = api.quote(body)
    assert response.status_code == 400, (body, response.content)
    return response.json()


def test_it_quotes_nothing_for_zero_minutes(api):
    assert quote(api, 0, 0) == {
        "billable_minutes": 0,
        "tier": 0,
        "amount_jpy": 0,
        "tax_jpy": 0,
        "tax_rate": 0.1,
        "over_limit": False,
    }


@pytest.mark.parametrize(
    ("review_minutes", "call_seconds", "minutes", "tier", "amount", "tax", "over_limit"),
    [
        (1, 0, 1, 1, 44_000, 4_000, False),
        (0, 60, 1, 1, 44_000, 4_000, False),
        (10, 20 * 60, 30, 1, 44_000, 4_000, False),
        (30, 0, 30, 1, 44_000, 4_000, False),
        (31, 0, 31, 2, 88_000, 8_000, False),
        (15, 16 * 60, 31, 2, 88_000, 8_000, False),
        (60, 0, 60, 2, 88_000, 8_000, False),
        (0, 3600, 60, 2, 88_000, 8_000, False),
        (61, 0, 61, 2, 88_000, 8_000, True),
        (30, 3600, 90, 2, 88_000, 8_000, True),
        (100_000, 10_000_000, 266_666, 2, 88_000, 8_000, True),
    ],
)
def test_it_quotes_the_default_tiers(
    api, review_minutes, call_seconds, minutes, tier, amount, tax, over_limit
):
    assert quote(api, review_minutes, call_seconds) == {
        "billable_minutes": minutes,
        "tier": tier,
        "amount_jpy": amount,
        "tax_jpy": tax,
        "tax_rate": 0.1,
        "over_limit": over_limit,
    }


@pytest.mark.parametrize(
    ("review_minutes", "call_seconds", "minutes"),
    [(0, 59, 0), (0, 1799, 29), (0, 1800, 30), (0, 1859, 30), (0, 1860, 31), (10, 1259, 30)],
)
def test_it_drops_the_leftover_seconds_of_the_call(api, review_minutes, call_seconds, minutes):
    assert quote(api, review_minutes, call_seconds)["billable_minutes"] == minutes


def test_it_charges_nothing_for_a_call_under_a_minute(api):
    payload = quote(api, 0, 59)
    assert (payload["tier"], payload["amount_jpy"]) == (0, 0)


def test_it_quotes_1799_seconds_in_the_first_tier(api):
    payload = quote(api, 0, 1799)
    assert (payload["tier"], payload["amount_jpy"], payload["tax_jpy"]) == (1, 44_000, 4_000)


@pytest.mark.parametrize("field", ["review_minutes", "call_seconds"])
def test_it_refuses_anything_but_a_whole_non_negative_number(api, field):
    for value in [-1, -(10**30), 10**30, 1.5, 1.0, 0.0, True, False, "30", "", None, [30], {}]:
        body = {"review_minutes": 10, "call_seconds": 600, "on": ON, field: value}
        assert set(refused(api, body)) == {field}


@pytest.mark.parametrize("field", ["review_minutes", "call_seconds"])
def test_it_requires_both_durations(api, field):
    body = {"review_minutes": 10, "call_seconds": 600}
    del body[field]
    assert set(refused(api, body)) == {field}


def test_it_names_every_field_at_fault_at_once(api):
    payload = refused(api, {"review_minutes": -1, "call_seconds": "x", "on": "2026-02-30"})
    assert set(payload) == {"review_minutes", "call_seconds", "on"}


def test_it_refuses_unknown_keys(api):
    payload = refused(api, {"review_minutes": 10, "call_seconds": 0, "review_seconds": 5})
    assert set(payload) == {"review_seconds"}


def test_it_refuses_a_body_that_is_not_an_object(api):
    for body in ["[]", '"x"', "1", "null", "{"]:
        assert set(refused(api, body)) in ({"non_field_errors"}, {"detail"})


def test_it_refuses_an_impossible_date(api):
    for on in ["2026-02-30", "20261125", "", 20261125, None, "1899-12-31", "2100-01-01"]:
        body = {"review_minutes": 10, "call_seconds": 0, "on": on}
        assert set(refused(api, body)) == {"on"}


def test_it_refuses_a_date_before_any_fee_table(api):
    # The demo table is in force from 2019-10-01 (10 % consumption tax).
    body = {"review_minutes": 10, "call_seconds": 0, "on": "2019-09-30"}
    assert set(refused(api, body)) == {"on"}
    assert quote(api, 10, 0, on="2019-10-01")["amount_jpy"] == 44_000


def test_it_refuses_any_date_when_no_fee_table_exists(api):
    FeeSchedule.objects.all().delete()
    assert set(refused(api, {"review_minutes": 10, "call_seconds": 0})) == {"on"}


def test_it_quotes_today_in_jst_by_default(api):
    new_table(date(2026, 11, 26), [(30, 50_000), (60, 100_000)])
    # 2026-11-25 15:30 UTC is 2026-11-26 in Tokyo: the new table is in force.
    with time_machine.travel(datetime(2026, 11, 25, 15, 30, tzinfo=UTC), tick=False):
        assert quote(api, 10, 0, on=None)["amount_jpy"] == 55_000
    with time_machine.travel(datetime(2026, 11, 25, 14, 59, tzinfo=UTC), tick=False):
        assert quote(api, 10, 0, on=None)["amount_jpy"] == 44_000


def new_table(effective_from, tiers, tax_rate_percent=10):
    schedule = FeeSchedule.objects.create(effective_from=effective_from)
    for up_to, price in tiers:
        FeeTier.objects.create(
            schedule=schedule,
            up_to_minutes=up_to,
            price_excluding_tax=price,
            tax_rate_percent=tax_rate_percent,
        )


def test_it_uses_a_later_fee_table_from_its_date_on(api):
    # A price change is data, not code (SPEC §8).
    new_table(date(2027, 4, 1), [(20, 30_000), (40, 60_000), (60, 90_000)])
    assert quote(api, 25, 0, on="2027-03-31") == {
        "billable_minutes": 25,
        "tier": 1,
        "amount_jpy": 44_000,
        "tax_jpy": 4_000,
        "tax_rate": 0.1,
        "over_limit": False,
    }
    assert quote(api, 25, 0, on="2027-04-01") == {
        "billable_minutes": 25,
        "tier": 2,
        "amount_jpy": 66_000,
        "tax_jpy": 6_000,
        "tax_rate": 0.1,
        "over_limit": False,
    }
    assert quote(api, 61, 0, on="2030-01-01")["tier"] == 3
    assert quote(api, 61, 0, on="2030-01-01")["over_limit"] is True


def test_it_follows_a_tax_rate_change(api):
    new_table(date(2028, 1, 1), [(30, 40_000), (60, 80_000)], tax_rate_percent=8)
    payload = quote(api, 30, 0, on="2028-01-01")
    assert (payload["amount_jpy"], payload["tax_jpy"], payload["tax_rate"]) == (43_200, 3_200, 0.08)
    assert quote(api, 0, 0, on="2028-01-01")["tax_rate"] == 0.08


def test_it_only_takes_post(api):
    assert api.get(FEE_QUOTE_URL).status_code == 405


def test_an_unknown_field_named_detail_is_not_taken_for_the_general_error(api):
    # {"detail": "..."} is the general error (a body that is not JSON): an unknown field of that
    # name is named under non_field_errors (Hypothesis found {"detail": null} answered as such).
    assert refused(api, {"detail": None}) == {"non_field_errors": ["detail: 不明な項目です。"]}
    assert refused(api, {"detail": 1, "extra": 2}) == {
        "extra": ["不明な項目です。"],
        "non_field_errors": ["detail: 不明な項目です。"],
    }
