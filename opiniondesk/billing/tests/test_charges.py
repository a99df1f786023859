"""The fee of a completed consult (SPEC §4, §8): opened once by the consult's end, charged to the
card exactly once however often it is sent, settled by billing staff otherwise; the case becomes
`charged` when the fee is settled; refunds give a corrected receipt."""

import pytest
from django.tasks import default_task_backend  # noqa: F401  (the database backend is in use)
from django.utils import translation
from django_tasks_db.models import DBTaskResult

from opiniondesk.audit.models import AuditEvent
from opiniondesk.billing import providers, services
from opiniondesk.billing.errors import BillingError
from opiniondesk.billing.models import (
    AttemptState,
    CardOnFile,
    Charge,
    ChargeState,
    FeeTier,
    Receipt,
    ReceiptKind,
    RefundState,
)
from opiniondesk.billing.providers.base import PaymentStatus
from opiniondesk.cases.models import Case
from opiniondesk.cases.workflow import Status
from opiniondesk.testing.builders import completed_case


@pytest.fixture
def company(card_company):
    return card_company


def charge_of(case: Case) -> Charge:
    return Charge.objects.get(case=case)


def refused(call, code):
    with pytest.raises(BillingError) as caught:
        call()
    assert caught.value.code == code, caught.value.code
    return caught.value


def snapshot(charge: Charge):
    charge = Charge.objects.get(pk=charge.pk)
    return (
        charge.state,
        charge.amount,
        charge.refunded,
        Case.objects.get(pk=charge.case_id).status,
        Receipt.objects.count(),
        charge.attempts.count(),
    )


# Opening the charge.


@pytest.mark.parametrize(
    ("mode", "minutes", "review", "card", "state", "tier", "amount", "over"),
    [
        ("in_person", 25, 0, False, ChargeState.AT_DESK, 1, 44_000, False),
        ("in_person", 0, 0, False, ChargeState.NEEDS_DECISION, 0, 0, False),
        ("online", 20, 10, False, ChargeState.AT_DESK, 1, 44_000, False),
        ("online", 20, 11, False, ChargeState.AT_DESK, 2, 88_000, False),
        ("online", 25, 0, True, ChargeState.PENDING, 1, 44_000, False),
        ("online", 0, 0, True, ChargeState.NEEDS_DECISION, 0, 0, False),
        ("online", 58, 3, True, ChargeState.PENDING, 2, 88_000, True),
    ],
)
def test_the_consult_s_end_opens_one_charge_from_its_record(
    seeded,
    request,
    django_capture_on_commit_callbacks,
    mode,
    minutes,
    review,
    card,
    state,
    tier,
    amount,
    over,
):
    if card:  # a card provider is configured (without one, no card is registered)
        request.getfixturevalue("company")
    with django_capture_on_commit_callbacks(execute=True):
        case = completed_case(mode=mode, call_minutes=minutes, review_minutes=review, card=card)
    charge = charge_of(case)
    assert (charge.state, charge.tier, charge.amount, charge.over_limit) == (
        state,
        tier,
        amount,
        over,
    )
    assert charge.billable_minutes == minutes + review
    assert charge.tax == amount // 11
    assert charge.schedule.effective_from.isoformat() <= case.status_changed_at.date().isoformat()
    assert AuditEvent.objects.filter(case_id=case.pk, object_type__icontains="charge").exists()
    sends = DBTaskResult.objects.filter(task_path__endswith="send_charge")
    assert sends.count() == (1 if state == ChargeState.PENDING else 0)


def test_in_person_patients_pay_at_the_desk_even_with_a_card(seeded, company):
    case = completed_case(mode="in_person", card=True)
    assert charge_of(case).state == ChargeState.AT_DESK


def test_without_a_card_provider_a_card_on_file_is_not_charged(seeded):
    case = completed_case(mode="online", card=True)
    assert charge_of(case).state == ChargeState.AT_DESK


def test_opening_again_returns_the_same_charge(seeded):
    case = completed_case()
    first = charge_of(case)
    again = services.charge_open(
        case=case,
        consult_id=first.consult_id,
        review_seconds=0,
        call_seconds=3000,
        ended_at=first.created_at,
        actor=None,
    )
    assert again == first and Charge.objects.count() == 1 and again.amount == 44_000


def test_a_later_price_change_never_changes_a_charge(seeded, billing_ito):
    charge = charge_of(completed_case())
    FeeTier.objects.filter(schedule=charge.schedule, up_to_minutes=30).update(
        price_excluding_tax=99_000
    )
    services.collect(charge_id=charge.pk, actor=billing_ito, method="cash")
    charge.refresh_from_db()
    assert (charge.amount, charge.tax) == (44_000, 4_000)
    assert Receipt.objects.get(charge=charge).amount == 44_000


def test_without_a_fee_table_the_consult_still_ends_and_billing_opens_it_later(seeded, billing_ito):
    from opiniondesk.billing.models import FeeSchedule

    saved = list(FeeSchedule.objects.prefetch_related("tiers"))
    tiers = [(s.effective_from, list(s.tiers.values())) for s in saved]
    FeeTier.objects.all().delete()
    case = completed_case()
    assert case.status == Status.COMPLETED and not Charge.objects.filter(case=case).exists()
    refused(
        lambda: services.charge_open_missing(case_id=case.pk, actor=billing_ito), "no_fee_table"
    )
    for schedule, (_, rows) in zip(saved, tiers, strict=True):
        for row in rows:
            FeeTier.objects.create(**{k: v for k, v in row.items() if k != "id"})
        del schedule
    charge = services.charge_open_missing(case_id=case.pk, actor=billing_ito)
    assert (charge.state, charge.amount) == (ChargeState.AT_DESK, 44_000)
    refused(lambda: services.charge_open_missing(case_id=case.pk, actor=billing_ito), "exists")


# Settled at the hospital, waived, decided.


def test_collected_at_the_desk_the_case_is_charged_with_a_receipt(seeded, billing_ito):
    case = completed_case()
    charge = services.collect(charge_id=charge_of(case).pk, actor=billing_ito, method="terminal")
    assert charge.state == ChargeState.COLLECTED and charge.settled_by == billing_ito
    case.refresh_from_db()
    assert case.status == Status.CHARGED
    move = case.transitions.last()
    assert (move.from_status, move.to_status, move.actor) == ("completed", "charged", billing_ito)
    receipt = Receipt.objects.get(charge=charge)
    assert (receipt.kind, receipt.amount, receipt.tax, receipt.tax_rate_percent) == (
        ReceiptKind.ORIGINAL,
        44_000,
        4_000,
        10,
    )
    assert receipt.method == "クレジットカード（院内端末）"
    assert receipt.description == "セカンドオピニオン（自費診療）"
    assert receipt.payer_name == case.patient_name and receipt.registration_number.startswith("T")


@pytest.mark.parametrize(
    "call",
    [
        lambda c, u: services.collect(charge_id=c, actor=u, method="cheque"),
        lambda c, u: services.waive(charge_id=c, actor=u, reason="   "),
        lambda c, u: services.to_desk(charge_id=c, actor=u, reason=""),
        lambda c, u: services.bill_zero_minutes(charge_id=c, actor=u, reason="x"),
        lambda c, u: services.refund(charge_id=c, actor=u, amount=1000, reason="x"),
        lambda c, u: services.waive(charge_id=c, actor=u, reason="x" * 1001),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(seeded, billing_ito, call):
    charge = charge_of(completed_case())
    before = snapshot(charge)
    with pytest.raises(BillingError) as caught:
        call(charge.pk, billing_ito)
    with translation.override("ja"):
        assert str(caught.value.message)
    assert snapshot(charge) == before


@pytest.mark.parametrize("who", ["coordinator_sato", "dr_tanaka", "patient_hana"])
def test_only_billing_staff_settle_a_fee(seeded, personas, who):
    charge = charge_of(completed_case())
    before = snapshot(charge)
    refused(
        lambda: services.collect(charge_id=charge.pk, actor=personas[who], method="cash"),
        "not_allowed",
    )
    refused(
        lambda: services.waive(charge_id=charge.pk, actor=personas[who], reason="r"),
        "not_allowed",
    )
    assert snapshot(charge) == before


def test_a_waiver_needs_a_reason_and_settles_without_a_receipt(seeded, billing_ito):
    case = completed_case()
    charge = services.waive(
        charge_id=charge_of(case).pk, actor=billing_ito, reason="病院側の通信障害で中断"
    )
    assert (charge.state, charge.decision_reason) == (ChargeState.WAIVED, "病院側の通信障害で中断")
    case.refresh_from_db()
    assert case.status == Status.CHARGED
    assert case.transitions.last().reason == "病院側の通信障害で中断"
    assert not Receipt.objects.exists()
    refused(
        lambda: services.collect(charge_id=charge.pk, actor=billing_ito, method="cash"), "state"
    )


def test_zero_minutes_charge_nothing_without_a_decision(seeded, billing_ito):
    case = completed_case(call_minutes=0)
    charge = charge_of(case)
    assert (charge.state, charge.amount) == (ChargeState.NEEDS_DECISION, 0)
    refused(
        lambda: services.collect(charge_id=charge.pk, actor=billing_ito, method="cash"), "state"
    )
    charge = services.bill_zero_minutes(
        charge_id=charge.pk, actor=billing_ito, reason="説明は実施済み"
    )
    assert (charge.state, charge.tier, charge.amount, charge.tax) == (
        ChargeState.AT_DESK,
        1,
        44_000,
        4_000,
    )
    assert Case.objects.get(pk=case.pk).status == Status.COMPLETED


def test_zero_minutes_waived_by_decision(seeded, billing_ito):
    case = completed_case(call_minutes=0)
    services.waive(charge_id=charge_of(case).pk, actor=billing_ito, reason="接続できず")
    assert Case.objects.get(pk=case.pk).status == Status.CHARGED


# Refunds and corrected receipts.


def test_a_partial_then_full_refund_gives_corrected_receipts(seeded, billing_ito):
    charge = charge_of(completed_case(call_minutes=40))
    services.collect(charge_id=charge.pk, actor=billing_ito, method="cash")
    first = Receipt.objects.get()
    part = services.refund(charge_id=charge.pk, actor=billing_ito, amount=44_000, reason="30分以内")
    assert part.state == RefundState.DONE
    corrected = Receipt.objects.get(corrects=first)
    assert (corrected.kind, corrected.amount, corrected.tax, corrected.number) == (
        ReceiptKind.CORRECTED,
        44_000,
        4_000,
        first.number + 1,
    )
    refused(
        lambda: services.refund(charge_id=charge.pk, actor=billing_ito, amount=44_001, reason="r"),
        "amount",
    )
    services.refund(charge_id=charge.pk, actor=billing_ito, amount=44_000, reason="全額返金")
    last = Receipt.objects.get(corrects=corrected)
    assert (last.amount, last.tax, last.number) == (0, 0, first.number + 2)
    charge.refresh_from_db()
    assert charge.refunded == 88_000
    assert [r.number for r in Receipt.objects.order_by("number")] == [
        first.number,
        first.number + 1,
        first.number + 2,
    ]
    refused(
        lambda: services.refund(charge_id=charge.pk, actor=billing_ito, amount=1, reason="r"),
        "amount",
    )


def test_receipt_numbers_run_on_across_charges_and_downloads_mark_reissues(
    seeded, billing_ito, patient_hana
):
    numbers = []
    for _ in range(3):
        charge = charge_of(completed_case())
        services.collect(charge_id=charge.pk, actor=billing_ito, method="cash")
        numbers.append(Receipt.objects.get(charge=charge).number)
    assert numbers == [numbers[0], numbers[0] + 1, numbers[0] + 2]
    receipt = Receipt.objects.get(number=numbers[0])
    assert services.receipt_downloaded(receipt_id=receipt.pk, user=patient_hana)[1] is False
    assert services.receipt_downloaded(receipt_id=receipt.pk, user=patient_hana)[1] is True
    assert AuditEvent.objects.filter(action="download", object_id=str(receipt.pk)).count() == 2


# The card.


def test_the_card_is_charged_once_and_the_case_is_charged(seeded, company):
    case = completed_case(mode="online", card=True)
    charge = charge_of(case)
    assert services.charge_send(charge.pk) == ChargeState.PAID
    assert services.charge_send(charge.pk) == ChargeState.PAID  # the task ran twice
    assert len(company.payments) == 1 and len(company.sent_keys) == 1
    case.refresh_from_db()
    assert case.status == Status.CHARGED
    assert case.transitions.last().actor is None  # the system
    receipt = Receipt.objects.get(charge=charge)
    assert receipt.method == "クレジットカード（VISA ****4242）"
    [attempt] = charge.attempts.all()
    assert (attempt.state, attempt.reference) == (AttemptState.SUCCEEDED, "pi_1")


def test_a_task_killed_after_the_provider_charged_is_sent_again_with_its_key(
    seeded, company, monkeypatch
):
    case = completed_case(mode="online", card=True)
    charge = charge_of(case)
    real_update = services.payment_update

    def killed(**kwargs):
        raise SystemExit("the worker was killed before it recorded the answer")

    monkeypatch.setattr(services, "payment_update", killed)
    with pytest.raises(SystemExit):
        services.charge_send(charge.pk)
    assert Charge.objects.get(pk=charge.pk).state == ChargeState.PROCESSING
    monkeypatch.setattr(services, "payment_update", real_update)

    assert services.charge_send(charge.pk) == ChargeState.PAID
    assert company.sent_keys[0] == company.sent_keys[1]
    assert len(company.succeeded_payments()) == 1
    assert Receipt.objects.filter(charge=charge).count() == 1
    assert Case.objects.get(pk=case.pk).status == Status.CHARGED
    assert charge.attempts.get().sends == 2


def test_a_declined_card_goes_to_billing_and_the_patient_is_told(
    seeded, company, billing_ito, django_capture_on_commit_callbacks, smtp_inbox, run_tasks
):
    company.answer, company.message = PaymentStatus.FAILED, "Your card has insufficient funds."
    case = completed_case(mode="online", card=True)
    charge = charge_of(case)
    with django_capture_on_commit_callbacks(execute=True):
        state = services.charge_send(charge.pk)
    assert state == ChargeState.FAILED
    charge.refresh_from_db()
    assert charge.failure_message == "Your card has insufficient funds."
    assert Case.objects.get(pk=case.pk).status == Status.COMPLETED
    run_tasks()  # also sends the mails of the case's earlier steps, queued with their changes
    bodies = [m.get_body(preferencelist=("plain",)).get_content() for m in smtp_inbox.messages]
    [body] = [b for b in bodies if "insufficient funds" in b]
    assert f"/cases/{case.pk}/" in body

    # Staff retry: a new try with a new key (the same key would only repeat the decline).
    company.answer = PaymentStatus.SUCCEEDED
    services.charge_retry(charge_id=charge.pk, actor=billing_ito)
    assert services.charge_send(charge.pk) == ChargeState.PAID
    assert len(set(company.sent_keys)) == 2
    assert Case.objects.get(pk=case.pk).status == Status.CHARGED


def test_a_new_card_after_a_decline_is_charged_again(seeded, company, patient_hana):
    company.answer = PaymentStatus.FAILED
    case = completed_case(mode="online", card=True)
    charge = charge_of(case)
    services.charge_send(charge.pk)
    company.answer = PaymentStatus.SUCCEEDED
    card = services.card_save(case_id=case.pk, setup_ref="seti_new", user=patient_hana)
    assert CardOnFile.objects.get(case=case, removed_at__isnull=True) == card
    charge.refresh_from_db()
    assert (charge.state, charge.card) == (ChargeState.PENDING, card)
    assert services.charge_send(charge.pk) == ChargeState.PAID


def test_a_decline_can_be_collected_at_the_hospital(seeded, company, billing_ito):
    company.answer = PaymentStatus.FAILED
    case = completed_case(mode="online", card=True)
    charge = charge_of(case)
    services.charge_send(charge.pk)
    services.to_desk(charge_id=charge.pk, actor=billing_ito, reason="窓口で支払うとの電話")
    assert Charge.objects.get(pk=charge.pk).state == ChargeState.AT_DESK
    services.collect(charge_id=charge.pk, actor=billing_ito, method="cash")
    assert Case.objects.get(pk=case.pk).status == Status.CHARGED
    assert Receipt.objects.get(charge=charge).method == "現金"


def test_a_charge_waiting_for_3d_secure_is_cancelled_before_it_is_settled_otherwise(
    seeded, company, billing_ito
):
    company.answer = PaymentStatus.REQUIRES_ACTION
    case = completed_case(mode="online", card=True)
    charge = charge_of(case)
    assert services.charge_send(charge.pk) == ChargeState.REQUIRES_ACTION
    # The patient confirms later: the answer is recorded once the provider has it.
    services.collect(charge_id=charge.pk, actor=billing_ito, method="transfer")
    assert company.cancelled == ["pi_1"]
    assert charge.attempts.get().state == AttemptState.FAILED


def test_the_provider_unreachable_keeps_the_try_open_and_resends_it(seeded, company, billing_ito):
    company.unavailable = True
    case = completed_case(mode="online", card=True)
    charge = charge_of(case)
    assert services.charge_send(charge.pk) == ChargeState.PROCESSING
    resend = DBTaskResult.objects.filter(task_path__endswith="send_charge").order_by("-pk")[0]
    assert resend.run_after is not None
    # Staff cannot settle it otherwise while the card company may still charge it...
    refused(lambda: services.waive(charge_id=charge.pk, actor=billing_ito, reason="r"), "state")
    # ...they send it again: same key.
    company.unavailable = False
    services.charge_retry(charge_id=charge.pk, actor=billing_ito)
    assert services.charge_send(charge.pk) == ChargeState.PAID
    assert len(set(company.sent_keys)) == 1 and len(company.sent_keys) == 2


def test_a_card_refund_goes_through_the_provider_with_one_key(seeded, company, billing_ito):
    charge = charge_of(completed_case(mode="online", card=True))
    services.charge_send(charge.pk)
    company.unavailable = True
    refused(
        lambda: services.refund(charge_id=charge.pk, actor=billing_ito, amount=4_000, reason="r"),
        "unavailable",
    )
    [pending] = charge.refunds.all()
    assert pending.state == RefundState.SENT
    # While it is pending it counts against what can still be refunded.
    refused(
        lambda: services.refund(charge_id=charge.pk, actor=billing_ito, amount=40_001, reason="r"),
        "amount",
    )
    company.unavailable = False
    done = services.refund_resend(refund_id=pending.pk, actor=billing_ito)
    assert done.state == RefundState.DONE and len(company.refunds) == 1
    assert Charge.objects.get(pk=charge.pk).refunded == 4_000
    assert Receipt.objects.filter(charge=charge, kind=ReceiptKind.CORRECTED).get().amount == 40_000


def test_a_charge_left_when_the_card_provider_is_removed_goes_to_billing(
    seeded, company, monkeypatch
):
    case = completed_case(mode="online", card=True)
    charge = charge_of(case)
    monkeypatch.setattr(providers, "card_provider", lambda: None)
    with translation.override("en"):
        assert services.charge_send(charge.pk) == ChargeState.FAILED
    charge.refresh_from_db()
    assert charge.failure_message == "No card provider is configured."
    assert charge.attempts.get().state == AttemptState.FAILED
    assert not company.sent_keys
