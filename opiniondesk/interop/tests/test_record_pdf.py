"""The whole record's PDF carries the opinion: every signed version (signature, hash, content),
its deliveries and the record of each provision to a third party; never a draft."""

import pytest
from django.utils import timezone

from opiniondesk.interop.record_pdf import case_record_pdf
from opiniondesk.opinions import services as opinions
from opiniondesk.testing.builders import opinion_signed
from opiniondesk.testing.pdf import pdf_text

pytestmark = pytest.mark.django_db


def flat(text: str) -> str:
    return text.replace(" ", "").replace("\n", "")


def test_the_record_has_every_signed_version_and_its_deliveries(
    charged, dr_tanaka, coordinator_sato
):
    first = opinion_signed(charged, on_current="第一版の意見です。")
    opinions.post_record(case_id=charged.pk, actor=coordinator_sato, posted_on=timezone.localdate())
    correction = opinions.correction_start(
        version_id=first.pk, actor=dr_tanaka, reason="誤記の訂正"
    )
    count = len(opinions.questions_of(charged))

    def save(text):
        return opinions.draft_save(
            case_id=charged.pk,
            actor=dr_tanaka,
            on_current=text,
            on_future="経過観察を続けてください。",
            answers=["必要ありません。"] * count,
            remarks="",
        )

    draft = save("第二版の意見です。")
    assert draft.pk == correction.pk
    second = opinions.sign(
        version_id=draft.pk, actor=dr_tanaka, previewed_hash=draft.computed_hash(charged.pk)
    )
    opinions.correction_start(version_id=second.pk, actor=dr_tanaka, reason="追記")
    save("まだ署名していない下書き")

    text = pdf_text(case_record_pdf(charged))
    assert "8. 回答書" in text
    assert "第一版の意見です" in text and "第二版の意見です" in text
    assert "第1版の訂正" in flat(text) and "誤記の訂正" in text
    assert first.content_hash in flat(text) and second.content_hash in flat(text)
    assert "田中 健一" in text
    assert "手術は必要でしょうか" in text and "必要ありません" in text
    assert "まだ署名していない下書き" not in text
    # The posting of version 1, and its record as a provision to a third party.
    assert "郵送" in text and "第三者提供の記録" in text
    assert "セカンドオピニオン回答書 第1版" in text
    assert charged.physician_institution in text
    assert "申込時の本人同意" in text


def test_a_case_without_a_signed_opinion_says_so(charged):
    text = pdf_text(case_record_pdf(charged))
    assert "署名済みの回答書はありません" in text
