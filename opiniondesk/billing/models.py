"""Fee tables as data with effective dates (SPEC §8): a price change needs no code."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


class FeeSchedule(models.Model):
    """料金表: in force from `effective_from` until the next schedule's date."""

    effective_from = models.DateField(_("effective from"), unique=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        ordering = ["-effective_from"]
        verbose_name = _("fee schedule")
        verbose_name_plural = _("fee schedules")

    def __str__(self) -> str:
        return f"{self.effective_from:%Y-%m-%d}"


class FeeTier(models.Model):
    schedule = models.ForeignKey(FeeSchedule, on_delete=models.CASCADE, related_name="tiers")
    up_to_minutes = models.PositiveSmallIntegerField(_("up to (minutes, inclusive)"))
    price_excluding_tax = models.PositiveIntegerField(_("price excluding tax (yen)"))
    tax_rate_percent = models.PositiveSmallIntegerField(_("tax rate (%)"), default=10)

    class Meta:
        ordering = ["schedule_id", "up_to_minutes"]
        constraints = [
            models.UniqueConstraint(fields=["schedule", "up_to_minutes"], name="fee_tier_unique"),
            models.CheckConstraint(condition=Q(up_to_minutes__gt=0), name="fee_tier_minutes"),
            models.CheckConstraint(condition=Q(tax_rate_percent__lte=100), name="fee_tier_tax"),
        ]
        verbose_name = _("fee tier")
        verbose_name_plural = _("fee tiers")

    def __str__(self) -> str:
        return (
            f"≤{self.up_to_minutes} min: ¥{self.price_excluding_tax:,} + {self.tax_rate_percent}%"
        )


# Charges (SPEC §8, §11.17). A charge is made once per case after its consult; it stores the fee
# schedule, tier, minutes and amounts it used, so a later price change never alters it.


class Provider(models.TextChoices):
    DESK = "desk", _("pay at the hospital")
    STRIPE = "stripe", _("card (Stripe)")


class CardOnFile(models.Model):
    """The card the payer registered for a case through the provider (SetupIntent): only the
    provider's references and what may be shown (brand, last four digits, expiry)."""

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="cards")
    provider = models.CharField(max_length=20, choices=Provider.choices)
    customer_ref = models.CharField(max_length=100)
    method_ref = models.CharField(max_length=100)
    brand = models.CharField(max_length=30, blank=True)
    last4 = models.CharField(max_length=4, blank=True)
    exp_month = models.PositiveSmallIntegerField(null=True, blank=True)
    exp_year = models.PositiveSmallIntegerField(null=True, blank=True)
    saved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    saved_at = models.DateTimeField()
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-saved_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["case"], condition=Q(removed_at__isnull=True), name="one_live_card"
            )
        ]
        verbose_name = _("card on file")
        verbose_name_plural = _("cards on file")

    def __str__(self) -> str:
        return f"{self.brand} ****{self.last4} (case {self.case_id})"


class ChargeState(models.TextChoices):
    NEEDS_DECISION = "needs_decision", _("0 minutes: staff decide")
    PENDING = "pending", _("to be charged to the card")
    PROCESSING = "processing", _("with the card provider")
    REQUIRES_ACTION = "requires_action", _("the payer must confirm the card (3-D Secure)")
    FAILED = "failed", _("card charge failed")
    AT_DESK = "at_desk", _("to be paid at the hospital")
    PAID = "paid", _("paid by card")
    COLLECTED = "collected", _("paid at the hospital")
    WAIVED = "waived", _("waived")


SETTLED_STATES = (ChargeState.PAID, ChargeState.COLLECTED, ChargeState.WAIVED)


class CollectMethod(models.TextChoices):
    """How a fee was paid at the hospital."""

    CASH = "cash", _("cash at the desk")
    TERMINAL = "terminal", _("card terminal at the desk")
    TRANSFER = "transfer", _("bank transfer")


class Charge(models.Model):
    """The consult fee of one case (one row per case: retries and corrections never make a
    second). Amounts are int yen, tax included; `tax` is the consumption tax within `amount`."""

    case = models.OneToOneField("cases.Case", on_delete=models.PROTECT, related_name="charge")
    consult_id = models.PositiveIntegerField(null=True, blank=True)
    state = models.CharField(max_length=20, choices=ChargeState.choices)
    provider = models.CharField(max_length=20, choices=Provider.choices)
    card = models.ForeignKey(
        CardOnFile, on_delete=models.PROTECT, null=True, blank=True, related_name="charges"
    )
    # What the fee was computed from, as it was then.
    schedule = models.ForeignKey(FeeSchedule, on_delete=models.PROTECT, related_name="charges")
    review_seconds = models.PositiveIntegerField()
    call_seconds = models.PositiveIntegerField()
    billable_minutes = models.PositiveIntegerField()
    tier = models.PositiveSmallIntegerField()  # 1-based; 0 when nothing was billable
    amount = models.PositiveIntegerField(_("amount (yen, tax included)"))
    tax = models.PositiveIntegerField(_("consumption tax (yen)"))
    tax_rate_percent = models.PositiveSmallIntegerField()
    over_limit = models.BooleanField(default=False)  # > 60 minutes: top tier, flagged
    created_at = models.DateTimeField()
    # Settlement.
    settled_at = models.DateTimeField(null=True, blank=True)
    settled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    collect_method = models.CharField(max_length=20, choices=CollectMethod.choices, blank=True)
    decision_reason = models.TextField(blank=True)  # a waiver, a 0-minute decision
    failure_message = models.TextField(blank=True)  # the provider's words, for staff
    refunded = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(tax__lte=F("amount")), name="charge_tax_in_amount"),
            models.CheckConstraint(
                condition=Q(refunded__lte=F("amount")), name="charge_refund_at_most_amount"
            ),
        ]
        verbose_name = _("charge")
        verbose_name_plural = _("charges")

    def __str__(self) -> str:
        return f"charge of case {self.case_id}: ¥{self.amount:,} {self.state}"

    @property
    def settled(self) -> bool:
        return self.state in SETTLED_STATES


class AttemptState(models.TextChoices):
    SENT = "sent", _("sent")
    REQUIRES_ACTION = "requires_action", _("the payer must confirm (3-D Secure)")
    SUCCEEDED = "succeeded", _("succeeded")
    FAILED = "failed", _("failed")


class ChargeAttempt(models.Model):
    """One try at the card provider, with its own idempotency key: a retried task reuses the
    key (the provider then answers with the same payment), a new try after a failure has a new
    one."""

    charge = models.ForeignKey(Charge, on_delete=models.PROTECT, related_name="attempts")
    number = models.PositiveSmallIntegerField()
    idempotency_key = models.CharField(max_length=100, unique=True)
    state = models.CharField(max_length=20, choices=AttemptState.choices)
    reference = models.CharField(max_length=100, blank=True)  # the provider's payment id
    message = models.TextField(blank=True)
    sends = models.PositiveSmallIntegerField(default=1)  # times sent with this key
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["charge_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["charge", "number"], name="attempt_number_unique"),
            # At most one try in flight per charge.
            models.UniqueConstraint(
                fields=["charge"],
                condition=Q(state__in=["sent", "requires_action"]),
                name="one_open_attempt",
            ),
        ]

    def __str__(self) -> str:
        return f"attempt {self.number} of charge {self.charge_id}: {self.state}"


class RefundState(models.TextChoices):
    SENT = "sent", _("sent to the card provider")
    DONE = "done", _("refunded")
    FAILED = "failed", _("refused by the card provider")


class Refund(models.Model):
    """Money given back by billing staff, with a reason; through the provider for a card. The
    row (with its idempotency key) is written before the provider is asked, so a refund cut off
    half-way is sent again with the same key, never twice."""

    charge = models.ForeignKey(Charge, on_delete=models.PROTECT, related_name="refunds")
    amount = models.PositiveIntegerField(_("amount (yen)"))
    reason = models.TextField(_("reason"))
    state = models.CharField(max_length=10, choices=RefundState.choices)
    idempotency_key = models.CharField(max_length=100, unique=True)
    reference = models.CharField(max_length=100, blank=True)
    message = models.TextField(blank=True)  # the provider's words for a refusal
    made_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    made_at = models.DateTimeField()

    class Meta:
        ordering = ["made_at", "pk"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="refund_positive")]

    def __str__(self) -> str:
        return f"refund ¥{self.amount:,} of charge {self.charge_id}"


class ReceiptKind(models.TextChoices):
    ORIGINAL = "original", _("receipt")
    CORRECTED = "corrected", _("corrected receipt")


class ReceiptCounter(models.Model):
    """The next receipt number (one row, locked while a receipt is issued: no gaps, no reuse)."""

    next_number = models.PositiveIntegerField(default=1)

    def __str__(self) -> str:
        return f"next receipt number {self.next_number}"


class Receipt(models.Model):
    """領収書 as issued: every field the PDF shows is stored, so it reads the same in years.
    A qualified simplified invoice (§11.17). A later download is a reissue (再発行) of the same
    number; a refund issues a corrected receipt with a new number."""

    number = models.PositiveIntegerField(unique=True)
    charge = models.ForeignKey(Charge, on_delete=models.PROTECT, related_name="receipts")
    kind = models.CharField(max_length=20, choices=ReceiptKind.choices)
    corrects = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="corrected_by"
    )
    issued_at = models.DateTimeField()
    issued_on = models.DateField()  # the date on the receipt (JST)
    payer_name = models.CharField(max_length=200)  # the patient
    description = models.CharField(max_length=200)
    amount = models.PositiveIntegerField()  # tax included
    tax = models.PositiveIntegerField()
    tax_rate_percent = models.PositiveSmallIntegerField()
    method = models.CharField(max_length=100)  # how it was paid, in words
    issuer_name = models.CharField(max_length=200)
    issuer_address = models.CharField(max_length=300)
    issuer_phone = models.CharField(max_length=50)
    registration_number = models.CharField(max_length=14)  # T + 13 digits
    first_downloaded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["number"]
        constraints = [
            models.UniqueConstraint(
                fields=["charge"],
                condition=Q(kind="original"),
                name="one_original_receipt",
            ),
            models.CheckConstraint(condition=Q(tax__lte=F("amount")), name="receipt_tax_in_amount"),
        ]
        verbose_name = _("receipt")
        verbose_name_plural = _("receipts")

    def __str__(self) -> str:
        return f"receipt {self.number} (charge {self.charge_id})"

    @property
    def superseded(self) -> bool:
        return hasattr(self, "corrected_by")


class WebhookEvent(models.Model):
    """A provider's event, verified and applied once (providers send an event more than once)."""

    provider = models.CharField(max_length=20, choices=Provider.choices)
    event_id = models.CharField(max_length=100)
    kind = models.CharField(max_length=100)
    received_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["provider", "event_id"], name="webhook_event_once")
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.kind} {self.event_id}"
