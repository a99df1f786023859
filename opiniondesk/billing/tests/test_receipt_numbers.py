"""Receipt numbers (SPEC §11.17): sequential, without gaps, never reused, also when two fees are
settled at the same moment (PostgreSQL) or when the settling transaction is rolled back."""

import pytest
from django.db import IntegrityError, transaction

from opiniondesk.billing import services
from opiniondesk.billing.models import Receipt, ReceiptKind
from opiniondesk.core.tests.threads import run_at_once
from opiniondesk.testing.builders import completed_case


def _collect(case, actor, method="cash"):
    return services.collect(charge_id=case.charge.pk, actor=actor, method=method)


@pytest.mark.django_db
def test_numbers_follow_each_other_across_originals_and_corrections(billing_ito):
    cases = [completed_case(mode="in_person", call_minutes=minutes) for minutes in (10, 25, 40)]
    _collect(cases[0], billing_ito)
    _collect(cases[1], billing_ito, "terminal")
    services.refund(charge_id=cases[0].charge.pk, actor=billing_ito, amount=1_000, reason="返金")
    _collect(cases[2], billing_ito, "transfer")
    services.refund(charge_id=cases[0].charge.pk, actor=billing_ito, amount=2_000, reason="返金")
    receipts = list(Receipt.objects.order_by("number"))
    numbers = [receipt.number for receipt in receipts]
    first = numbers[0]
    assert numbers == list(range(first, first + 5))
    kinds = [(receipt.charge.case_id, receipt.kind) for receipt in receipts]
    assert kinds == [
        (cases[0].pk, ReceiptKind.ORIGINAL),
        (cases[1].pk, ReceiptKind.ORIGINAL),
        (cases[0].pk, ReceiptKind.CORRECTED),
        (cases[2].pk, ReceiptKind.ORIGINAL),
        (cases[0].pk, ReceiptKind.CORRECTED),
    ]
    # Each correction replaces the receipt in force before it, which keeps its own number.
    second_correction = receipts[4]
    assert second_correction.corrects == receipts[2]
    assert receipts[2].corrects == receipts[0]
    assert second_correction.amount == receipts[0].amount - 3_000


@pytest.mark.django_db
def test_a_rolled_back_settlement_leaves_no_gap(billing_ito):
    first, second = (completed_case(mode="in_person", call_minutes=25) for _ in range(2))
    _collect(first, billing_ito)
    issued = Receipt.objects.get().number
    with pytest.raises(RuntimeError), transaction.atomic():
        _collect(second, billing_ito)
        assert Receipt.objects.filter(number=issued + 1).exists()
        raise RuntimeError("the request failed after the receipt was issued")
    assert not Receipt.objects.filter(number=issued + 1).exists()
    _collect(second, billing_ito)
    assert Receipt.objects.get(charge__case=second).number == issued + 1


@pytest.mark.django_db
def test_a_number_is_never_given_twice(billing_ito):
    case = completed_case(mode="in_person", call_minutes=25)
    receipt = _collect(case, billing_ito).receipts.get()
    duplicate = Receipt.objects.filter(pk=receipt.pk).values().get()
    duplicate.pop("id")
    duplicate["kind"] = ReceiptKind.CORRECTED
    with pytest.raises(IntegrityError), transaction.atomic():
        Receipt.objects.create(**duplicate)


# Two billing clerks settle two fees at the same moment, each in its own connection.


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_concurrent_settlements_take_consecutive_numbers(seeded, billing_ito):
    cases = [completed_case(mode="in_person", call_minutes=25) for _ in range(4)]
    _collect(cases[0], billing_ito)  # the counter row exists before the race
    start = Receipt.objects.get().number
    outcomes = run_at_once(*[lambda c=c: _collect(c, billing_ito) for c in cases[1:]], timeout=30)
    assert [kind for kind, _ in outcomes] == ["ok"] * 3, outcomes
    numbers = sorted(Receipt.objects.values_list("number", flat=True))
    assert numbers == list(range(start, start + 4))


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_the_first_receipts_ever_race_for_the_counter(seeded, billing_ito):
    from opiniondesk.billing.models import ReceiptCounter

    ReceiptCounter.objects.all().delete()
    cases = [completed_case(mode="in_person", call_minutes=25) for _ in range(2)]
    outcomes = run_at_once(*[lambda c=c: _collect(c, billing_ito) for c in cases], timeout=30)
    assert [kind for kind, _ in outcomes] == ["ok", "ok"], outcomes
    assert sorted(Receipt.objects.values_list("number", flat=True)) == [1, 2]
