"""The Stripe provider with the real Stripe SDK: against localstripe on loopback, and against
recorded Stripe answers where localstripe differs from Stripe (see opiniondesk/testing/stripe.py
and recorded.py)."""

import hashlib
import hmac
import json
import time

import pytest
from django.urls import reverse
from django.utils import translation

from opiniondesk.billing import services
from opiniondesk.billing.models import (
    AttemptState,
    CardOnFile,
    Charge,
    ChargeState,
    Receipt,
    RefundState,
    WebhookEvent,
)
from opiniondesk.billing.providers import card_provider
from opiniondesk.billing.providers.base import PaymentStatus, ProviderUnavailable
from opiniondesk.billing.providers.stripe import StripeProvider
from opiniondesk.billing.tests import recorded
from opiniondesk.cases.workflow import Status
from opiniondesk.testing import stripe as harness
from opiniondesk.testing.builders import case_in, completed_case

pytestmark = pytest.mark.django_db
PI_PATH = "/v1/payment_intents"


def _provider() -> StripeProvider:
    provider = card_provider()
    assert isinstance(provider, StripeProvider)
    return provider


def _registered_card(case, user) -> CardOnFile:
    """A card registered as the browser would: a SetupIntent confirmed with Stripe's test card
    (through the API: localstripe has no card form), then kept by `card_save`."""
    setup = services.card_setup_start(case=case, user=user)
    _provider()._client.v1.setup_intents.confirm(
        setup.setup_ref, params={"payment_method": "pm_card_visa"}
    )
    return services.card_save(case_id=case.pk, setup_ref=setup.setup_ref, user=user)


def _charge_at_localstripe(case) -> Charge:
    """The case's charge, its card replaced by one registered at localstripe."""
    charge = Charge.objects.get(case=case)
    setup = _provider().card_setup(customer_ref="", email="", name="Hana", case_id=case.pk)
    _provider()._client.v1.setup_intents.confirm(
        setup.setup_ref, params={"payment_method": "pm_card_visa"}
    )
    saved = _provider().saved_card(setup_ref=setup.setup_ref)
    CardOnFile.objects.filter(pk=charge.card_id).update(
        customer_ref=saved.customer_ref, method_ref=saved.method_ref
    )
    return charge


def test_card_setup_then_saved(localstripe, patient_hana):
    case = case_in(Status.ACCEPTED, applicant=patient_hana, mode="online")
    card = _registered_card(case, patient_hana)
    assert (card.brand, card.last4, card.exp_month) == ("visa", "4242", 12)
    assert card.customer_ref.startswith("cus_") and card.method_ref.startswith("pm_")
    # A second registration reuses the customer and replaces the card.
    again = _registered_card(case, patient_hana)
    assert again.customer_ref == card.customer_ref
    assert CardOnFile.objects.filter(case=case, removed_at__isnull=True).get() == again


def test_an_unconfirmed_setup_is_refused_and_saves_nothing(localstripe, patient_hana):
    case = case_in(Status.ACCEPTED, applicant=patient_hana, mode="online")
    setup = services.card_setup_start(case=case, user=patient_hana)
    with translation.override("en"), pytest.raises(services.BillingError) as refused:
        services.card_save(case_id=case.pk, setup_ref=setup.setup_ref, user=patient_hana)
    assert refused.value.code == "card_refused"
    with translation.override("en"):
        assert "not registered" in str(refused.value.message)
    assert not CardOnFile.objects.filter(case=case).exists()


def test_a_card_charge_end_to_end(localstripe):
    case = completed_case(mode="online", card=True)
    charge = _charge_at_localstripe(case)
    assert charge.state == ChargeState.PENDING
    assert services.charge_send(charge.pk) == ChargeState.PAID
    charge.refresh_from_db()
    case.refresh_from_db()
    assert case.status == Status.CHARGED
    assert Receipt.objects.filter(charge=charge).count() == 1
    [intent] = localstripe.payment_intents()
    attempt = charge.attempts.get()
    assert intent["id"] == attempt.reference and attempt.state == AttemptState.SUCCEEDED
    assert (intent["amount"], intent["currency"], intent["status"]) == (
        charge.amount,
        "jpy",
        "succeeded",
    )
    assert intent["metadata"]["idempotency_key"] == attempt.idempotency_key
    assert intent["description"] == services.RECEIPT_DESCRIPTION
    # Sent again (a duplicate task): the try is finished, nothing goes to the provider.
    assert services.charge_send(charge.pk) == ChargeState.PAID
    assert localstripe.posts(PI_PATH) == [attempt.idempotency_key]


def test_the_same_key_twice_is_one_payment(localstripe):
    """localstripe ignores Idempotency-Key; the harness replays as Stripe documents. What this
    shows of our side: the SDK sends our key, the same both times."""
    case = completed_case(mode="online", card=True)
    charge = _charge_at_localstripe(case)
    card = charge.card
    args = {
        "amount": charge.amount,
        "customer_ref": card.customer_ref,
        "method_ref": card.method_ref,
        "idempotency_key": "opiniondesk-test-key",
        "description": "d",
        "metadata": {"charge": str(charge.pk)},
    }
    first, second = _provider().charge(**args), _provider().charge(**args)
    assert first == second and first.status is PaymentStatus.SUCCEEDED
    assert localstripe.posts(PI_PATH) == ["opiniondesk-test-key"] * 2
    assert len(localstripe.payment_intents()) == 1


def test_killed_after_the_provider_call_then_run_again(localstripe, monkeypatch):
    """The task dies after Stripe made the payment and before the answer is recorded; the next
    run sends the same key: one payment at the provider, one receipt, the case charged."""
    case = completed_case(mode="online", card=True)
    charge = _charge_at_localstripe(case)
    recorded_update = services.payment_update

    def killed(**kwargs):
        raise SystemExit("worker killed")

    monkeypatch.setattr(services, "payment_update", killed)
    with pytest.raises(SystemExit):
        services.charge_send(charge.pk)
    attempt = charge.attempts.get()
    assert attempt.state == AttemptState.SENT and attempt.reference == ""
    assert Charge.objects.get(pk=charge.pk).state == ChargeState.PROCESSING

    monkeypatch.setattr(services, "payment_update", recorded_update)
    assert services.charge_send(charge.pk) == ChargeState.PAID
    assert len(localstripe.payment_intents()) == 1
    assert localstripe.posts(PI_PATH) == [attempt.idempotency_key] * 2
    assert Receipt.objects.filter(charge=charge).count() == 1
    case.refresh_from_db()
    assert case.status == Status.CHARGED
    attempt.refresh_from_db()
    assert attempt.sends == 2 and attempt.state == AttemptState.SUCCEEDED


def test_refunds_partial_then_the_rest(localstripe, billing_ito):
    case = completed_case(mode="online", card=True)
    charge = _charge_at_localstripe(case)
    services.charge_send(charge.pk)
    part = services.refund(charge_id=charge.pk, actor=billing_ito, amount=1000, reason="一部返金")
    assert part.state == RefundState.DONE and part.reference.startswith("re_")
    rest = charge.amount - 1000
    full = services.refund(charge_id=charge.pk, actor=billing_ito, amount=rest, reason="残額")
    assert full.state == RefundState.DONE
    charge.refresh_from_db()
    assert charge.refunded == charge.amount
    refunds = _provider()._client.v1.refunds.list(params={"limit": 10}).to_dict()["data"]
    assert sorted(r["amount"] for r in refunds) == sorted([1000, rest])
    assert {r["metadata"]["reason"] for r in refunds} == {"一部返金", "残額"}
    # More than was paid is refused by our side before Stripe is asked.
    with pytest.raises(services.BillingError):
        services.refund(charge_id=charge.pk, actor=billing_ito, amount=1, reason="x")
    assert len(refunds) == 2


# Where localstripe differs from Stripe: recorded answers.


@pytest.fixture
def stripe_at(settings):
    def configure(url: str) -> None:
        settings.STRIPE_SECRET_KEY = harness.SECRET_KEY
        settings.STRIPE_PUBLISHABLE_KEY = harness.PUBLISHABLE_KEY
        settings.STRIPE_WEBHOOK_SECRET = harness.WEBHOOK_SECRET
        settings.STRIPE_API_BASE = url

    return configure


@pytest.mark.parametrize(
    ("decline_code", "message"),
    [
        ("insufficient_funds", "Your card has insufficient funds."),
        ("generic_decline", "Your card was declined."),
    ],
)
def test_a_declined_card_fails_with_the_providers_words(stripe_at, decline_code, message):
    with recorded.recorded_stripe(
        [
            (
                402,
                recorded.card_error(
                    "card_declined", decline_code, message, "requires_payment_method"
                ),
            )
        ]
    ) as stripe_server:
        stripe_at(stripe_server.url)
        case = completed_case(mode="online", card=True)
        charge = Charge.objects.get(case=case)
        assert services.charge_send(charge.pk) == ChargeState.FAILED
    charge.refresh_from_db()
    attempt = charge.attempts.get()
    assert charge.failure_message == message
    assert (attempt.state, attempt.reference) == (AttemptState.FAILED, "pi_3RecordedAbc123")
    assert stripe_server.requests[0]["path"] == PI_PATH
    body = stripe_server.requests[0]["body"]
    assert "amount=16500" not in body or charge.amount == 16500
    assert f"amount={charge.amount}&" in body and "currency=jpy" in body
    assert "off_session=true" in body and "confirm=true" in body
    assert stripe_server.keys() == [attempt.idempotency_key]


@pytest.mark.parametrize("intent_status", ["requires_payment_method", "requires_action"])
def test_authentication_required_asks_the_payer(stripe_at, intent_status):
    words = "Your card was declined. This transaction requires authentication."
    answer = recorded.card_error(
        "authentication_required", "authentication_required", words, intent_status
    )
    with recorded.recorded_stripe([(402, answer)]) as stripe_server:
        stripe_at(stripe_server.url)
        case = completed_case(mode="online", card=True)
        charge = Charge.objects.get(case=case)
        assert services.charge_send(charge.pk) == ChargeState.REQUIRES_ACTION
        result = _provider().charge(
            amount=1,
            customer_ref="c",
            method_ref="m",
            idempotency_key="k",
            description="",
            metadata={},
        )
    assert result.client_secret == "pi_3RecordedAbc123_secret_recorded"
    assert result.code == "authentication_required"
    attempt = Charge.objects.get(pk=charge.pk).attempts.get()
    assert (attempt.state, attempt.reference) == (
        AttemptState.REQUIRES_ACTION,
        "pi_3RecordedAbc123",
    )


@pytest.mark.parametrize(
    ("status", "body"), [(500, recorded.API_ERROR), (409, recorded.IN_PROGRESS)]
)
def test_stripe_failing_on_its_side_keeps_the_key_for_the_next_send(stripe_at, status, body):
    with recorded.recorded_stripe([(status, body)]) as stripe_server:
        stripe_at(stripe_server.url)
        case = completed_case(mode="online", card=True)
        charge = Charge.objects.get(case=case)
        with pytest.raises(ProviderUnavailable):
            StripeProvider(
                secret_key="sk_test_x",
                publishable_key="pk",
                webhook_secret="w",
                api_base=stripe_server.url,
                max_network_retries=0,
            ).charge(
                amount=1,
                customer_ref="c",
                method_ref="m",
                idempotency_key="k",
                description="",
                metadata={},
            )
        stripe_server.requests.clear()
        assert services.charge_send(charge.pk) == ChargeState.PROCESSING
        first = list(stripe_server.keys())
        stripe_server.answers = [(200, recorded.payment_intent("succeeded"))]
        assert services.charge_send(charge.pk) == ChargeState.PAID
    attempt = Charge.objects.get(pk=charge.pk).attempts.get()
    # The SDK's own retries and the next send: every request carried the try's one key.
    assert len(first) == 3 and set(stripe_server.keys()) == {attempt.idempotency_key}
    assert attempt.sends == 2 and attempt.state == AttemptState.SUCCEEDED
    assert Receipt.objects.filter(charge_id=charge.pk).count() == 1


# Webhooks.


def _signed(payload: bytes, secret: str = harness.WEBHOOK_SECRET) -> str:
    stamp = int(time.time())
    digest = hmac.new(secret.encode(), f"{stamp}.".encode() + payload, hashlib.sha256)
    return f"t={stamp},v1={digest.hexdigest()}"


def _event(intent: dict, kind: str = "payment_intent.succeeded", event_id: str = "evt_1") -> bytes:
    body = {
        "id": event_id,
        "object": "event",
        "api_version": "2025-01-27.acacia",
        "created": int(time.time()),
        "data": {"object": intent},
        "livemode": False,
        "type": kind,
    }
    return json.dumps(body).encode()


def _post(client, payload: bytes, signature: str):
    return client.post(
        reverse("billing-webhook", args=["stripe"]),
        data=payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=signature,
    )


def test_webhooks_good_forged_and_repeated(localstripe, client, monkeypatch):
    """A killed task's payment is finished by Stripe's signed event (found by the key in the
    payment's metadata); a forged one changes nothing; the same event twice counts once."""
    case = completed_case(mode="online", card=True)
    charge = _charge_at_localstripe(case)
    monkeypatch.setattr(services, "payment_update", lambda **kwargs: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        services.charge_send(charge.pk)
    monkeypatch.undo()
    [intent] = localstripe.payment_intents()
    payload = _event(intent)

    forged = _post(client, payload, _signed(payload, "whsec_someone_else"))
    assert forged.status_code == 400 and b"pi_" not in forged.content
    assert _post(client, payload, "").status_code == 400
    assert _post(client, b"not json", _signed(b"not json")).status_code == 400
    assert Charge.objects.get(pk=charge.pk).state == ChargeState.PROCESSING
    assert not WebhookEvent.objects.exists()

    good = _post(client, payload, _signed(payload))
    assert good.status_code == 200 and good.content == b"ok\n"
    charge.refresh_from_db()
    assert charge.state == ChargeState.PAID
    assert charge.attempts.get().reference == intent["id"]
    assert _post(client, payload, _signed(payload)).status_code == 200
    assert WebhookEvent.objects.count() == 1
    assert Receipt.objects.filter(charge=charge).count() == 1


def test_a_payment_failed_event_fails_the_charge(stripe_at, client):
    with recorded.recorded_stripe([(200, recorded.payment_intent("processing"))]) as server:
        stripe_at(server.url)
        case = completed_case(mode="online", card=True)
        charge = Charge.objects.get(case=case)
        assert services.charge_send(charge.pk) == ChargeState.PROCESSING
    error = {
        "code": "card_declined",
        "decline_code": "expired_card",
        "message": "Your card has expired.",
    }
    payload = _event(
        recorded.payment_intent("requires_payment_method", last_payment_error=error),
        "payment_intent.payment_failed",
        "evt_failed",
    )
    assert _post(client, payload, _signed(payload)).status_code == 200
    charge.refresh_from_db()
    assert charge.state == ChargeState.FAILED
    assert charge.failure_message == "Your card has expired."


def test_webhook_without_a_provider_is_not_found(client, settings):
    settings.STRIPE_SECRET_KEY = ""
    payload = _event({"id": "pi_x"})
    assert _post(client, payload, _signed(payload)).status_code == 404
    assert client.get(reverse("billing-webhook", args=["stripe"])).status_code in (404, 405)


def test_an_event_that_failed_to_apply_is_applied_when_stripe_sends_it_again(
    localstripe, client, monkeypatch
):
    case = completed_case(mode="online", card=True)
    charge = _charge_at_localstripe(case)
    monkeypatch.setattr(services, "payment_update", lambda **kwargs: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        services.charge_send(charge.pk)
    [intent] = localstripe.payment_intents()
    payload = _event(intent, event_id="evt_again")
    with pytest.raises(ZeroDivisionError):  # the view answers 500: Stripe sends it again
        _post(client, payload, _signed(payload))
    assert not WebhookEvent.objects.exists()
    monkeypatch.undo()

    assert _post(client, payload, _signed(payload)).status_code == 200
    assert Charge.objects.get(pk=charge.pk).state == ChargeState.PAID
    assert WebhookEvent.objects.count() == 1
