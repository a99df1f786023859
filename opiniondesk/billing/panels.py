"""What the patient's case page shows of the fee: its state in plain words, what to do when the
card did not work, the amount and the receipts. Built from the charge row; `desk` composes it."""

from typing import Any

from django.utils.translation import gettext as _

from opiniondesk.billing import providers
from opiniondesk.billing.models import Charge, ChargeState, CollectMethod, Receipt, ReceiptKind
from opiniondesk.billing.wording import japanese_date, receipt_number_text, yen
from opiniondesk.cases.models import Case


def _paid_at_desk(charge: Charge) -> str:
    how = (
        {
            CollectMethod.CASH: _("cash"),
            CollectMethod.TERMINAL: _("card at the hospital"),
            CollectMethod.TRANSFER: _("bank transfer"),
        }.get(CollectMethod(charge.collect_method))
        if charge.collect_method
        else None
    )
    return _("Paid (%(method)s)") % {"method": how} if how else _("Paid at the hospital")


def state_text(charge: Charge) -> str:
    """The charge's state in the words of the patient."""
    return {
        ChargeState.NEEDS_DECISION: _("The hospital is confirming the fee for this consult."),
        ChargeState.PENDING: _("Being charged to your registered card."),
        ChargeState.PROCESSING: _("Being charged to your registered card."),
        ChargeState.REQUIRES_ACTION: _("Your card company asks you to confirm the payment."),
        ChargeState.FAILED: _("The payment by card could not be made."),
        ChargeState.AT_DESK: _("Please pay at the hospital's desk."),
        ChargeState.PAID: _("Paid (card)"),
        ChargeState.WAIVED: _("No fee is charged for this consult."),
    }.get(ChargeState(charge.state)) or _paid_at_desk(charge)


def _receipt_row(receipt: Receipt) -> dict[str, Any]:
    replaced_by = getattr(receipt, "corrected_by", None)
    return {
        "pk": receipt.pk,
        "number": receipt_number_text(receipt.number),
        "issued_on": japanese_date(receipt.issued_on),
        "amount": yen(receipt.amount),
        "corrected": receipt.kind == ReceiptKind.CORRECTED,
        "replaced_by": receipt_number_text(replaced_by.number) if replaced_by else "",
    }


def patient_fee_panel(case: Case) -> dict[str, Any]:
    """The fee section of the patient's case page; `fee` is None while there is no charge."""
    charge = Charge.objects.filter(case=case).first()
    if charge is None:
        return {"fee": None}
    receipts = Receipt.objects.filter(charge=charge).select_related("corrected_by")
    return {
        "fee": {
            "charge": charge,
            "state": charge.state,
            "state_text": state_text(charge),
            "failed": charge.state == ChargeState.FAILED,
            "requires_action": charge.state == ChargeState.REQUIRES_ACTION,
            "at_desk": charge.state == ChargeState.AT_DESK,
            "message": charge.failure_message
            if charge.state in (ChargeState.FAILED, ChargeState.REQUIRES_ACTION)
            else "",
            "shows_amount": charge.state != ChargeState.WAIVED,
            "amount": yen(charge.amount),
            "tax": yen(charge.tax),
            "refunded": yen(charge.refunded),
            "receipts": [_receipt_row(receipt) for receipt in receipts],
        },
        "card_provider": providers.takes_cards(),
    }
