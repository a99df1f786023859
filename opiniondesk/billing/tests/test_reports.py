"""The billing desk's reads: charges by state and JST day, the queue's order, and the totals per
day, month and department summed by the database."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from opiniondesk.billing import reports, services
from opiniondesk.billing.models import Charge, ChargeState
from opiniondesk.cases.models import Case
from opiniondesk.catalog.models import Department
from opiniondesk.testing.builders import completed_case, completed_case_without_charge

pytestmark = pytest.mark.django_db
DEC = reports.Period(date(2026, 12, 1), date(2026, 12, 31))


def _settled(case, at_utc, *, department=None, refund=0, actor=None, method="cash"):
    """The case's fee collected at the desk, then its dates written back to `at_utc`."""
    services.collect(charge_id=case.charge.pk, actor=actor, method=method)
    if refund:
        services.refund(charge_id=case.charge.pk, actor=actor, amount=refund, reason="返金")
    Charge.objects.filter(pk=case.charge.pk).update(created_at=at_utc, settled_at=at_utc)
    if department:
        Case.objects.filter(pk=case.pk).update(department=Department.objects.get(code=department))
    return Charge.objects.get(pk=case.charge.pk)


@pytest.fixture
def ledger(billing_ito):
    """Four fees received: two on 2 Dec (JST; one of them 23:30 UTC on 1 Dec), one in
    neurology on 15 Dec with ¥1,000 refunded, one on 31 Jan in cardiology; and one fee still
    to pay at the desk, made in December."""
    neurology = Department.objects.exclude(code="cardiology").first()
    charges = [
        _settled(completed_case(), datetime(2026, 12, 1, 23, 30, tzinfo=UTC), actor=billing_ito),
        _settled(completed_case(), datetime(2026, 12, 2, 3, 0, tzinfo=UTC), actor=billing_ito),
        _settled(
            completed_case(call_minutes=45),
            datetime(2026, 12, 15, 1, 0, tzinfo=UTC),
            department=neurology.code,
            refund=1000,
            actor=billing_ito,
        ),
        _settled(completed_case(), datetime(2027, 1, 31, 5, 0, tzinfo=UTC), actor=billing_ito),
    ]
    open_one = completed_case()
    Charge.objects.filter(case=open_one).update(created_at=datetime(2026, 12, 3, tzinfo=UTC))
    return charges, neurology


def test_totals_per_day_are_jst_days(ledger):
    (first, second, third, _), _neurology = ledger
    rows = reports.totals_by_day(DEC)
    assert [(row["day"], row["count"]) for row in rows] == [
        (date(2026, 12, 2), 2),
        (date(2026, 12, 15), 1),
    ]
    assert rows[0]["amount"] == first.amount + second.amount
    assert rows[0]["tax"] == first.tax + second.tax
    assert rows[1]["refunded"] == 1000
    assert rows[1]["net"] == third.amount - 1000


def test_totals_per_month_and_for_the_period(ledger):
    (first, second, third, fourth), _ = ledger
    period = reports.Period(date(2026, 12, 1), date(2027, 1, 31))
    rows = reports.totals_by_month(period)
    assert [(row["month"], row["count"]) for row in rows] == [
        (date(2026, 12, 1), 3),
        (date(2027, 1, 1), 1),
    ]
    assert rows[1]["amount"] == fourth.amount
    total = reports.totals(period)
    assert total["count"] == 4
    assert total["amount"] == sum(c.amount for c in (first, second, third, fourth))
    assert total["net"] == total["amount"] - 1000
    assert reports.totals(reports.Period(date(2026, 11, 1), date(2026, 11, 30))) == {
        "count": 0,
        "amount": 0,
        "tax": 0,
        "refunded": 0,
        "net": 0,
    }


def test_totals_per_department(ledger):
    (first, second, third, _), neurology = ledger
    rows = {row["code"]: row for row in reports.totals_by_department(DEC)}
    assert rows["cardiology"]["count"] == 2
    assert rows["cardiology"]["amount"] == first.amount + second.amount
    assert rows[neurology.code]["name"] == neurology.name
    assert rows[neurology.code]["net"] == third.amount - 1000


def test_totals_are_one_query_each(ledger):
    with CaptureQueriesContext(connection) as queries:
        reports.totals_by_day(DEC)
        reports.totals_by_month(DEC)
        reports.totals_by_department(DEC)
        reports.totals(DEC)
    assert len(queries) == 4


def test_charges_by_state_and_by_day(ledger):
    assert reports.charges(states=[ChargeState.AT_DESK], period=DEC).count() == 1
    assert reports.charges(period=DEC).count() == 4
    assert reports.charges(period=DEC, basis="settled").count() == 3
    assert reports.charges(period=reports.Period(date(2026, 12, 2), date(2026, 12, 2))).count() == 2
    assert reports.counts_by_state(DEC) == {
        ChargeState.COLLECTED: {"count": 3, "amount": sum(c.amount for c in ledger[0][:3])},
        ChargeState.AT_DESK: {"count": 1, "amount": Charge.objects.get(state="at_desk").amount},
    }


@pytest.mark.parametrize(
    ("day", "first", "last", "whole"),
    [
        (date(2026, 12, 17), date(2026, 12, 1), date(2026, 12, 31), True),
        (date(2027, 2, 1), date(2027, 2, 1), date(2027, 2, 28), True),
        (date(2028, 2, 29), date(2028, 2, 1), date(2028, 2, 29), True),
    ],
)
def test_a_month_period(day, first, last, whole):
    period = reports.Period.month_of(day)
    assert (period.first, period.last, period.whole_month) == (first, last, whole)
    assert not reports.Period(first, last - timedelta(days=1)).whole_month


def test_the_queue_puts_charges_needing_action_first(billing_ito):
    done = completed_case()
    services.collect(charge_id=done.charge.pk, actor=billing_ito, method="cash")
    at_desk = completed_case()
    zero = completed_case(call_minutes=0)
    long = completed_case(call_minutes=70)
    waived = completed_case()
    services.waive(charge_id=waived.charge.pk, actor=billing_ito, reason="病院都合")
    rows = list(reports.queue(now=timezone.now()))
    acting = [row.case_id for row in rows if row.needs_action]
    assert set(acting) == {at_desk.pk, zero.pk, long.pk}
    assert [row.needs_action for row in rows] == [True] * 3 + [False] * 2
    assert {row.case_id for row in reports.queue(now=timezone.now(), state="action")} == set(acting)
    only_zero = reports.queue(now=timezone.now(), state=ChargeState.NEEDS_DECISION)
    assert [row.case_id for row in only_zero] == [zero.pk]
    assert Charge.objects.get(case=long).over_limit


def test_a_card_charge_without_answer_for_a_while_is_stale(billing_ito):
    case = completed_case()
    Charge.objects.filter(case=case).update(
        state=ChargeState.PENDING, created_at=timezone.now() - timedelta(minutes=30)
    )
    row = reports.queue(now=timezone.now()).get(case=case)
    assert row.stale and row.needs_action
    fresh = reports.queue(now=timezone.now() - timedelta(minutes=25)).get(case=case)
    assert not fresh.stale


def test_completed_consults_without_a_charge_are_listed(billing_ito):
    completed_case()
    assert list(reports.missing_charges()) == []
    case = completed_case_without_charge()
    assert list(reports.missing_charges()) == [case]


@pytest.mark.postgresql
def test_totals_on_postgresql_use_jst_days(ledger):
    test_totals_per_day_are_jst_days(ledger)
    test_totals_per_month_and_for_the_period(ledger)
    test_totals_per_department(ledger)
