"""Searching the work queue (issue #16 item 11): by reference (受付番号), name in kanji or kana,
and phone number, as people type them. Sato (coordinator) finds every case; Dr Mori (neurology)
finds only his department's; every search is audited with what it showed."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from opiniondesk.audit.models import AuditEvent
from opiniondesk.cases.queue_search import (
    Search,
    SearchKind,
    digits_of,
    kana_variants,
    parse_search,
    phone_pattern,
)
from opiniondesk.cases.workflow import Status
from opiniondesk.testing.builders import case_in

R, P, N, NONE = SearchKind.REFERENCE, SearchKind.PHONE, SearchKind.NAME, SearchKind.NONE


@pytest.mark.parametrize(
    ("typed", "kind", "case_id", "digits"),
    [
        ("SO-000123", R, 123, ""),
        ("so-000123", R, 123, ""),  # lower case
        ("ＳＯ－０００１２３", R, 123, ""),  # full width
        ("ｓｏ０００１２３", R, 123, ""),
        (" SO 000123 ", R, 123, ""),
        ("SOー000123", R, 123, ""),  # the long vowel mark typed for a hyphen
        ("12", R, 12, ""),  # too short for a phone number: a reference without "SO-"
        ("000123", P, 123, "000123"),  # six digits: either
        ("090-1234-5678", P, None, "09012345678"),
        ("０９０－１２３４－５６７８", P, None, "09012345678"),
        ("03（1234）5678", P, None, "0312345678"),
        ("03ー1234ー5678", P, None, "0312345678"),
        ("5678", P, 5678, "5678"),  # the last four digits
        ("", NONE, None, ""),
        ("   ", NONE, None, ""),
    ],
)
def test_parse_search_numbers(typed, kind, case_id, digits):
    search = parse_search(typed)
    assert (search.kind, search.case_id, search.digits) == (kind, case_id, digits)


@pytest.mark.parametrize(
    ("typed", "terms"),
    [
        ("山田", (("山田",),)),
        ("山田 花", (("山田",), ("花",))),
        ("山田　花", (("山田",), ("花",))),  # an ideographic space
        ("やまだ", (("やまだ", "ヤマダ"),)),  # hiragana finds the katakana reading too
        ("ヤマダ", (("ヤマダ", "やまだ"),)),
        ("ﾔﾏﾀﾞ", (("ヤマダ", "やまだ"),)),  # half-width kana
        ("SO-12a", (("SO-12a",),)),  # not a reference: a name part
    ],
)
def test_parse_search_names(typed, terms):
    assert parse_search(typed) == Search(N, terms=terms)


def test_a_search_has_at_most_four_terms():
    assert len(parse_search("a b c d e f").terms) == 4


@pytest.mark.parametrize(
    ("stored", "digits"),
    [
        ("03-1234-5678", "0312345678"),
        ("０３－１２３４－５６７８", "0312345678"),
        ("(03) 1234 5678", "0312345678"),
        ("+81 3 1234 5678", "81312345678"),
        ("山田", ""),
        ("", ""),
    ],
)
def test_digits_of(stored, digits):
    assert digits_of(stored) == digits


@pytest.mark.parametrize(
    ("stored", "found"),
    [
        ("03-1234-5678", True),
        ("０３－１２３４－５６７８", True),
        ("03（1234）5678", True),
        ("0312345678", True),
        ("03-1234-5679", False),
        ("3-1234-5678", False),
    ],
)
def test_phone_pattern(stored, found):
    assert bool(re.search(phone_pattern("0312345678"), stored)) is found


def test_kana_variants_keep_other_characters():
    assert kana_variants("山田ハナ") == ("山田ハナ", "山田はな")
    assert kana_variants("abc") == ("abc",)


# Through the queue page, with the personas.


def _as(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def cases(demo_catalog, policy, patient_hana, proxy_ken):
    """Hana's own cardiology case; a family application for 佐藤 花子 (neurology) whose phone was
    stored in full width before input was normalised; a third, unrelated case."""
    hana = case_in(Status.SUBMITTED, applicant=patient_hana)
    sato = case_in(
        Status.SUBMITTED,
        applicant=proxy_ken,
        relation="child",
        department="neurology",
        disease="epilepsy",
        mode="in_person",
        patient_family_name="佐藤",
        patient_given_name="花子",
        patient_family_name_kana="サトウ",
        patient_given_name_kana="ハナコ",
        patient_phone="０４５－９８７－６５４３",
    )
    other = case_in(
        Status.SUBMITTED,
        applicant=patient_hana,
        patient_family_name="鈴木",
        patient_given_name="一",
        patient_family_name_kana="スズキ",
        patient_given_name_kana="ハジメ",
        patient_phone="06-1111-2222",
    )
    return {"hana": hana, "sato": sato, "other": other}


def _found(client, typed, cases):
    page = client.get(reverse("staff-queue"), {"q": typed, "state": "all"}).content.decode()
    # The rows' links, not the search box, which shows what was typed.
    return sorted(name for name, case in cases.items() if f">{case.reference}</a>" in page)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("reference:hana", ["hana"]),
        ("lower:sato", ["sato"]),
        ("wide:other", ["other"]),
        ("山田", ["hana", "sato"]),  # Hana; and Ken 山田, who applies for 佐藤 花子
        ("佐藤", ["sato"]),
        ("花", ["hana", "sato"]),  # partial: 花 and 花子
        ("さとう", ["sato"]),  # the kana reading in hiragana
        ("ﾊﾅｺ", ["sato"]),  # half-width katakana
        ("サトウ ハナ", ["sato"]),  # both terms must match
        ("健", ["sato"]),  # the applicant's (and attending family member's) name
        ("03-0100-2345", ["hana"]),
        ("０３（０１００）２３４５", ["hana"]),
        ("0459876543", ["sato"]),  # stored in full width with hyphens
        ("03-0300-4567", ["sato"]),  # Ken's phone, as applicant and as attending family
        ("2222", ["other"]),
        ("田中", []),
    ],
)
def test_it_searches_the_queue(cases, coordinator_sato, typed, expected):
    if ":" in typed:  # a reference, typed three ways
        how, name = typed.split(":")
        ref = cases[name].reference
        typed = {"reference": ref, "lower": ref.lower(), "wide": _wide(ref)}[how]
    assert _found(_as(coordinator_sato), typed, cases) == expected


def _wide(text):
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


@pytest.mark.django_db
def test_a_search_respects_the_specialists_departments(cases, dr_mori, dr_tanaka):
    referred = {
        "cardiology": case_in(Status.REFERRED),  # Hana, 山田 花
        "neurology": case_in(
            Status.REFERRED, department="neurology", disease="epilepsy", mode="in_person"
        ),
    }
    assert _found(_as(dr_mori), "花", referred) == ["neurology"]
    assert _found(_as(dr_tanaka), "花", referred) == ["cardiology"]
    assert _found(_as(dr_mori), referred["cardiology"].reference, referred) == []
    assert _found(_as(dr_mori), "03-0100-2345", referred) == ["neurology"]


@pytest.mark.django_db
def test_a_search_is_audited_with_what_it_showed(cases, coordinator_sato):
    _found(_as(coordinator_sato), "佐藤", cases)
    event = AuditEvent.objects.filter(user=coordinator_sato, action="read").latest("pk")
    assert event.detail["search"] == "name"
    assert event.detail["cases"] == [cases["sato"].pk]
    assert "佐藤" not in str(event.detail)  # the case ids say whom; the typed name is not kept


@pytest.mark.django_db
def test_a_search_keeps_its_text_and_the_other_filters(cases, coordinator_sato):
    page = (
        _as(coordinator_sato)
        .get(reverse("staff-queue"), {"q": "花", "mode": "online", "state": "all"})
        .content.decode()
    )
    assert f">{cases['hana'].reference}</a>" in page
    assert f">{cases['sato'].reference}</a>" not in page
    assert 'value="花"' in page


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("channel", "expected"),
    [
        ("", ["desk", "hana", "phone", "post", "sato"]),
        ("online", ["hana", "sato"]),
        ("post", ["post"]),
        ("desk", ["desk"]),
        ("phone", ["phone"]),
        ("fax", ["desk", "hana", "phone", "post", "sato"]),  # not a channel: no filter
    ],
)
def test_the_queue_filters_by_how_the_application_came(cases, coordinator_sato, channel, expected):
    shown = {"hana": cases["hana"], "sato": cases["sato"]}
    for way in ("post", "desk", "phone"):
        shown[way] = case_in(Status.SUBMITTED, channel=way, patient_family_name=f"紙{way}")
    client = _as(coordinator_sato)
    page = client.get(reverse("staff-queue"), {"channel": channel, "state": "all"}).content.decode()
    found = sorted(name for name, case in shown.items() if f">{case.reference}</a>" in page)
    # The third case (鈴木) came online too; it is not among the names looked for here.
    assert found == expected
    if channel in ("post", "desk", "phone"):
        assert f'data-channel="{channel}"' in page  # the row says how it came
        assert f'<option value="{channel}" selected>' in page  # the filter keeps its choice
