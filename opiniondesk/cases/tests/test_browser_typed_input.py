"""Japanese input as typed, in a real browser on a phone (SPEC §13, #16 item 1): in the wizard
Ken types the numbers in full width as a Japanese keyboard gives them, and the check page shows
them in one form; the address field's counter follows his typing near the limit, and over it the
server refuses with the Japanese message and keeps every character (nothing is cut).

At 390 CSS pixels, and at 195 (200 % zoom on the same phone, as the accessibility walk)."""

import pytest
from allauth.account.models import EmailAddress

from opiniondesk.accounts.models import Role, User
from opiniondesk.cases.models import Case
from opiniondesk.cases.tests.test_browser_application import (
    ACCEPTABLE,
    KEN_EMAIL,
    KEN_PASSWORD,
    PHONE,
    accept_privacy_policy,
    answer,
    birth_date_aged,
    fill,
    fill_consult,
    fill_physician,
    fill_sheet,
    ja,
    save_and_continue,
    sign_in,
)
from opiniondesk.core.time import jst_today
from opiniondesk.testing.accessibility import ZOOMED_PHONE, reflow_problems

pytestmark = pytest.mark.browser

LIMIT = 200  # the patient's address (Case.patient_address)
ADDRESS_TYPED, ADDRESS_STORED = "東京都架空区見本町７ー３ー１", "東京都架空区見本町7-3-1"


@pytest.fixture
def site(transactional_db, live_server, policy):
    user = User.objects.create_user("ken_yamada", KEN_EMAIL, KEN_PASSWORD, role=Role.PATIENT)
    EmailAddress.objects.create(user=user, email=KEN_EMAIL, verified=True, primary=True)
    return live_server.url


def counter_text(count: int, over: int = 0) -> str:
    text = ja("{count} / {limit} characters").format(count=count, limit=LIMIT)
    if over:
        extra = ja("{over} characters too many. Please shorten it; nothing is cut.")
        text += " " + extra.format(over=over)
    return text


def fill_patient_typed_in_full_width(page) -> None:
    born = birth_date_aged(76, jst_today())
    fill(page, "family name", "山田")
    fill(page, "given name", "花")
    fill(page, "family name (kana)", "ヤマダ")
    fill(page, "given name (kana)", "ハナ")
    fill(page, "Year", str(born.year))
    page.get_by_label(ja("Month"), exact=True).select_option(str(born.month))
    page.get_by_label(ja("Day"), exact=True).select_option(str(born.day))
    answer(page, "sex", "female")
    fill(page, "postal code", "〒１１３－８６５５")
    fill(page, "phone reachable on weekdays", "０３（１２３４）５６７８")
    fill(page, "e-mail", "ｈａｎａ＠ｅｘａｍｐｌｅ．ｊｐ")
    answer(page, "Has the patient passed away?", "No")
    answer(page, "Does the patient live in Japan?", "Yes")
    answer(page, "Does the patient have Japanese public health insurance?", "Yes")
    answer(
        page,
        "Has the patient agreed in writing to your consultation?",
        "Yes, the patient signed the consent form",
    )


@pytest.mark.parametrize("viewport", [PHONE, ZOOMED_PHONE], ids=["390px", "195px-200%-zoom"])
def test_full_width_numbers_are_accepted_and_an_over_long_address_is_refused_whole(
    browser, site, viewport, tmp_path
):
    context = browser.new_context(locale="ja-JP", viewport=viewport)
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        page.goto(f"{site}/accounts/login/")
        sign_in(page, KEN_EMAIL, KEN_PASSWORD)
        page.get_by_role("button", name=ja("Start a new application")).click()

        page.get_by_label(ja("Who is applying?")).select_option("child")
        fill(page, "Your family name", "山田")
        fill(page, "Your given name", "健")
        fill(page, "Your family name (kana)", "やまだ")
        fill(page, "Your given name (kana)", "けん")
        fill(page, "Your phone number", "０９０－１２３４－５６７８")
        answer(page, "Do you live with the patient?", "No")
        save_and_continue(page)
        accept_privacy_policy(page)
        # Ken's number, typed in full width, is shown back plain on the next step.
        assert "090-1234-5678" in page.get_by_role("group", name=ja("You"), exact=True).inner_text()
        answer(page, "Will you attend the consultation yourself?", "Yes")
        save_and_continue(page)

        fill_patient_typed_in_full_width(page)
        address = page.get_by_label(ja("address"), exact=True)
        counter = page.locator("#id_patient_address-count")
        assert address.get_attribute("maxlength") is None  # the browser cuts nothing
        assert counter.get_attribute("id") in address.get_attribute("aria-describedby")
        address.fill("見" * (LIMIT - 5))
        assert counter.inner_text() == counter_text(LIMIT - 5)
        address.press_sequentially("本町一二三")  # typed to the limit, one key at a time
        assert counter.inner_text() == counter_text(LIMIT)
        assert "char-count-over" not in (counter.get_attribute("class") or "")
        address.press_sequentially("四五")
        assert counter.inner_text() == counter_text(LIMIT + 2, over=2)
        assert "char-count-over" in counter.get_attribute("class")
        assert len(address.input_value()) == LIMIT + 2
        assert not reflow_problems(page), reflow_problems(page)

        save_and_continue(page)  # the server refuses it, and keeps it whole
        refused = page.get_by_role("main").inner_text()
        assert f"{LIMIT}文字以内にしてください（現在{LIMIT + 2}文字）" in refused
        assert "入力内容は切り詰めていません" in refused
        address = page.get_by_label(ja("address"), exact=True)
        assert address.input_value() == "見" * (LIMIT - 5) + "本町一二三四五"
        # The numbers typed in full width came back normalised with the refusal.
        assert page.get_by_label(ja("postal code"), exact=True).input_value() == "113-8655"
        phone = page.get_by_label(ja("phone reachable on weekdays"), exact=True)
        assert phone.input_value() == "03-1234-5678"
        assert Case.objects.get().patient_address == ""  # nothing stored, nothing cut

        address.fill(ADDRESS_TYPED)
        assert (
            counter_text(len(ADDRESS_TYPED))
            == page.locator("#id_patient_address-count").inner_text()
        )
        save_and_continue(page)
        fill_consult(page)
        fill_sheet(page)
        fill_physician(page, ACCEPTABLE)
        page.get_by_role("link", name=ja("Next: check and send")).click()

        check = page.get_by_role("main").inner_text()
        for shown in ("090-1234-5678", "〒113-8655", ADDRESS_STORED, "03-1234-5678"):
            assert shown in check, shown
        for typed in ("０９０", "１１３", "７ー３"):
            assert typed not in check
        assert not reflow_problems(page), reflow_problems(page)
        case = Case.objects.get()
        assert (case.applicant_phone, case.patient_phone, case.patient_postal_code) == (
            "090-1234-5678",
            "03-1234-5678",
            "113-8655",
        )
        assert (case.patient_address, case.patient_email) == (ADDRESS_STORED, "hana@example.jp")
    finally:
        page.screenshot(path=tmp_path / "last.png", full_page=True)
        context.close()
