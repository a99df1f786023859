"""Japanese input as typed in the coordinator's correction of an application (SPEC §13, #16
item 1): numbers and addresses in any width are stored in one form, names as typed; too long is
refused in Japanese, never cut."""

import pytest

from opiniondesk.cases.workflow import Status
from opiniondesk.records.forms import ApplicationCorrectForm
from opiniondesk.testing.builders import case_in
from opiniondesk.testing.typed_input import (
    ADDRESSES,
    NAMES,
    PHONES,
    POSTAL_CODES,
    too_long_in_japanese,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(seeded):
    return case_in(Status.SCREENING)


def correction(case, **changes):
    data = {name: getattr(case, name) or "" for name in ApplicationCorrectForm.Meta.fields}
    data["patient_birth_date"] = case.patient_birth_date.isoformat()
    data |= {"reason": "電話で確認", "seen_revisions": "0", **changes}
    return ApplicationCorrectForm(data, case=case)


@pytest.mark.parametrize(
    ("field", "typed", "stored"),
    [
        *[("patient_phone", typed, stored) for typed, stored in PHONES],
        *[("physician_phone", typed, stored) for typed, stored in PHONES[:2]],
        *[("patient_postal_code", typed, stored) for typed, stored in POSTAL_CODES],
        *[("patient_address", typed, stored) for typed, stored in ADDRESSES],
        *[("patient_given_name", typed, stored) for typed, stored in NAMES],
    ],
)
def test_a_correction_is_stored_in_one_form(case, field, typed, stored):
    form = correction(case, **{field: typed})
    assert form.is_valid(), form.errors
    assert form.values()[field] == stored


@pytest.mark.parametrize(
    ("field", "limit"),
    [("patient_family_name", 50), ("patient_address", 200), ("reason", 2000)],
)
def test_a_correction_too_long_is_refused_in_japanese(case, field, limit):
    form = correction(case, **{field: "訂" * (limit + 1)})
    too_long_in_japanese(form, field, limit, limit + 1)
