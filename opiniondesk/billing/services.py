"""Every write of a fee (SPEC §8): the charge opened when a consult completes, its tries at the
card provider, what billing staff record or decide, refunds and receipts. Each is atomic and
audited. Settling a fee sends `signals.fee_settled`, on which the desk moves the case to
`charged`.

Exactly once: a charge is one row per case; every try at the provider has an idempotency key
written (and committed) before the provider is asked, and a try that was cut off is sent again
with the same key, so the provider answers with the payment it already made.

Locks: the case row first, then the charge row (the consult's end holds the case when it opens
the charge), then the receipt counter.
"""

import logging
import re
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from opiniondesk.accounts.models import Role, User
from opiniondesk.audit.models import AuditAction
from opiniondesk.audit.services import audit_record
from opiniondesk.billing import providers, signals
from opiniondesk.billing.errors import BillingError
from opiniondesk.billing.fees import (
    FeeTable,
    FeeTier,
    NoFeeTable,
    quote_minutes,
    table_in_force,
    tax_within,
)
from opiniondesk.billing.invoice_number import normalise
from opiniondesk.billing.models import (
    SETTLED_STATES,
    AttemptState,
    CardOnFile,
    Charge,
    ChargeAttempt,
    ChargeState,
    CollectMethod,
    FeeSchedule,
    Provider,
    Receipt,
    ReceiptCounter,
    ReceiptKind,
    Refund,
    RefundState,
    WebhookEvent,
)
from opiniondesk.billing.providers.base import (
    CardRefused,
    PaymentResult,
    PaymentStatus,
    ProviderUnavailable,
    WebhookUpdate,
)
from opiniondesk.billing.selectors import live_card
from opiniondesk.cases.models import Case
from opiniondesk.catalog.vocabulary import Mode
from opiniondesk.consults.clock import billable_minutes
from opiniondesk.core.time import JST

logger = logging.getLogger(__name__)
RECEIPT_DESCRIPTION = "セカンドオピニオン（自費診療）"
MAX_REASON = 1000
NO_CARDS = _("Cards are not taken: the fee is paid at the hospital.")
# How often and how long a charge cut off by the provider is sent again by itself.
RESEND_AFTER_SECONDS = (60, 300, 1800, 7200)


def _now() -> datetime:
    return timezone.now()


def _key(kind: str) -> str:
    # Random, not derived from row ids: a demo database reset must never meet an old key
    # at the provider (Stripe keeps keys for 24 hours).
    return f"opiniondesk-{kind}-{uuid.uuid4()}"


def _case_lock(case_id: int) -> Case:
    return Case.objects.select_for_update(of=("self",)).get(pk=case_id)


def _charge_lock(charge_id: int) -> tuple[Case, Charge]:
    """The charge's case, then the charge, both locked (the order every writer keeps)."""
    case_id = Charge.objects.values_list("case_id", flat=True).get(pk=charge_id)
    case = _case_lock(case_id)
    return case, Charge.objects.select_for_update().get(pk=charge_id)


def _require_billing(actor: User) -> None:
    if actor.role != Role.BILLING_CLERK:
        raise BillingError(_("Only the billing staff can do this."), "not_allowed")


def _reason(reason: str) -> str:
    reason = reason.strip()
    if not reason:
        raise BillingError(_("Give a reason."), "reason")
    if len(reason) > MAX_REASON:
        raise BillingError(_("The reason is too long (at most 1,000 characters)."), "reason")
    return reason


def _audit(charge: Charge, actor: User | None, request: HttpRequest | None, **detail: Any) -> None:
    audit_record(
        action=AuditAction.UPDATE,
        user=actor,
        request=request,
        case_id=charge.case_id,
        obj=charge,
        detail={"state": charge.state, **detail},
    )


def _table(schedule: FeeSchedule) -> FeeTable:
    tiers = sorted(schedule.tiers.all(), key=lambda t: t.up_to_minutes)
    return FeeTable(
        schedule.effective_from,
        tuple(FeeTier(t.up_to_minutes, t.price_excluding_tax, t.tax_rate_percent) for t in tiers),
    )


def _schedule_on(day: Any) -> FeeSchedule:
    """The fee schedule in force on `day`, chosen by the pure rule the fee page and the quote
    API use (`fees.table_in_force`)."""
    schedules = {
        schedule.effective_from: schedule
        for schedule in FeeSchedule.objects.prefetch_related("tiers")
        if schedule.tiers.all()
    }
    try:
        table = table_in_force([_table(schedule) for schedule in schedules.values()], day)
    except NoFeeTable:
        raise BillingError(_("No fee table is in force for this date."), "no_fee_table") from None
    return schedules[table.effective_from]


# The charge is opened when the consult completes.


def charge_open(
    *,
    case: Case,
    consult_id: int,
    review_seconds: int,
    call_seconds: int,
    ended_at: datetime,
    actor: User | None,
) -> Charge | None:
    """Open the fee of a completed consult, inside the transaction that completed it (the case
    row is locked by the caller). A second call for the same case returns the first charge.

    0 billable minutes wait for a staff decision; a card on file of an online consult is charged
    by a task after the commit; otherwise the fee is paid at the hospital."""
    existing = Charge.objects.filter(case=case).first()
    if existing is not None:
        return existing
    try:
        schedule = _schedule_on(ended_at.astimezone(JST).date())
    except BillingError:
        # The consult still ends; the billing desk lists the case until a fee table is entered.
        logger.error("no fee table in force: case %s has no charge yet", case.pk)
        audit_record(
            action=AuditAction.UPDATE,
            user=actor,
            case_id=case.pk,
            obj=case,
            detail={"charge": "no_fee_table"},
        )
        return None
    fee = quote_minutes(billable_minutes(review_seconds, call_seconds), _table(schedule))
    card = live_card(case) if case.mode == Mode.ONLINE and providers.takes_cards() else None
    if fee.billable_minutes == 0:
        state = ChargeState.NEEDS_DECISION
    elif card is not None:
        state = ChargeState.PENDING
    else:
        state = ChargeState.AT_DESK
    charge = Charge.objects.create(
        case=case,
        consult_id=consult_id,
        state=state,
        provider=card.provider if card else Provider.DESK,
        card=card,
        schedule=schedule,
        review_seconds=review_seconds,
        call_seconds=call_seconds,
        billable_minutes=fee.billable_minutes,
        tier=fee.tier,
        amount=fee.amount_jpy,
        tax=fee.tax_jpy,
        tax_rate_percent=fee.tax_rate_percent,
        over_limit=fee.over_limit,
        created_at=_now(),
    )
    audit_record(
        action=AuditAction.CREATE,
        user=actor,
        case_id=case.pk,
        obj=charge,
        detail={
            "state": state,
            "minutes": fee.billable_minutes,
            "tier": fee.tier,
            "amount": fee.amount_jpy,
            "over_limit": fee.over_limit,
            "schedule": schedule.effective_from.isoformat(),
        },
    )
    if state == ChargeState.PENDING:
        _send_after_commit(charge.pk)
    return charge


@transaction.atomic
def charge_open_missing(*, case_id: int, actor: User, request: HttpRequest | None = None) -> Charge:
    """Open the charge of a completed consult that had none (no fee table was in force when it
    ended): billing staff do it once the table is entered."""
    _require_billing(actor)
    case = _case_lock(case_id)
    if Charge.objects.filter(case=case).exists():
        raise BillingError(_("This case already has a charge."), "exists")
    consult = case.consults.filter(ended_at__isnull=False).order_by("-ended_at").first()
    if consult is None:
        raise BillingError(_("This case has no completed consult."), "no_consult")
    charge = charge_open(
        case=case,
        consult_id=consult.pk,
        review_seconds=consult.review_seconds,
        call_seconds=consult.call_seconds,
        ended_at=consult.ended_at,
        actor=actor,
    )
    if charge is None:
        raise BillingError(_("No fee table is in force for this date."), "no_fee_table")
    return charge


def _send_after_commit(charge_id: int, delay_seconds: int = 0) -> None:
    from opiniondesk.billing import tasks

    tasks.enqueue_send(charge_id, delay_seconds)


# The card charge: a try is recorded, sent, and its answer recorded, in three steps.


def _open_attempt(charge: Charge) -> ChargeAttempt | None:
    return charge.attempts.filter(
        state__in=[AttemptState.SENT, AttemptState.REQUIRES_ACTION]
    ).first()


@transaction.atomic
def _attempt_begin(charge_id: int, actor: User | None) -> ChargeAttempt | None:
    """The try to send: the one left open by a try that was cut off (same key), or a new one.
    None when the charge is not for the card now."""
    _case, charge = _charge_lock(charge_id)
    if charge.state not in (ChargeState.PENDING, ChargeState.PROCESSING):
        return None
    attempt = _open_attempt(charge)
    if attempt is not None:
        if attempt.state != AttemptState.SENT:
            return None
        attempt.sends += 1
        attempt.save(update_fields=["sends"])
        return attempt
    if charge.card is None or charge.card.removed_at is not None:
        charge.card = live_card(charge.case)
    if charge.card is None:
        charge.state = ChargeState.FAILED
        charge.failure_message = str(_("No card is registered."))
        charge.save(update_fields=["state", "card", "failure_message"])
        _audit(charge, actor, None, failure="no_card")
        transaction.on_commit(lambda: signals.charge_failed.send(Charge, charge=charge))
        return None
    number = charge.attempts.count() + 1
    attempt = ChargeAttempt.objects.create(
        charge=charge,
        number=number,
        idempotency_key=_key(f"charge-{charge.pk}-{number}"),
        state=AttemptState.SENT,
        started_at=_now(),
        started_by=actor,
    )
    charge.state, charge.provider = ChargeState.PROCESSING, charge.card.provider
    charge.save(update_fields=["state", "provider", "card"])
    _audit(charge, actor, None, attempt=number)
    return attempt


def charge_send(charge_id: int, *, attempt_begin: Callable[..., Any] | None = None) -> str:
    """Send the card charge (the task's body). Safe to run any number of times, at once too:
    every run of one try uses its key. Returns the charge's state afterwards."""
    attempt = (attempt_begin or _attempt_begin)(charge_id, None)
    if attempt is None:
        return str(Charge.objects.values_list("state", flat=True).get(pk=charge_id))
    provider = providers.card_provider()
    if provider is None:  # the card provider was taken out of the settings: staff decide
        failed = PaymentResult(PaymentStatus.FAILED, "", str(_("No card provider is configured.")))
        return payment_update(attempt_id=attempt.pk, result=failed)
    card = attempt.charge.card
    try:
        result = provider.charge(
            amount=attempt.charge.amount,
            customer_ref=card.customer_ref,
            method_ref=card.method_ref,
            idempotency_key=attempt.idempotency_key,
            description=RECEIPT_DESCRIPTION,
            metadata={"case": str(attempt.charge.case_id), "charge": str(charge_id)},
        )
    except ProviderUnavailable:
        return _resend_later(charge_id, attempt.pk)
    return payment_update(attempt_id=attempt.pk, result=result)


def _resend_later(charge_id: int, attempt_id: int) -> str:
    """The provider was not reached or failed on its side: the try stays open and is sent
    again later with the same key (a few times, further apart); after that billing staff see it
    as with the card company and send it again themselves."""
    sends = ChargeAttempt.objects.values_list("sends", flat=True).get(pk=attempt_id)
    if sends <= len(RESEND_AFTER_SECONDS):
        from opiniondesk.billing import tasks

        tasks.enqueue_send(charge_id, RESEND_AFTER_SECONDS[sends - 1])
    return ChargeState.PROCESSING


@transaction.atomic
def payment_update(*, attempt_id: int, result: PaymentResult) -> str:
    """Record the provider's answer for a try (from the task, a webhook, or a check). An answer
    for a try already finished changes nothing."""
    charge_id = ChargeAttempt.objects.values_list("charge_id", flat=True).get(pk=attempt_id)
    case, charge = _charge_lock(charge_id)
    attempt = ChargeAttempt.objects.select_for_update().get(pk=attempt_id)
    if attempt.state in (AttemptState.SUCCEEDED, AttemptState.FAILED):
        return charge.state
    if result.reference:
        attempt.reference = result.reference
    if result.status is PaymentStatus.PROCESSING:
        attempt.save(update_fields=["reference"])
        return charge.state
    now = _now()
    if result.status is PaymentStatus.SUCCEEDED:
        attempt.state, attempt.finished_at = AttemptState.SUCCEEDED, now
        attempt.save(update_fields=["state", "reference", "finished_at"])
        if charge.state in SETTLED_STATES:
            # Paid at the provider after staff settled it otherwise: shown to billing staff.
            _audit(charge, None, None, attempt=attempt.number, late_payment=result.reference)
            return charge.state
        charge.state, charge.failure_message = ChargeState.PAID, ""
        _settle(case, charge, None, None, fields=["failure_message"])
        return charge.state
    if result.status is PaymentStatus.REQUIRES_ACTION:
        attempt.state, attempt.message = AttemptState.REQUIRES_ACTION, result.message
        attempt.save(update_fields=["state", "reference", "message"])
        charge.state = ChargeState.REQUIRES_ACTION
        charge.failure_message = result.message or str(
            _("The card company asks the cardholder to confirm the payment.")
        )
    else:
        attempt.state, attempt.finished_at = AttemptState.FAILED, now
        attempt.message = result.message
        attempt.save(update_fields=["state", "reference", "message", "finished_at"])
        charge.state = ChargeState.FAILED
        charge.failure_message = result.message or str(_("The card company refused the charge."))
    charge.save(update_fields=["state", "failure_message"])
    _audit(charge, None, None, attempt=attempt.number, code=result.code)
    transaction.on_commit(lambda: signals.charge_failed.send(Charge, charge=charge))
    return charge.state


def payment_check(*, charge_id: int) -> str:
    """Ask the provider about the open try (the payer confirmed on our page, or a webhook was
    lost): records its answer."""
    charge = Charge.objects.get(pk=charge_id)
    attempt = _open_attempt(charge)
    provider = providers.card_provider()
    if attempt is None or not attempt.reference or provider is None:
        return charge.state
    try:
        result = provider.payment_status(reference=attempt.reference)
    except ProviderUnavailable:
        return charge.state
    return payment_update(attempt_id=attempt.pk, result=result)


def webhook_receive(*, provider_name: str, payload: bytes, signature: str) -> bool:
    """A provider's event: verified by its signature (raises `WebhookRejected`), applied once.
    False for an event already received."""
    provider = providers.card_provider()
    if provider is None or provider.name != provider_name:
        from opiniondesk.billing.providers.base import WebhookRejected

        raise WebhookRejected("no such provider is configured")
    update: WebhookUpdate = provider.parse_webhook(payload=payload, signature=signature)
    # The event is recorded in the transaction that applies it: if applying fails, the provider's
    # next delivery of the same event is applied instead of being taken for a repeat.
    with transaction.atomic():
        _event, created = WebhookEvent.objects.get_or_create(
            provider=provider_name,
            event_id=update.event_id,
            defaults={"kind": update.kind, "received_at": _now()},
        )
        if not created or update.payment is None or not update.payment.reference:
            return created
        attempt = ChargeAttempt.objects.filter(reference=update.payment.reference).first()
        if attempt is None:
            key = update.metadata.get("idempotency_key", "")
            attempt = ChargeAttempt.objects.filter(idempotency_key=key).first() if key else None
        if attempt is not None:
            payment_update(attempt_id=attempt.pk, result=update.payment)
    return True


# What billing staff decide and record.


@transaction.atomic
def charge_retry(*, charge_id: int, actor: User, request: HttpRequest | None = None) -> Charge:
    """Charge the card again: a failed charge gets a new try (with the card on file now, which
    the patient may have replaced); a try still open is sent again with its own key."""
    _require_billing(actor)
    case, charge = _charge_lock(charge_id)
    if charge.state == ChargeState.FAILED:
        card = live_card(case)
        if card is None:
            raise BillingError(_("No card is registered for this case."), "no_card")
        charge.state, charge.card, charge.provider = ChargeState.PENDING, card, card.provider
        charge.save(update_fields=["state", "card", "provider"])
    elif charge.state not in (ChargeState.PROCESSING, ChargeState.PENDING):
        raise BillingError(_("This charge cannot be sent to the card now."), "state")
    _audit(charge, actor, request, retry=True)
    _send_after_commit(charge.pk)
    return charge


def _cancel_open_attempt(charge: Charge) -> None:
    """Before the fee is settled otherwise, the card try waiting for the payer is cancelled at
    the provider, so it can never be paid as well."""
    attempt = _open_attempt(charge)
    if attempt is None:
        return
    if attempt.state == AttemptState.SENT:
        raise BillingError(
            _("The card company has not answered yet. Check the charge again first."), "in_flight"
        )
    provider = providers.card_provider()
    if provider is not None and attempt.reference:
        try:
            provider.cancel_payment(reference=attempt.reference)
        except ProviderUnavailable as exc:
            raise BillingError(
                _("The card company could not be reached. Try again later."), "unavailable"
            ) from exc
    attempt.state, attempt.finished_at = AttemptState.FAILED, _now()
    attempt.message = "cancelled: settled otherwise"
    attempt.save(update_fields=["state", "finished_at", "message"])


@transaction.atomic
def to_desk(
    *, charge_id: int, actor: User, reason: str, request: HttpRequest | None = None
) -> Charge:
    """The fee will be paid at the hospital instead of by card."""
    _require_billing(actor)
    reason = _reason(reason)
    _case, charge = _charge_lock(charge_id)
    if charge.state not in (
        ChargeState.PENDING,
        ChargeState.FAILED,
        ChargeState.REQUIRES_ACTION,
    ):
        raise BillingError(_("This charge cannot be moved to the hospital desk."), "state")
    _cancel_open_attempt(charge)
    charge.state, charge.provider, charge.decision_reason = (
        ChargeState.AT_DESK,
        Provider.DESK,
        reason,
    )
    charge.save(update_fields=["state", "provider", "decision_reason"])
    _audit(charge, actor, request, reason=reason)
    return charge


@transaction.atomic
def collect(
    *,
    charge_id: int,
    actor: User,
    method: str,
    request: HttpRequest | None = None,
) -> Charge:
    """Billing staff record the fee as paid at the hospital (cash, terminal, bank transfer)."""
    _require_billing(actor)
    if method not in CollectMethod.values:
        raise BillingError(_("Choose how the fee was paid."), "method")
    case, charge = _charge_lock(charge_id)
    if charge.state not in (ChargeState.AT_DESK, ChargeState.FAILED, ChargeState.REQUIRES_ACTION):
        raise BillingError(_("This fee cannot be recorded as paid now."), "state")
    _cancel_open_attempt(charge)
    charge.state, charge.provider, charge.collect_method = (
        ChargeState.COLLECTED,
        Provider.DESK,
        method,
    )
    _settle(case, charge, actor, request, fields=["provider", "collect_method"])
    return charge


@transaction.atomic
def waive(
    *, charge_id: int, actor: User, reason: str, request: HttpRequest | None = None
) -> Charge:
    """No fee is taken (a 0-minute consult, a consult the hospital cut short): needs a reason."""
    _require_billing(actor)
    reason = _reason(reason)
    case, charge = _charge_lock(charge_id)
    if charge.state in SETTLED_STATES or charge.state == ChargeState.PROCESSING:
        raise BillingError(_("This fee cannot be waived now."), "state")
    _cancel_open_attempt(charge)
    charge.state, charge.decision_reason = ChargeState.WAIVED, reason
    _settle(case, charge, actor, request, fields=["decision_reason"])
    return charge


@transaction.atomic
def bill_zero_minutes(
    *, charge_id: int, actor: User, reason: str, request: HttpRequest | None = None
) -> Charge:
    """A staff decision to charge a consult of 0 billable minutes at the first tier (to charge
    nothing, waive it)."""
    _require_billing(actor)
    reason = _reason(reason)
    case, charge = _charge_lock(charge_id)
    if charge.state != ChargeState.NEEDS_DECISION:
        raise BillingError(_("This charge needs no decision."), "state")
    fee = quote_minutes(1, _table(charge.schedule))
    card = live_card(case) if case.mode == Mode.ONLINE and providers.takes_cards() else None
    charge.tier, charge.amount, charge.tax = fee.tier, fee.amount_jpy, fee.tax_jpy
    charge.tax_rate_percent, charge.decision_reason = fee.tax_rate_percent, reason
    charge.card = card
    charge.state = ChargeState.PENDING if card else ChargeState.AT_DESK
    charge.provider = card.provider if card else Provider.DESK
    charge.save(
        update_fields=[
            "tier",
            "amount",
            "tax",
            "tax_rate_percent",
            "decision_reason",
            "card",
            "state",
            "provider",
        ]
    )
    _audit(charge, actor, request, reason=reason, amount=charge.amount)
    if card is not None:
        _send_after_commit(charge.pk)
    return charge


def _settle(
    case: Case,
    charge: Charge,
    actor: User | None,
    request: HttpRequest | None,
    *,
    fields: list[str],
) -> None:
    charge.settled_at, charge.settled_by = _now(), actor
    charge.save(update_fields=["state", "settled_at", "settled_by", *fields])
    _audit(charge, actor, request, amount=charge.amount)
    if charge.state != ChargeState.WAIVED and charge.amount > 0:
        _receipt_issue(charge, ReceiptKind.ORIGINAL, None)
    signals.fee_settled.send(Charge, charge=charge, case=case, actor=actor, request=request)


# Refunds (SPEC §8): through the provider for a card, recorded for money given back at the desk.


def refundable(charge: Charge) -> int:
    sent = sum(r.amount for r in charge.refunds.all() if r.state == RefundState.SENT)
    return charge.amount - charge.refunded - sent


CLIENT_KEY = re.compile(r"[A-Za-z0-9._:-]{1,64}")


@transaction.atomic
def _refund_begin(
    charge_id: int, actor: User, amount: int, reason: str, client_key: str = ""
) -> Refund:
    _require_billing(actor)
    reason = _reason(reason)
    if client_key and not CLIENT_KEY.fullmatch(client_key):
        raise BillingError(
            _("An idempotency key is 1 to 64 letters, digits or . _ : -"), "idempotency_key"
        )
    _case, charge = _charge_lock(charge_id)
    key = f"opiniondesk-refund-{charge.pk}-client-{client_key}" if client_key else ""
    if key:
        earlier = Refund.objects.filter(idempotency_key=key).first()
        if earlier is not None:  # the same request again (a retry after a timeout)
            if (earlier.amount, earlier.reason) != (amount, reason):
                raise BillingError(
                    _("This idempotency key was used for another refund."), "idempotency_conflict"
                )
            return earlier
    if charge.state not in (ChargeState.PAID, ChargeState.COLLECTED):
        raise BillingError(_("Only a paid fee can be refunded."), "state")
    if not isinstance(amount, int) or amount <= 0:
        raise BillingError(_("Enter an amount of 1 yen or more."), "amount")
    if amount > refundable(charge):
        raise BillingError(
            _("At most ¥%(amount)s can be refunded.") % {"amount": f"{refundable(charge):,}"},
            "amount",
        )
    return Refund.objects.create(
        charge=charge,
        amount=amount,
        reason=reason,
        state=RefundState.SENT,
        idempotency_key=key or _key(f"refund-{charge.pk}"),
        made_by=actor,
        made_at=_now(),
    )


def refund(
    *,
    charge_id: int,
    actor: User,
    amount: int,
    reason: str,
    request: HttpRequest | None = None,
    client_key: str = "",
) -> Refund:
    """Give back all or part of a paid fee; a corrected receipt replaces the last one. A
    `client_key` (a system's Idempotency-Key) makes a repeated request answer with the refund it
    already made (or send that one again while the card company has not answered)."""
    pending = _refund_begin(charge_id, actor, amount, reason, client_key)
    if pending.state != RefundState.SENT:
        return pending
    return _refund_send(pending, actor, request)


def refund_resend(*, refund_id: int, actor: User, request: HttpRequest | None = None) -> Refund:
    """Send again a refund the provider did not answer (same key: never refunded twice)."""
    _require_billing(actor)
    pending = Refund.objects.get(pk=refund_id)
    if pending.state != RefundState.SENT:
        raise BillingError(_("This refund is not waiting for the card company."), "state")
    return _refund_send(pending, actor, request)


def _refund_send(pending: Refund, actor: User, request: HttpRequest | None) -> Refund:
    charge = pending.charge
    reference, message = "", ""
    if charge.provider != Provider.DESK:
        paid = charge.attempts.filter(state=AttemptState.SUCCEEDED).first()
        provider = providers.card_provider()
        if paid is None or provider is None:
            message = str(_("The card payment cannot be found at the card company."))
        else:
            try:
                reference = provider.refund(
                    reference=paid.reference,
                    amount=pending.amount,
                    idempotency_key=pending.idempotency_key,
                    reason=pending.reason,
                ).reference
            except ProviderUnavailable as exc:
                raise BillingError(
                    _("The card company could not be reached. Send the refund again later."),
                    "unavailable",
                ) from exc
            except CardRefused as exc:
                message = exc.message
    return _refund_finish(pending.pk, actor, request, reference, message)


@transaction.atomic
def _refund_finish(
    refund_id: int, actor: User, request: HttpRequest | None, reference: str, message: str
) -> Refund:
    charge_id = Refund.objects.values_list("charge_id", flat=True).get(pk=refund_id)
    _case, charge = _charge_lock(charge_id)
    pending = Refund.objects.select_for_update().get(pk=refund_id)
    if pending.state != RefundState.SENT:
        return pending
    if message:
        pending.state, pending.message = RefundState.FAILED, message
        pending.save(update_fields=["state", "message"])
        _audit(charge, actor, request, refund=pending.amount, refused=message)
        return pending
    pending.state, pending.reference = RefundState.DONE, reference
    pending.save(update_fields=["state", "reference"])
    charge.refunded += pending.amount
    charge.save(update_fields=["refunded"])
    audit_record(
        action=AuditAction.UPDATE,
        user=actor,
        request=request,
        case_id=charge.case_id,
        obj=charge,
        detail={"refund": pending.amount, "reason": pending.reason, "refunded": charge.refunded},
    )
    last = charge.receipts.filter(corrected_by__isnull=True).order_by("-number").first()
    if last is not None:
        _receipt_issue(charge, ReceiptKind.CORRECTED, last)
    return pending


# Receipts (領収書, SPEC §11.17): numbered without gaps, never reused.


def _method_words(charge: Charge) -> str:
    if charge.state == ChargeState.PAID and charge.card is not None:
        card = " ".join(
            part for part in (charge.card.brand.upper(), f"****{charge.card.last4}") if part
        )
        return f"クレジットカード（{card}）"
    return {
        CollectMethod.CASH: "現金",
        CollectMethod.TERMINAL: "クレジットカード（院内端末）",
        CollectMethod.TRANSFER: "銀行振込",
    }.get(charge.collect_method, "")


def _receipt_issue(charge: Charge, kind: ReceiptKind, corrects: Receipt | None) -> Receipt:
    counter, _created = ReceiptCounter.objects.get_or_create(pk=1)
    counter = ReceiptCounter.objects.select_for_update().get(pk=1)
    number = counter.next_number
    counter.next_number = number + 1
    counter.save(update_fields=["next_number"])
    amount = charge.amount - charge.refunded
    tax = charge.tax if amount == charge.amount else tax_within(amount, charge.tax_rate_percent)
    now = _now()
    hospital = settings.HOSPITAL
    receipt = Receipt.objects.create(
        number=number,
        charge=charge,
        kind=kind,
        corrects=corrects,
        issued_at=now,
        issued_on=now.astimezone(JST).date(),
        payer_name=charge.case.patient_name,
        description=RECEIPT_DESCRIPTION,
        amount=amount,
        tax=tax,
        tax_rate_percent=charge.tax_rate_percent,
        method=_method_words(charge),
        issuer_name=hospital["name"],
        issuer_address=f"〒{hospital['postal_code']} {hospital['address']}",
        issuer_phone=hospital["phone"],
        registration_number=normalise(hospital["invoice_number"]),
    )
    audit_record(
        action=AuditAction.CREATE,
        case_id=charge.case_id,
        obj=receipt,
        detail={"number": number, "kind": kind, "amount": amount},
    )
    return receipt


@transaction.atomic
def receipt_downloaded(
    *, receipt_id: int, user: User, request: HttpRequest | None = None
) -> tuple[Receipt, bool]:
    """Record a download (audited). Returns the receipt and whether this copy is a reissue
    (再発行): every copy after the first is."""
    receipt = Receipt.objects.select_for_update().get(pk=receipt_id)
    reissue = receipt.first_downloaded_at is not None
    if not reissue:
        receipt.first_downloaded_at = _now()
        receipt.save(update_fields=["first_downloaded_at"])
    audit_record(
        action=AuditAction.DOWNLOAD,
        user=user,
        request=request,
        case_id=receipt.charge.case_id,
        obj=receipt,
        detail={"number": receipt.number, "reissue": reissue},
    )
    return receipt, reissue


# The card on file (SPEC §6): registered by the payer through the provider's own form.


def card_setup_start(*, case: Case, user: User) -> Any:
    """Start registering a card for the case: the provider's references for the browser."""
    provider = providers.card_provider()
    if provider is None:
        raise BillingError(
            _("Cards are not taken: the fee is paid at the hospital."), "no_provider"
        )
    customer_ref = (
        CardOnFile.objects.filter(case=case, provider=provider.name)
        .values_list("customer_ref", flat=True)
        .first()
        or ""
    )
    try:
        return provider.card_setup(
            customer_ref=customer_ref,
            email=user.email,
            name=case.patient_name,
            case_id=case.pk,
        )
    except ProviderUnavailable as exc:
        raise BillingError(
            _("The card company could not be reached. Please try again in a few minutes."),
            "unavailable",
        ) from exc


@transaction.atomic
def card_save(
    *, case_id: int, setup_ref: str, user: User, request: HttpRequest | None = None
) -> CardOnFile:
    """Keep the card the payer's browser registered (`setup_ref` from `card_setup_start`): it
    replaces the previous one. A charge that failed is charged again to the new card."""
    provider = providers.card_provider()
    if provider is None:
        raise BillingError(
            _("Cards are not taken: the fee is paid at the hospital."), "no_provider"
        )
    try:
        saved = provider.saved_card(setup_ref=setup_ref)
    except ProviderUnavailable as exc:
        raise BillingError(
            _("The card company could not be reached. Please try again in a few minutes."),
            "unavailable",
        ) from exc
    except CardRefused as exc:
        raise BillingError(exc.message, "card_refused") from exc
    case = _case_lock(case_id)
    now = _now()
    CardOnFile.objects.filter(case=case, removed_at__isnull=True).update(removed_at=now)
    card = CardOnFile.objects.create(
        case=case,
        provider=provider.name,
        customer_ref=saved.customer_ref,
        method_ref=saved.method_ref,
        brand=saved.brand,
        last4=saved.last4,
        exp_month=saved.exp_month,
        exp_year=saved.exp_year,
        saved_by=user,
        saved_at=now,
    )
    audit_record(
        action=AuditAction.CREATE,
        user=user,
        request=request,
        case_id=case.pk,
        obj=card,
        detail={"brand": saved.brand, "last4": saved.last4},
    )
    charge = Charge.objects.select_for_update().filter(case=case).first()
    if charge is not None and charge.state == ChargeState.FAILED:
        charge.state, charge.card, charge.provider = ChargeState.PENDING, card, card.provider
        charge.save(update_fields=["state", "card", "provider"])
        _audit(charge, user, request, new_card=True)
        _send_after_commit(charge.pk)
    return card
