"""Japanese input as typed in the opinion's delivery details (SPEC §13, #16 item 1): the
doctor's postal code, address, fax and e-mail in any width are kept in one form; too long is
refused in Japanese, never cut."""

import pytest

from opiniondesk.opinions.forms import CorrectionForm, DeliveryDetailsForm
from opiniondesk.testing.typed_input import (
    ADDRESSES,
    EMAILS,
    PHONES,
    POSTAL_CODES,
    TEXTS,
    too_long_in_japanese,
)


@pytest.mark.parametrize(
    ("field", "typed", "stored"),
    [
        *[("postal_code", typed, stored) for typed, stored in POSTAL_CODES],
        *[("address", typed, stored) for typed, stored in ADDRESSES],
        *[("fax", typed, stored) for typed, stored in PHONES],
        *[("email", typed, stored) for typed, stored in EMAILS],
    ],
)
def test_the_delivery_details_are_kept_in_one_form(field, typed, stored):
    form = DeliveryDetailsForm({field: typed})
    assert form.is_valid(), form.errors
    assert form.cleaned_data[field] == stored


@pytest.mark.parametrize(
    ("field", "limit"), [("address", 200), ("postal_code", 10), ("fax", 20), ("email", 254)]
)
def test_a_delivery_detail_too_long_is_refused_in_japanese(field, limit):
    typed = "見" * (limit + 1) if field == "address" else "１" * (limit + 1)
    too_long_in_japanese(DeliveryDetailsForm({field: typed}), field, limit, limit + 1)


@pytest.mark.parametrize(("typed", "stored"), TEXTS)
def test_a_correction_reason_keeps_what_was_typed(typed, stored):
    form = CorrectionForm({"reason": typed})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["reason"] == stored
