"""A card company for the tests of the billing services: it keeps payments by idempotency key
as Stripe does (the same key answers with the same payment, however often it is sent), and
answers as told. It stands in for the external provider only; the Stripe implementation itself
is tested against localstripe and recorded Stripe exchanges."""

import itertools
import threading
from dataclasses import dataclass, field

from opiniondesk.billing.providers.base import (
    CardSetup,
    PaymentResult,
    PaymentStatus,
    ProviderUnavailable,
    RefundResult,
    SavedCard,
    WebhookRejected,
    WebhookUpdate,
)


@dataclass
class CardCompany:
    name: str = "stripe"
    answer: PaymentStatus = PaymentStatus.SUCCEEDED
    message: str = ""
    unavailable: bool = False
    payments: dict[str, PaymentResult] = field(default_factory=dict)  # by idempotency key
    amounts: dict[str, int] = field(default_factory=dict)  # by payment reference
    refunds: dict[str, RefundResult] = field(default_factory=dict)  # by idempotency key
    cancelled: list[str] = field(default_factory=list)
    sent_keys: list[str] = field(default_factory=list)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def card_setup(self, *, customer_ref: str, email: str, name: str, case_id: int) -> CardSetup:
        return CardSetup(customer_ref or "cus_1", "seti_1", "seti_1_secret", "pk_test")

    def saved_card(self, *, setup_ref: str) -> SavedCard:
        return SavedCard("cus_1", f"pm_{setup_ref}", "visa", "4242", 12, 2030)

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
        with self._lock:
            self.sent_keys.append(idempotency_key)
            if self.unavailable:
                raise ProviderUnavailable("503 from the card company")
            if idempotency_key not in self.payments:
                reference = f"pi_{next(self._ids)}"
                self.payments[idempotency_key] = PaymentResult(
                    self.answer,
                    reference,
                    self.message,
                    "card_declined" if self.answer is PaymentStatus.FAILED else "",
                    "secret" if self.answer is PaymentStatus.REQUIRES_ACTION else "",
                )
                self.amounts[reference] = amount
            return self.payments[idempotency_key]

    def succeeded_payments(self) -> list[PaymentResult]:
        return [p for p in self.payments.values() if p.status is PaymentStatus.SUCCEEDED]

    def payment_status(self, *, reference: str) -> PaymentResult:
        for payment in self.payments.values():
            if payment.reference == reference:
                return payment
        raise ProviderUnavailable("no such payment")

    def cancel_payment(self, *, reference: str) -> None:
        self.cancelled.append(reference)

    def refund(
        self, *, reference: str, amount: int, idempotency_key: str, reason: str
    ) -> RefundResult:
        with self._lock:
            if self.unavailable:
                raise ProviderUnavailable("503 from the card company")
            return self.refunds.setdefault(idempotency_key, RefundResult(f"re_{next(self._ids)}"))

    def parse_webhook(self, *, payload: bytes, signature: str) -> WebhookUpdate:
        raise WebhookRejected("not used here")
