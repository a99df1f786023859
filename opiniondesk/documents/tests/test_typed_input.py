"""Japanese input as typed with an upload (SPEC §13, #16 item 1): the note keeps what was typed;
too long is refused in Japanese, never cut."""

import pytest

from opiniondesk.cases.workflow import Status
from opiniondesk.documents.forms import UploadForm
from opiniondesk.testing.builders import case_in
from opiniondesk.testing.typed_input import TEXTS, too_long_in_japanese

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(seeded):
    return case_in(Status.AWAITING_DOCUMENTS)


@pytest.mark.parametrize(("typed", "stored"), TEXTS)
def test_a_note_keeps_what_was_typed(case, typed, stored):
    form = UploadForm({"kind": "referral_letter", "note": typed}, case=case)
    form.is_valid()
    assert form.cleaned_data["note"] == stored


def test_a_note_too_long_is_refused_in_japanese(case):
    form = UploadForm({"kind": "referral_letter", "note": "メ" * 201}, case=case)
    too_long_in_japanese(form, "note", 200, 201)
