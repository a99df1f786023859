"""Stripe through its official SDK (SPEC §8): SetupIntents register the card in the payer's
browser (Stripe Elements), PaymentIntents charge it off-session, Refunds give money back, and
signed webhooks tell us what happened. JPY is zero-decimal: amounts go to Stripe as int yen.

One `stripe.StripeClient` per provider, with its own key and base address (tests point it at
localstripe on loopback); the SDK's module globals are never set.
"""

import logging
from collections.abc import Callable, Mapping
from typing import Any, NoReturn

import stripe
from django.utils.translation import gettext_lazy as _

from opiniondesk.billing.models import Provider
from opiniondesk.billing.providers.base import (
    CardRefused,
    CardSetup,
    PaymentResult,
    PaymentStatus,
    ProviderUnavailable,
    RefundResult,
    SavedCard,
    WebhookRejected,
    WebhookUpdate,
)

logger = logging.getLogger(__name__)

# The events about a payment we act on; any other verified event is recorded only.
PAYMENT_EVENTS = frozenset(
    {
        "payment_intent.succeeded",
        "payment_intent.payment_failed",
        "payment_intent.requires_action",
        "payment_intent.canceled",
        "payment_intent.processing",
    }
)
# Stripe's metadata values hold at most 500 characters.
METADATA_VALUE_MAX = 500
# The SDK's own retries (same idempotency key) before the service's later resends take over.
NETWORK_RETRIES = 2
# Stripe's error codes meaning the cardholder must confirm the payment on our page.
AUTHENTICATION_CODES = frozenset({"authentication_required"})


def _transient(exc: stripe.StripeError) -> NoReturn:
    """Stripe was not reached, failed on its side, limited us, or is still working on the same
    key: the caller sends again later with the same key. A rejected API key is logged loudly
    (a configuration error) but treated the same: nothing about the card is known."""
    if isinstance(exc, stripe.AuthenticationError | stripe.PermissionError):
        logger.error("Stripe refused our API key: %s", exc.user_message)
    raise ProviderUnavailable(f"stripe: {type(exc).__name__}: {exc.user_message}") from exc


TRANSIENT_ERRORS = (
    stripe.APIConnectionError,
    stripe.APIError,  # 5xx, and 409 (an idempotent request still in progress)
    stripe.RateLimitError,
    stripe.AuthenticationError,
    stripe.PermissionError,
)


def _error_code(error: Mapping[str, Any] | None) -> str:
    if not error:
        return ""
    return str(error.get("decline_code") or error.get("code") or "")


def _error_of(exc: stripe.StripeError) -> dict[str, Any]:
    """The `error` object of Stripe's answer, as plain data."""
    body = exc.json_body if isinstance(exc.json_body, dict) else {}
    error = body.get("error")
    return error if isinstance(error, dict) else {}


def _plain(obj: Any) -> dict[str, Any]:
    """An SDK object as plain data (v16's objects are not dicts)."""
    return obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)


def _metadata(value: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in (value or {}).items()}


def payment_result(intent: Mapping[str, Any]) -> PaymentResult:
    """What a PaymentIntent says about the payment, in the interface's words."""
    status = intent.get("status")
    reference = str(intent.get("id") or "")
    error = intent.get("last_payment_error")
    message = str((error or {}).get("message") or "")
    code = _error_code(error)
    secret = str(intent.get("client_secret") or "")
    if status == "succeeded":
        return PaymentResult(PaymentStatus.SUCCEEDED, reference)
    if status == "requires_action" or (
        status == "requires_payment_method" and (error or {}).get("code") in AUTHENTICATION_CODES
    ):
        # Off-session, Stripe fails a payment needing 3-D Secure with `authentication_required`
        # and the intent waiting for a payment method: the payer confirms it on our page.
        return PaymentResult(PaymentStatus.REQUIRES_ACTION, reference, message, code, secret)
    if status in ("processing", "requires_capture"):
        return PaymentResult(PaymentStatus.PROCESSING, reference)
    if status == "canceled":
        return PaymentResult(
            PaymentStatus.FAILED,
            reference,
            message or str(_("The card payment was cancelled.")),
            code or "canceled",
        )
    if status == "requires_payment_method":
        return PaymentResult(
            PaymentStatus.FAILED,
            reference,
            message or str(_("The card company refused the charge.")),
            code,
        )
    # requires_confirmation: a payment created with confirm=true never stays there.
    return PaymentResult(
        PaymentStatus.FAILED,
        reference,
        str(
            _("The card payment was not completed (Stripe status: %(status)s).")
            % {"status": status}
        ),
        str(status or ""),
    )


class StripeProvider:
    """The `CardProvider` for Stripe."""

    name = Provider.STRIPE.value

    def __init__(
        self,
        *,
        secret_key: str,
        publishable_key: str,
        webhook_secret: str,
        api_base: str = "",
        max_network_retries: int = NETWORK_RETRIES,
    ) -> None:
        self.publishable_key = publishable_key
        self._webhook_secret = webhook_secret
        self._client = stripe.StripeClient(
            secret_key,
            base_addresses={"api": api_base.rstrip("/")} if api_base else None,
            max_network_retries=max_network_retries,
        )

    def _call(self, request: Callable[[], Any]) -> Any:
        """A request whose failure is either transient (raises `ProviderUnavailable`) or a
        refusal about the card or the request (raises `CardRefused` with Stripe's words)."""
        try:
            return _plain(request())
        except TRANSIENT_ERRORS as exc:
            _transient(exc)
        except (stripe.CardError, stripe.InvalidRequestError, stripe.IdempotencyError) as exc:
            raise CardRefused(
                exc.user_message or str(_("The card company refused the request.")),
                _error_code(_error_of(exc)) or str(exc.code or ""),
            ) from exc

    # Registering the card.

    def card_setup(self, *, customer_ref: str, email: str, name: str, case_id: int) -> CardSetup:
        if not customer_ref:
            params: dict[str, Any] = {"name": name, "metadata": {"case": str(case_id)}}
            if email:
                params["email"] = email
            try:
                customer = self._call(lambda: self._client.v1.customers.create(params=params))
            except CardRefused as exc:
                raise ProviderUnavailable(f"stripe: customer not created: {exc.message}") from exc
            customer_ref = customer["id"]
        try:
            intent = self._call(
                lambda: self._client.v1.setup_intents.create(
                    params={
                        "customer": customer_ref,
                        "payment_method_types": ["card"],
                        "usage": "off_session",
                        "metadata": {"case": str(case_id)},
                    }
                )
            )
        except CardRefused as exc:
            raise ProviderUnavailable(f"stripe: setup intent not created: {exc.message}") from exc
        return CardSetup(
            customer_ref=customer_ref,
            setup_ref=intent["id"],
            client_secret=intent["client_secret"],
            publishable_key=self.publishable_key,
        )

    def saved_card(self, *, setup_ref: str) -> SavedCard:
        if not setup_ref.startswith("seti_"):
            raise CardRefused(str(_("This card registration was not found.")), "not_found")
        try:
            intent = self._call(lambda: self._client.v1.setup_intents.retrieve(setup_ref))
        except CardRefused as exc:
            raise CardRefused(str(_("This card registration was not found.")), exc.code) from exc
        if intent.get("status") != "succeeded":
            error = intent.get("last_setup_error") or {}
            words = error.get("message") or ""
            message = str(
                _("The card was not registered: %(reason)s")
                % {"reason": words or _("it was not confirmed with the card company.")}
            )
            raise CardRefused(message, _error_code(error) or str(intent.get("status")))
        method_ref = intent.get("payment_method")
        if not isinstance(method_ref, str):  # expanded by someone else's request
            method_ref = method_ref["id"]
        method = self._call(lambda: self._client.v1.payment_methods.retrieve(method_ref))
        card = method.get("card") or {}
        return SavedCard(
            customer_ref=str(intent.get("customer") or ""),
            method_ref=method_ref,
            brand=str(card.get("brand") or ""),
            last4=str(card.get("last4") or ""),
            exp_month=card.get("exp_month"),
            exp_year=card.get("exp_year"),
        )

    # Payments.

    def charge(
        self,
        *,
        amount: int,
        customer_ref: str,
        method_ref: str,
        idempotency_key: str,
        description: str,
        metadata: dict[str, str],
    ) -> PaymentResult:
        params: dict[str, Any] = {
            "amount": amount,  # JPY is zero-decimal: the yen amount as it is
            "currency": "jpy",
            "customer": customer_ref,
            "payment_method": method_ref,
            "off_session": True,
            "confirm": True,
            "description": description,
            "metadata": {**metadata, "idempotency_key": idempotency_key},
        }
        try:
            intent = _plain(
                self._client.v1.payment_intents.create(
                    params=params,  # type: ignore[arg-type]
                    options={"idempotency_key": idempotency_key},
                )
            )
        except TRANSIENT_ERRORS as exc:
            _transient(exc)
        except stripe.CardError as exc:
            # A decline, or a payment that needs the cardholder (authentication_required):
            # Stripe returns the PaymentIntent it made inside the error.
            error = _error_of(exc)
            intent_in_error = error.get("payment_intent")
            code = _error_code(error) or str(exc.code or "")
            message = exc.user_message or str(_("The card company refused the charge."))
            if isinstance(intent_in_error, dict):
                result = payment_result(intent_in_error)
                if result.status is not PaymentStatus.FAILED:
                    return PaymentResult(
                        result.status, result.reference, message, code, result.client_secret
                    )
                return PaymentResult(PaymentStatus.FAILED, result.reference, message, code)
            return PaymentResult(PaymentStatus.FAILED, "", message, code)
        except stripe.IdempotencyError as exc:
            # The key was used with other parameters: sending again cannot help.
            logger.error("Stripe idempotency error for %s: %s", idempotency_key, exc)
            return PaymentResult(
                PaymentStatus.FAILED, "", exc.user_message or "", "idempotency_error"
            )
        except stripe.InvalidRequestError as exc:
            reference = str((_error_of(exc).get("payment_intent") or {}).get("id") or "")
            return PaymentResult(
                PaymentStatus.FAILED, reference, exc.user_message or "", str(exc.code or "")
            )
        return payment_result(intent)

    def payment_status(self, *, reference: str) -> PaymentResult:
        try:
            intent = self._call(lambda: self._client.v1.payment_intents.retrieve(reference))
        except CardRefused as exc:
            # The payment is not at Stripe (a wrong reference): nothing was charged.
            return PaymentResult(PaymentStatus.FAILED, reference, exc.message, exc.code)
        return payment_result(intent)

    def cancel_payment(self, *, reference: str) -> None:
        try:
            self._call(lambda: self._client.v1.payment_intents.cancel(reference))
        except CardRefused as exc:
            # Cancelled already is done; a payment that went through must not be settled twice.
            status = self.payment_status(reference=reference)
            if status.status is PaymentStatus.FAILED:
                return
            raise ProviderUnavailable(
                f"stripe: payment {reference} not cancelled ({status.status}): {exc.message}"
            ) from exc

    def refund(
        self, *, reference: str, amount: int, idempotency_key: str, reason: str
    ) -> RefundResult:
        refund = self._call(
            lambda: self._client.v1.refunds.create(
                params={
                    "payment_intent": reference,
                    "amount": amount,
                    "metadata": {
                        "reason": reason[:METADATA_VALUE_MAX],
                        "idempotency_key": idempotency_key,
                    },
                },
                options={"idempotency_key": idempotency_key},
            )
        )
        if refund.get("status") in ("failed", "canceled"):
            raise CardRefused(
                str(_("The card company refused the refund.")),
                str(refund.get("failure_reason") or refund.get("status")),
            )
        return RefundResult(reference=str(refund["id"]))

    # Webhooks.

    def parse_webhook(self, *, payload: bytes, signature: str) -> WebhookUpdate:
        if not self._webhook_secret or not signature:
            raise WebhookRejected("no signature")
        try:
            event = _plain(self._client.construct_event(payload, signature, self._webhook_secret))
        except stripe.SignatureVerificationError as exc:
            raise WebhookRejected("bad signature") from exc
        except (ValueError, KeyError, TypeError) as exc:
            raise WebhookRejected("unreadable body") from exc
        event_id, kind = str(event.get("id") or ""), str(event.get("type") or "")
        if not event_id or not kind:
            raise WebhookRejected("not an event")
        data = event.get("data")
        subject = data.get("object") if isinstance(data, dict) else None
        if kind not in PAYMENT_EVENTS or not isinstance(subject, dict):
            return WebhookUpdate(event_id=event_id, kind=kind)
        return WebhookUpdate(
            event_id=event_id,
            kind=kind,
            payment=payment_result(subject),
            metadata=_metadata(subject.get("metadata")),
        )
