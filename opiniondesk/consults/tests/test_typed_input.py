"""Japanese input as typed when a specialist corrects a measured time (SPEC §13, #16 item 1):
the minutes in any width, the reason as typed; too long is refused in Japanese, never cut."""

from opiniondesk.consults.forms import ReviewCorrectForm
from opiniondesk.testing.typed_input import too_long_in_japanese


def test_the_minutes_and_the_reason_are_read_as_typed():
    form = ReviewCorrectForm(
        {"session": "１", "minutes": "２５", "reason": "\u3000別の患者を診ていた\u3000"}
    )
    assert form.is_valid(), form.errors
    assert (form.cleaned_data["minutes"], form.cleaned_data["reason"]) == (25, "別の患者を診ていた")


def test_a_reason_too_long_is_refused_in_japanese():
    form = ReviewCorrectForm({"session": "1", "minutes": "25", "reason": "理" * 501})
    too_long_in_japanese(form, "reason", 500, 501)
