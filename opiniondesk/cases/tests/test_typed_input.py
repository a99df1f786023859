"""Japanese input as typed in the application wizard and the coordinator's case forms (SPEC §13,
#16 item 1): full-width digits, hyphens and spaces are accepted and stored in one form; names and
free text keep what was typed; a value too long is refused in Japanese, never cut."""

import pytest
from django.urls import reverse

from opiniondesk.cases.models import Case
from opiniondesk.cases.staff_forms import (
    DeclineForm,
    PhoneLogForm,
    RejectForm,
    RequestDocumentsForm,
    WithdrawForm,
)
from opiniondesk.testing.typed_input import (
    ADDRESSES,
    EMAILS,
    NAMES,
    PHONES,
    POSTAL_CODES,
    TEXTS,
    too_long_in_japanese,
)

pytestmark = pytest.mark.django_db


def rows(step, field, pairs):
    return [
        pytest.param(step, field, typed, stored, id=f"{field}-{n}")
        for n, (typed, stored) in enumerate(pairs)
    ]


WIZARD = [
    *rows("applicant", "applicant_phone", PHONES),
    *rows("applicant", "applicant_family_name", NAMES),
    *rows("patient", "patient_phone", PHONES),
    *rows("patient", "patient_postal_code", POSTAL_CODES),
    *rows("patient", "patient_address", ADDRESSES),
    *rows("patient", "patient_email", EMAILS),
    *rows("patient", "patient_given_name", NAMES),
    *rows("physician", "physician_phone", PHONES[:2]),
    *rows("physician", "physician_fax", PHONES[2:]),
    *rows("physician", "physician_postal_code", POSTAL_CODES[:1]),
    *rows("physician", "physician_address", ADDRESSES),
    *rows("physician", "physician_email", EMAILS),
    *rows("physician", "physician_institution", NAMES[1:]),
    *rows("sheet", "questions", TEXTS),
]
SHEET = {
    "current_diagnosis": "慢性心不全",
    "treatment_so_far": "内服治療",
    "wants_opinion_on_current": "on",
    "questions": "手術は必要でしょうか。",
}


def post_step(wizard, step, field, value):
    if step == "applicant":
        return wizard.applicant(**{field: value})
    if step == "patient":
        return wizard.patient(**{field: value})
    if step == "physician":
        return wizard.physician(**{field: value})
    return wizard.post(step, SHEET | {field: value})


@pytest.mark.parametrize(("step", "field", "typed", "stored"), WIZARD)
def test_the_wizard_stores_what_was_typed_in_one_form(
    wizard_for, proxy_ken, step, field, typed, stored
):
    wizard = wizard_for(proxy_ken)
    if step != "applicant":
        assert wizard.applicant().status_code == 302
    response = post_step(wizard, step, field, typed)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert getattr(Case.objects.get(pk=wizard.case.pk), field) == stored


@pytest.mark.parametrize(("typed", "stored"), PHONES)
def test_a_family_member_attending_is_stored_with_the_number_plain(
    wizard_for, proxy_ken, typed, stored
):
    wizard = wizard_for(proxy_ken)
    assert wizard.applicant().status_code == 302
    daughter = {
        "family_name": "山田",
        "given_name": "葉子",
        "family_name_kana": "やまだ",
        "given_name_kana": "ようこ",
        "relation": "grandchild",
        "phone": typed,
    }
    assert wizard.proxies(others=[daughter]).status_code == 302
    assert wizard.case.proxies.get(given_name="葉子").phone == stored


@pytest.mark.parametrize(
    ("step", "field", "limit", "typed", "shown"),
    [
        ("applicant", "applicant_family_name", 50, "山" * 51, "山" * 51),
        # The inner full-width space is kept, so it counts.
        ("patient", "patient_family_name", 50, "山" * 48 + "\u3000田中", "山" * 48 + "\u3000田中"),
        ("patient", "patient_address", 200, "見本町" * 67, "見本町" * 67),
        ("patient", "patient_phone", 20, "０" * 21, "0" * 21),  # shown back normalised
        ("physician", "physician_institution", 200, "病院" * 101, "病院" * 101),
        ("physician", "physician_address", 200, "住所" * 101, "住所" * 101),
    ],
)
def test_the_wizard_refuses_a_value_too_long_and_keeps_it_whole(
    wizard_for, proxy_ken, step, field, limit, typed, shown
):
    wizard = wizard_for(proxy_ken)
    if step != "applicant":
        assert wizard.applicant().status_code == 302
    before = getattr(Case.objects.get(pk=wizard.case.pk), field)
    response = post_step(wizard, step, field, typed)
    assert response.status_code == 200  # the step again, with the message
    html = response.content.decode()
    assert f"{limit}文字以内にしてください（現在{len(typed)}文字）" in html
    assert "入力内容は切り詰めていません" in html
    assert f'value="{shown}"' in html  # shown back whole, for the person to shorten
    assert getattr(Case.objects.get(pk=wizard.case.pk), field) == before


def test_the_wizard_shows_a_counter_and_no_maxlength(wizard_for, proxy_ken):
    wizard = wizard_for(proxy_ken)
    assert wizard.applicant().status_code == 302
    html = wizard.client.get(reverse("case-step", args=[wizard.case.pk, "patient"])).content
    html = html.decode()
    assert 'id="id_patient_address"' in html and "maxlength" not in html
    assert 'data-limit="200"' in html and 'id="id_patient_address-count"' in html


# The coordinator's forms on the case page.


@pytest.mark.parametrize(("typed", "stored"), PHONES)
def test_a_call_logged_by_hand_takes_the_number_as_typed(typed, stored):
    form = PhoneLogForm(
        {
            "called_on": "２０２６－０１－１５",
            "called_time": "１０：３０",
            "number": typed,
            "outcome": "no_answer",
            "notes": TEXTS[0][0],
        }
    )
    assert form.is_valid(), form.errors
    assert form.cleaned_data["number"] == stored
    assert form.cleaned_data["notes"] == TEXTS[0][1]


@pytest.mark.parametrize(
    ("form_class", "field", "limit", "extra"),
    [
        (PhoneLogForm, "notes", 4000, {}),
        (PhoneLogForm, "number", 20, {}),
        (RequestDocumentsForm, "message", 2000, {}),
        (RejectForm, "note", 4000, {}),
        (WithdrawForm, "reason", 500, {}),
        (DeclineForm, "reason", 2000, {}),
    ],
)
def test_a_coordinators_text_too_long_is_refused_in_japanese(form_class, field, limit, extra):
    typed = "あ" * (limit + 1)
    too_long_in_japanese(form_class({field: typed, **extra}), field, limit, limit + 1)
