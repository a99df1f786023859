"""Twenty "the consult ended" and "charge it again" events for one case at the same moment, on
a real PostgreSQL server (SPEC §8: the fee is charged exactly once even when retried). Each
thread has its own connection, as the room's pages, the limit task and billing staff would."""

import pytest

from opiniondesk.billing import providers, services
from opiniondesk.billing.models import Charge, ChargeAttempt, ChargeState, Receipt
from opiniondesk.cases.models import Case
from opiniondesk.cases.workflow import Status
from opiniondesk.consults import services as consults
from opiniondesk.consults.models import EndReason
from opiniondesk.core.tests.threads import run_at_once
from opiniondesk.testing.builders import in_call_case
from opiniondesk.testing.card_company import CardCompany

pytestmark = [pytest.mark.postgresql, pytest.mark.django_db(transaction=True)]


def test_twenty_end_and_retry_events_make_one_charge(seeded, personas, monkeypatch, settings):
    settings.STRIPE_SECRET_KEY = "sk_test_configured"
    settings.STRIPE_PUBLISHABLE_KEY, settings.STRIPE_WEBHOOK_SECRET = "pk_test", "whsec_test"
    company = CardCompany()
    monkeypatch.setattr(providers, "card_provider", lambda: company)
    case, consult_id = in_call_case(mode="online", card=True, call_minutes=25)
    dr_tanaka, billing_ito = personas["dr_tanaka"], personas["billing_ito"]

    def end():
        return consults.call_end(
            consult_id=consult_id, user=dr_tanaka, reason=EndReason.SPECIALIST
        ).state

    def send():
        charge = Charge.objects.filter(case_id=case.pk).first()
        return services.charge_send(charge.pk) if charge else "no charge yet"

    def retry():
        charge = Charge.objects.filter(case_id=case.pk).first()
        if charge is None:
            return "no charge yet"
        return services.charge_retry(charge_id=charge.pk, actor=billing_ito).state

    outcomes = run_at_once(*([end] * 10 + [send] * 5 + [retry] * 5), timeout=60)
    for kind, value in outcomes:
        if kind == "error":  # a retry while nothing can be retried is refused in words
            assert getattr(value, "code", None) == "state", repr(value)
    # The queued task runs (again) after the rush: still one payment.
    charge = Charge.objects.get(case_id=case.pk)
    services.charge_send(charge.pk)
    services.charge_send(charge.pk)

    assert Charge.objects.filter(case_id=case.pk).count() == 1
    charge.refresh_from_db()
    assert charge.state == ChargeState.PAID
    assert len(company.succeeded_payments()) == 1 and len(set(company.sent_keys)) == 1
    assert ChargeAttempt.objects.filter(charge=charge).count() == 1
    assert Receipt.objects.filter(charge=charge).count() == 1
    assert Case.objects.get(pk=case.pk).status == Status.CHARGED


def test_twenty_sends_and_retries_of_one_pending_charge_pay_once(
    seeded, personas, monkeypatch, settings
):
    settings.STRIPE_SECRET_KEY = "sk_test_configured"
    settings.STRIPE_PUBLISHABLE_KEY, settings.STRIPE_WEBHOOK_SECRET = "pk_test", "whsec_test"
    company = CardCompany()
    monkeypatch.setattr(providers, "card_provider", lambda: company)
    case, consult_id = in_call_case(mode="online", card=True, call_minutes=45)
    consults.call_end(
        consult_id=consult_id, user=personas["dr_tanaka"], reason=EndReason.SPECIALIST
    )
    charge = Charge.objects.get(case_id=case.pk)
    assert charge.state == ChargeState.PENDING
    billing_ito = personas["billing_ito"]

    def retry():
        return services.charge_retry(charge_id=charge.pk, actor=billing_ito).state

    outcomes = run_at_once(
        *([lambda: services.charge_send(charge.pk)] * 14 + [retry] * 6), timeout=60
    )
    for kind, value in outcomes:
        if kind == "error":
            assert getattr(value, "code", None) == "state", repr(value)
    assert len(company.succeeded_payments()) == 1 and len(set(company.sent_keys)) == 1
    assert company.amounts == {"pi_1": 88_000}
    assert Charge.objects.get(pk=charge.pk).state == ChargeState.PAID
    assert Receipt.objects.filter(charge=charge).count() == 1
    assert Case.objects.get(pk=case.pk).status == Status.CHARGED
