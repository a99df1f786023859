"""Japanese input through the API (SPEC §13, #16 item 1): the fields read what people type as
the forms read it (opiniondesk.core.typed, through core.serializer_fields.TypedCharField), and
a value too long is a 400 naming the field, never cut."""

import re

import pytest
from django.test import Client
from django.utils.translation import override

from opiniondesk.api.fields import StrictCharField
from opiniondesk.api.tests.conftest import Api
from opiniondesk.api.tests.test_cases_api import CALL, url
from opiniondesk.cases import screening
from opiniondesk.cases.models import CaseTransition, PhoneLog
from opiniondesk.core.typed import Kind

pytestmark = pytest.mark.django_db

TOO_LONG_JA = "文字以内にしてください"


def ja_api(user) -> Api:
    client = Client(headers={"Accept-Language": "ja"})
    client.force_login(user)
    return Api(client)


@pytest.fixture
def hana_case(make_case, patient_hana):
    return make_case(patient_hana)


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("０９０－１２３４－５６７８", "090-1234-5678"),
        ("０３（１２３４）５６７８", "03-1234-5678"),
        ("03ー1234ー5678", "03-1234-5678"),
        ("03−1234−5678", "03-1234-5678"),  # minus sign
        ("０３\u3000１２３４\u3000５６７８", "03-1234-5678"),
        ("\u300003-1234-5678\u3000", "03-1234-5678"),
        ("＋８１－３－１２３４－５６７８", "+81-3-1234-5678"),
        ("03 (1234) 5678", "03-1234-5678"),
    ],
)
def test_a_call_takes_the_number_as_typed_and_stores_it_plain(
    coordinator_sato, hana_case, typed, stored
):
    response = ja_api(coordinator_sato).post(
        url(hana_case, "/phone-logs"), {**CALL, "number": typed}
    )
    assert response.status_code == 201, response.content
    assert PhoneLog.objects.get(case=hana_case).number == stored


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("\u3000夕方に\u3000もう一度\u3000", "夕方に\u3000もう一度"),  # inner spaces as typed
        ("一行目\r\n二行目", "一行目\n二行目"),
        ("（至急）①折り返し", "（至急）①折り返し"),  # free text keeps its characters
    ],
)
def test_a_call_keeps_the_notes_as_typed(coordinator_sato, hana_case, typed, stored):
    response = ja_api(coordinator_sato).post(
        url(hana_case, "/phone-logs"), {**CALL, "notes": typed}
    )
    assert response.status_code == 201, response.content
    assert PhoneLog.objects.get(case=hana_case).notes == stored


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"notes": "あ" * 2001}, "notes"),
        ({"number": "０" * 21}, "number"),
        ({"number": "0ー(1"}, "number"),  # separators around no digit group
        ({"number": "①２３４５６７８９０"}, "number"),  # a circled digit is no digit
    ],
)
def test_a_call_refuses_what_does_not_fit_naming_the_field(
    coordinator_sato, hana_case, change, field
):
    response = ja_api(coordinator_sato).post(url(hana_case, "/phone-logs"), {**CALL, **change})
    assert response.status_code == 400, response.content
    assert list(response.json()) == [field]
    assert not PhoneLog.objects.exists()


def test_an_over_long_note_is_refused_in_japanese_with_both_lengths(coordinator_sato, hana_case):
    response = ja_api(coordinator_sato).post(
        url(hana_case, "/phone-logs"), {**CALL, "notes": "あ" * 2001}
    )
    (message,) = response.json()["notes"]
    assert TOO_LONG_JA in message and "切り詰めていません" in message
    assert "2000" in message and "2001" in message


def test_a_rejection_note_too_long_is_refused_and_nothing_changes(coordinator_sato, hana_case):
    screening.case_start_screening(case_id=hana_case.pk, actor=coordinator_sato)
    rows = CaseTransition.objects.filter(case=hana_case).count()
    response = ja_api(coordinator_sato).post(
        url(hana_case, "/transitions"),
        {"to": "rejected", "reasons": ["WANTS_TRANSFER"], "note": "理" * 2001},
    )
    assert response.status_code == 400, response.content
    (message,) = response.json()["note"]
    assert TOO_LONG_JA in message
    assert CaseTransition.objects.filter(case=hana_case).count() == rows


# The field itself, without a request: one table for every kind.


@pytest.mark.parametrize(
    ("kind", "sent", "kept"),
    [
        (Kind.TEXT, "\u3000山田\u3000花子\u3000", "山田\u3000花子"),
        (Kind.TEXT, "ｶﾀｶﾅ①", "ｶﾀｶﾅ①"),
        (Kind.PHONE, "０９０－１２３４－５６７８", "090-1234-5678"),
        (Kind.POSTAL, "〒１１３－８６５５", "113-8655"),
        (Kind.ADDRESS, "見本町７ー３ー１\u3000センター棟", "見本町7-3-1 センター棟"),
        (Kind.EMAIL, "ｈａｎａ＠ｅｘａｍｐｌｅ．ｊｐ", "hana@example.jp"),
        (Kind.CODE, "ＳＯ－０００１２３", "SO-000123"),
    ],
)
def test_the_field_normalises_by_kind_as_the_forms_do(kind, sent, kept):
    assert StrictCharField(kind=kind, max_length=50).run_validation(sent) == kept


def test_the_field_refuses_a_value_that_normalising_makes_too_long():
    from rest_framework.exceptions import ValidationError

    field = StrictCharField(kind=Kind.ADDRESS, max_length=3)
    assert field.run_validation("㍻") == "平成"  # two characters from one: still fits
    with override("ja"), pytest.raises(ValidationError) as refused:
        field.run_validation("㍻㍻")  # four after NFKC: refused, not cut to three
    assert re.search(r"3.*4", str(refused.value.detail[0]))


def test_the_document_says_either_width_is_taken(client):
    document = client.get("/api/schema/", {"format": "json"}, secure=True).json()
    number = document["components"]["schemas"]["PhoneLogCreateRequest"]["properties"]["number"]
    pattern = re.compile(number["pattern"])
    for typed in ("０３（１２３４）５６７８", "03ー1234ー5678", "03-1234-5678", "+81 3 1234 5678"):
        assert pattern.search(typed), typed
    for typed in ("call me", "①２３", "03-1234-5678 ext 2"):
        assert not pattern.search(typed), typed
    assert number["maxLength"] == 20
