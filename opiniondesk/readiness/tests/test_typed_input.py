"""Japanese input as typed before the consult (SPEC §13, #16 item 1): the signature keeps the
name as typed (the service compares it in one form: name_key, test_services.py); the invitation's
address is taken in either width; a name too long is refused in Japanese, never cut."""

import pytest

from opiniondesk.readiness.forms import ConsentSignForm, InvitationForm
from opiniondesk.testing.typed_input import EMAILS, too_long_in_japanese


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("\u3000山田\u3000花子\u3000", "山田\u3000花子"),
        ("ﾔﾏﾀﾞ ﾊﾅｺ", "ﾔﾏﾀﾞ ﾊﾅｺ"),
        ("Ｙａｍａｄａ Ｈａｎａ", "Ｙａｍａｄａ Ｈａｎａ"),
    ],
)
def test_the_signature_keeps_the_name_as_typed(typed, kept):
    form = ConsentSignForm({"signer_name": typed, "form_version": "2026-04"})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["signer_name"] == kept


def test_a_signature_too_long_is_refused_in_japanese():
    form = ConsentSignForm({"signer_name": "山" * 101, "form_version": "2026-04"})
    too_long_in_japanese(form, "signer_name", 100, 101)


@pytest.mark.parametrize(("typed", "stored"), EMAILS)
def test_the_invitation_takes_the_address_in_either_width(typed, stored):
    form = InvitationForm({"email": typed})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["email"] == stored
