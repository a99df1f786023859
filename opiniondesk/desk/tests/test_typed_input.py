"""Japanese input as typed on the coordinator's paper and phone application pages (SPEC §13,
#16 item 1): what a caller dictates in any width is stored in one form, names as typed; a value
too long is refused in Japanese and nothing is opened."""

import pytest
from django.test import Client
from django.urls import reverse

from opiniondesk.cases.models import Case
from opiniondesk.desk.paper import HandoverForm, OpenForm, ScanForm
from opiniondesk.testing.typed_input import EMAILS, NAMES, PHONES, too_long_in_japanese

pytestmark = pytest.mark.django_db

CALLER = {
    "channel": "phone",
    "patient_family_name": "架空",
    "patient_given_name": "花子",
    "patient_family_name_kana": "カクウ",
    "patient_given_name_kana": "ハナコ",
    "patient_phone": "090-0000-1234",
}


def _as(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    ("field", "typed", "stored"),
    [
        *[("patient_phone", typed, stored) for typed, stored in PHONES],
        *[("patient_given_name", typed, stored) for typed, stored in NAMES],
        ("patient_family_name_kana", "カクウ\u3000", "カクウ"),
    ],
)
def test_a_case_opened_from_a_call_stores_what_was_dictated_in_one_form(
    coordinator_sato, demo_catalog, policy, field, typed, stored
):
    response = _as(coordinator_sato).post(reverse("staff-paper-open"), CALLER | {field: typed})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert getattr(Case.objects.get(), field) == stored


@pytest.mark.parametrize(
    ("field", "limit"), [("patient_family_name", 50), ("patient_given_name", 50)]
)
def test_a_name_too_long_is_refused_in_japanese_and_nothing_is_opened(
    coordinator_sato, demo_catalog, policy, field, limit
):
    typed = "架" * (limit + 1)
    response = _as(coordinator_sato).post(reverse("staff-paper-open"), CALLER | {field: typed})
    assert response.status_code == 400
    html = response.content.decode()
    assert f"{limit}文字以内にしてください（現在{limit + 1}文字）" in html
    assert f'value="{typed}"' in html  # whole, to be shortened
    assert not Case.objects.exists()
    too_long_in_japanese(OpenForm(CALLER | {field: typed}), field, limit, limit + 1)


def test_a_scans_note_too_long_is_refused_in_japanese():
    too_long_in_japanese(
        ScanForm({"kind": "referral_letter", "note": "メ" * 201}), "note", 200, 201
    )


@pytest.mark.parametrize(("typed", "stored"), EMAILS)
def test_the_handover_address_is_taken_in_either_width(typed, stored):
    form = HandoverForm({"email": typed})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["email"] == stored
