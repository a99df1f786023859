"""The one small interface every payment provider implements (SPEC §8, §11.17).

A card provider tokenises the card in the payer's browser (card numbers never reach our server),
charges the saved card off-session with an idempotency key, refunds, and tells us what happened
through signed webhooks. "Pay at the hospital" is no provider at all: billing staff record the
payment. Amounts are int yen (JPY has no minor unit).
"""

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol


class PaymentStatus(StrEnum):
    SUCCEEDED = "succeeded"
    REQUIRES_ACTION = "requires_action"  # the payer must confirm (3-D Secure) on our page
    PROCESSING = "processing"  # the provider answers later (webhook)
    FAILED = "failed"  # declined, or the provider gave up: `message` says why


@dataclass(frozen=True)
class CardSetup:
    """What the payer's browser needs to register a card with the provider's own form."""

    customer_ref: str
    setup_ref: str
    client_secret: str
    publishable_key: str


@dataclass(frozen=True)
class SavedCard:
    """A card the provider holds for the payer: references and what may be shown."""

    customer_ref: str
    method_ref: str
    brand: str
    last4: str
    exp_month: int | None
    exp_year: int | None


@dataclass(frozen=True)
class PaymentResult:
    status: PaymentStatus
    reference: str  # the provider's id of the payment ("" when none was made)
    message: str = ""  # the provider's words for a failure, for billing staff
    code: str = ""  # the provider's decline or error code
    client_secret: str = ""  # for REQUIRES_ACTION: lets the payer's browser confirm


@dataclass(frozen=True)
class RefundResult:
    reference: str


@dataclass(frozen=True)
class WebhookUpdate:
    """A verified provider event about one of our payments."""

    event_id: str
    kind: str
    payment: PaymentResult | None = None  # None: an event we record but do not act on
    metadata: dict[str, str] = field(default_factory=dict)


class ProviderUnavailable(Exception):
    """The provider could not be reached or failed on its side: try again with the same key."""


class CardRefused(Exception):
    """The provider refused a request about a card (not a payment): `message` is its words."""

    def __init__(self, message: str, code: str = "") -> None:
        self.message, self.code = message, code
        super().__init__(message)


class WebhookRejected(Exception):
    """A webhook whose signature or body does not verify: answered 400, changes nothing."""


class CardProvider(Protocol):
    """A provider that charges a saved card. Another one (e.g. PAY.JP) implements the same."""

    name: str  # a billing.models.Provider value

    def card_setup(self, *, customer_ref: str, email: str, name: str, case_id: int) -> CardSetup:
        """Start registering a card; `customer_ref` is "" the first time for this case."""
        ...

    def saved_card(self, *, setup_ref: str) -> SavedCard:
        """The card the payer's browser registered through `card_setup` (refused if not done)."""
        ...

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
        """Charge the saved card off-session. The same key always answers with the same payment."""
        ...

    def payment_status(self, *, reference: str) -> PaymentResult:
        """The payment as the provider has it now (with a client secret while it needs the
        payer's confirmation)."""
        ...

    def cancel_payment(self, *, reference: str) -> None:
        """Cancel a payment waiting for the payer, so it can never be paid later."""
        ...

    def refund(
        self, *, reference: str, amount: int, idempotency_key: str, reason: str
    ) -> RefundResult: ...

    def parse_webhook(self, *, payload: bytes, signature: str) -> WebhookUpdate:
        """Verify the signature and read the event; raises `WebhookRejected`."""
        ...
