"""What people type, for the per-app tests of Japanese input (SPEC §13, #16 item 1): each pair
is (typed, stored). The tables of every app's forms use these, so that each form is checked
against the same ways of typing; opiniondesk/core/tests/test_typed.py checks the normaliser."""

from django import forms
from django.utils.translation import override

FULL_WIDTH_SPACE = "\u3000"

PHONES = [
    ("０４８－０１２－５６７８", "048-012-5678"),
    ("０３（０１２３）５６７８", "03-0123-5678"),
    ("03ー0123ー5678", "03-0123-5678"),  # the long-vowel mark for a hyphen
    ("03−0123−5678", "03-0123-5678"),  # a minus sign
    (f"{FULL_WIDTH_SPACE}０３\u3000０１２３\u3000５６７８{FULL_WIDTH_SPACE}", "03-0123-5678"),
]
POSTAL_CODES = [
    ("〒０００－８６５５", "000-8655"),
    ("０００８６５５", "000-8655"),
    ("000ー8655", "000-8655"),
]
ADDRESSES = [
    ("東京都架空区見本町７ー３ー１", "東京都架空区見本町7-3-1"),
    (f"見本町７－３－１{FULL_WIDTH_SPACE}センター棟", "見本町7-3-1 センター棟"),  # ー of センター
]
EMAILS = [("ｈａｎａ＠ｅｘａｍｐｌｅ．ｊｐ", "hana@example.jp")]
# Names and free text keep their characters; only the spaces around go.
NAMES = [
    (f"山田{FULL_WIDTH_SPACE}", "山田"),
    ("髙橋", "髙橋"),
    ("ﾔﾏﾀﾞ", "ﾔﾏﾀﾞ"),
]
TEXTS = [
    (
        f"{FULL_WIDTH_SPACE}夕方に{FULL_WIDTH_SPACE}もう一度{FULL_WIDTH_SPACE}",
        "夕方に\u3000もう一度",
    ),
    ("一行目\r\n二行目", "一行目\n二行目"),  # a browser's line end counts once
    ("（至急）①", "（至急）①"),
]


def too_long_in_japanese(form: forms.BaseForm, name: str, limit: int, length: int) -> str:
    """The Japanese message refusing `name` as too long; fails if the form accepted it."""
    with override("ja"):
        assert not form.is_valid()
        messages = [str(m) for m in form.errors.get(name, [])]
    found = [m for m in messages if "切り詰めていません" in m]  # "nothing has been cut"
    assert found, messages
    message = found[0]
    assert f"{limit}文字以内" in message and f"現在{length}文字" in message, message
    return message
