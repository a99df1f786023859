"""The self-check page in a real browser: keyboard- and label-driven, as a visitor uses it."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def answer(page, question: str, choice: str) -> None:
    """Pick a radio button by its group's legend and its own label (as a screen reader would)."""
    page.get_by_role("group", name=question).get_by_label(choice, exact=True).check()


def fill_in_as_ken_for_his_mother(page) -> None:
    page.get_by_label("この質問にお答えになるのは、どなたですか。").select_option("child")
    answer(
        page,
        "患者さんご本人は、ご家族が相談することに書面で同意されていますか。",
        "はい、ご本人が相談同意書に署名しています",
    )
    page.get_by_label("年(西暦)").fill("1950")
    page.get_by_label("月", exact=True).select_option("4")
    page.get_by_label("日", exact=True).select_option("1")
    answer(page, "患者さんはご存命ですか。", "はい")
    answer(page, "患者さんは日本国内にお住まいですか。", "はい")
    answer(page, "患者さんは日本の公的な健康保険に加入していますか。", "はい")
    answer(page, "どの方法でのご相談をご希望ですか。", "オンライン(ご自宅などからビデオ通話で)")
    answer(page, "オンラインの場合:日本国内から参加されますか。", "はい")
    page.get_by_label("診療科", exact=True).select_option("cardiology")
    page.get_by_label("病気(対象疾患)").select_option(label="心不全")
    answer(page, "主治医は、セカンドオピニオンを受けることを了承していますか。", "はい")
    answer(
        page,
        "主治医から紹介状(診療情報提供書)と検査データ(結果や画像)を用意していただけますか。",
        "はい",
    )
    for question in [
        "セカンドオピニオンのときに、当院での検査や治療を希望されますか。",
        "最初から当院への転院を希望されていますか。",
        "ご相談は、主治医への不満、医療過誤、または裁判に関することですか。",
        "ご相談は、医療費や医療給付に関することですか。",
    ]:
        answer(page, question, "いいえ")
    page.get_by_label("お申し込みの際、当院の個人情報保護方針に同意します。").check()
    documents = page.get_by_role("group", name="お手元にある書類はどれですか。")
    documents.get_by_label("紹介状(診療情報提供書)").check()
    documents.get_by_label("検査データ・画像").check()


@pytest.fixture
def page(browser, live_server, demo_catalog):
    context = browser.new_context(locale="ja-JP", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{live_server.url}/check/")
    yield page
    context.close()


def test_it_tells_a_son_what_to_prepare_for_his_mother(page, tmp_path):
    fill_in_as_ken_for_his_mother(page)
    page.get_by_role("button", name="結果を見る").click()

    result = page.locator("#result")
    assert result.get_by_role("heading", level=2).inner_text() == (
        "書類がそろえば、お申し込みいただけます"
    )
    assert "まだお手元にない書類が 3 点あります" in result.inner_text()
    for title in ["ご本人が署名した相談同意書", "ご本人との続柄がわかる書類"]:
        assert result.locator(".document-missing", has_text=title).count() == 1
    assert result.locator(".document-have", has_text="紹介状(診療情報提供書)").count() == 1
    # The answers are kept: the son can tick the rest and check again.
    assert page.get_by_label("年(西暦)").input_value() == "1950"
    page.screenshot(path=tmp_path / "selfcheck.png", full_page=True)


def test_it_narrows_the_diseases_to_the_chosen_department(page):
    page.get_by_label("診療科", exact=True).select_option("neurology")
    labels = page.get_by_label("病気(対象疾患)").locator("option").all_inner_texts()
    assert "パーキンソン病" in labels
    assert "心不全" not in labels
    # Online-only questions disappear for an in-person consult.
    answer(page, "どの方法でのご相談をご希望ですか。", "対面(当院にお越しいただいて)")
    joining = page.get_by_role("group", name="オンラインの場合:日本国内から参加されますか。")
    assert joining.is_hidden()


def test_it_explains_why_an_application_is_refused(page, tmp_path):
    fill_in_as_ken_for_his_mother(page)
    answer(
        page,
        "患者さんご本人は、ご家族が相談することに書面で同意されていますか。",
        "いいえ、相談同意書はありません",
    )
    answer(page, "最初から当院への転院を希望されていますか。", "はい")
    answer(page, "オンラインの場合:日本国内から参加されますか。", "いいえ")
    page.get_by_role("button", name="結果を見る").click()

    result = page.locator("#result")
    assert "このままでは、お申し込みをお受けできません" in result.inner_text()
    reasons = result.locator(".reason h3").all_inner_texts()
    assert reasons == [
        "ご本人の相談同意書が必要です",
        "セカンドオピニオンは、転院のための受診ではありません",
        "海外からのオンラインでのご相談はお受けできません",
    ]
    assert "03-0000-1234" in result.inner_text()
    page.screenshot(path=tmp_path / "selfcheck.png", full_page=True)


def test_it_shows_the_error_next_to_the_question_on_a_phone(browser, live_server, demo_catalog):
    context = browser.new_context(locale="ja-JP", viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(f"{live_server.url}/check/")
    page.get_by_role("button", name="結果を見る").click()
    summary = page.locator("#result").get_by_role("heading").inner_text()
    assert summary == "確認が必要な回答があります"
    relation = page.get_by_label("この質問にお答えになるのは、どなたですか。")
    assert relation.get_attribute("aria-invalid") == "true"
    question = page.locator("#q-relation").inner_text()
    assert "どなたがお申し込みになるかを選んでください。" in question
    # Nothing is wider than the phone's screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    context.close()


def test_it_switches_to_english_from_any_page(page):
    page.get_by_role("button", name="English").click()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("heading", level=1).inner_text() == (
        "Can I apply? A short check before you apply"
    )
