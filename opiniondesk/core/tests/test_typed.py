"""Japanese input as people type it (SPEC §13, #16 item 1): the one normaliser, by kind."""

import pytest

from opiniondesk.core.typed import Kind, name_key, normalise


@pytest.mark.parametrize(
    ("kind", "typed", "stored"),
    [
        (Kind.PHONE, "０９０－１２３４－５６７８", "090-1234-5678"),
        (Kind.PHONE, "０３（１２３４）５６７８", "03-1234-5678"),
        (Kind.PHONE, "03ー1234ー5678", "03-1234-5678"),
        (Kind.PHONE, "03−1234−5678", "03-1234-5678"),  # minus sign
        (Kind.PHONE, "03‐1234‐5678", "03-1234-5678"),  # hyphen
        (Kind.PHONE, "03–1234—5678", "03-1234-5678"),  # en and em dash
        (Kind.PHONE, "　03 1234 5678　", "03-1234-5678"),
        (Kind.PHONE, "＋８１－３－１２３４－５６７８", "+81-3-1234-5678"),
        (Kind.PHONE, "03-1234-567x", "03-1234-567x"),  # not a phone: left for the form to refuse
        (Kind.POSTAL, "〒１１３－８６５５", "113-8655"),
        (Kind.POSTAL, "１１３８６５５", "113-8655"),
        (Kind.POSTAL, "113ー8655", "113-8655"),
        (Kind.POSTAL, "〒 113-8655", "113-8655"),
        (Kind.POSTAL, "12-34", "12-34"),
        (Kind.CODE, "ＳＯ－０００１２３", "SO-000123"),
        (Kind.CODE, "SOー000123", "SO-000123"),
        (Kind.ADDRESS, "東京都架空区見本町７ー３ー１", "東京都架空区見本町7-3-1"),
        # The ー of センター stays.
        (Kind.ADDRESS, "見本町７－３－１　センター棟", "見本町7-3-1 センター棟"),
        (Kind.EMAIL, "ｈａｎａ＠ｅｘａｍｐｌｅ．ｊｐ", "hana@example.jp"),
        (Kind.TEXT, "  山田　花子（やまだ）①  ", "山田　花子（やまだ）①"),  # names as typed
        (Kind.TEXT, "一行目\r\n二行目\r三行目", "一行目\n二行目\n三行目"),
        (Kind.TEXT, "ｶﾀｶﾅ", "ｶﾀｶﾅ"),
    ],
)
def test_it_stores_what_was_typed_in_one_form(kind, typed, stored):
    assert normalise(typed, kind) == stored


@pytest.mark.parametrize(
    ("typed", "signed", "same"),
    [
        ("山田 花子", "山田　花子", True),
        ("山田 花子", "山田花子", True),
        ("ﾔﾏﾀﾞ ﾊﾅｺ", "ヤマダ ハナコ", True),
        ("山田 花子", "山田 花", False),
    ],
)
def test_names_are_compared_in_one_form_only(typed, signed, same):
    assert (name_key(typed) == name_key(signed)) is same
