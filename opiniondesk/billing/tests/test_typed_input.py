"""Japanese input as typed in the billing staff's forms (SPEC §13, #16 item 1): an amount in
any width, a reason as typed; too long is refused in Japanese, never cut."""

import pytest

from opiniondesk.billing.services import MAX_REASON
from opiniondesk.billing.staff_forms import ReasonForm, RefundForm
from opiniondesk.testing.typed_input import TEXTS, too_long_in_japanese


@pytest.mark.parametrize(
    ("typed", "amount"), [("５５００", 5500), ("￥１，０００", 1000), ("3,300円", 3300)]
)
def test_a_refund_takes_the_amount_as_typed(typed, amount):
    form = RefundForm({"amount": typed, "reason": "返金", "confirm": "on"})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["amount"] == amount


@pytest.mark.parametrize(("typed", "stored"), TEXTS)
def test_a_reason_keeps_what_was_typed(typed, stored):
    form = ReasonForm({"reason": typed})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["reason"] == stored


def test_a_reason_too_long_is_refused_in_japanese():
    form = ReasonForm({"reason": "返" * (MAX_REASON + 1)})
    too_long_in_japanese(form, "reason", MAX_REASON, MAX_REASON + 1)
