"""Japanese input as typed in the coordinator's scheduling forms (SPEC §13, #16 item 1): the
messages, reasons and notes keep what was typed; too long is refused in Japanese, never cut."""

import pytest

from opiniondesk.scheduling.staff_forms import (
    AwayForm,
    BookingCancelForm,
    BookingChangeForm,
    ExtraSessionForm,
    OfferForm,
    OfferWithdrawForm,
)
from opiniondesk.testing.typed_input import TEXTS, too_long_in_japanese

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("form_class", "field", "limit"),
    [
        (OfferForm, "message", 2000),
        (OfferWithdrawForm, "withdraw_reason", 1000),
        (BookingChangeForm, "change_reason", 1000),
        (AwayForm, "note", 200),
        (ExtraSessionForm, "note", 200),
    ],
)
def test_a_scheduling_text_too_long_is_refused_in_japanese(form_class, field, limit):
    form = form_class({field: "予" * (limit + 1)})
    too_long_in_japanese(form, field, limit, limit + 1)


def test_a_cancellation_reason_too_long_is_refused_in_japanese():
    form = BookingCancelForm({})
    (field,) = [name for name in form.fields if "reason" in name]
    limit = form.fields[field].max_length
    too_long_in_japanese(BookingCancelForm({field: "予" * (limit + 1)}), field, limit, limit + 1)


@pytest.mark.parametrize(("typed", "stored"), TEXTS)
def test_a_message_to_the_patient_keeps_what_was_typed(typed, stored):
    form = OfferForm({"message": typed})
    form.is_valid()
    assert "message" not in form.errors
    assert form.cleaned_data["message"] == stored
