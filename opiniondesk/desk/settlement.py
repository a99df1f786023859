"""What billing's signals do above it: a settled fee moves the case `completed → charged`
through the lifecycle, and on to `closed` when the opinion has already been delivered; a failed
card charge tells the patient side how to fix the card."""

from typing import Any

from django.urls import reverse

from opiniondesk.billing.models import Charge, ChargeState
from opiniondesk.cases.lifecycle import case_transition
from opiniondesk.cases.notifications import to_patient_side
from opiniondesk.cases.workflow import Status
from opiniondesk.opinions.selectors import delivered


def on_fee_settled(
    sender: Any, *, charge: Charge, case: Any, actor: Any, request: Any, **_: Any
) -> None:
    if case.status != Status.COMPLETED:
        return  # settled again after a correction: the case has moved on
    case_transition(
        case=case,
        to=Status.CHARGED,
        actor=actor,
        request=request,
        reason=charge.decision_reason if charge.state == ChargeState.WAIVED else "",
        detail={"charge": charge.pk, "state": charge.state, "amount": charge.amount},
    )
    if delivered(case):  # the opinion reached the physician before the fee was settled
        case_transition(
            case=case, to=Status.CLOSED, actor=None, request=request, detail={"charge": charge.pk}
        )


def on_charge_failed(sender: Any, *, charge: Charge, **_: Any) -> None:
    """Sent after the commit: the patient side learns how to fix the card, or to confirm it."""
    charge = Charge.objects.select_related("case__applicant", "case__patient_account").get(
        pk=charge.pk
    )
    if charge.state not in (ChargeState.FAILED, ChargeState.REQUIRES_ACTION):
        return
    to_patient_side(
        charge.case,
        "billing/email/charge_failed",
        {
            "charge": charge,
            "confirm": charge.state == ChargeState.REQUIRES_ACTION,
            "url": reverse("case-detail", args=[charge.case_id]),
        },
    )
