"""The hospital information pages: home, departments, fees and contact."""

from datetime import date

import pytest
import time_machine

from opiniondesk.billing.models import FeeSchedule
from opiniondesk.catalog.models import Department, Disease

pytestmark = pytest.mark.django_db


def text(response) -> str:
    assert response.status_code == 200
    return response.content.decode()


def test_it_renders_the_home_page_in_japanese_by_default(client, demo_catalog):
    html = text(client.get("/"))
    assert '<html lang="ja">' in html
    assert "セカンドオピニオン外来" in html
    assert "検査や治療は行いません" in html
    assert "主治医にご相談ください" in html
    assert "最長60分" in html
    assert "03-0000-1234" in html
    assert "English" in html  # the language switch


def test_it_renders_the_home_page_in_english_after_switching(english, demo_catalog):
    html = text(english.get("/"))
    assert '<html lang="en">' in html
    assert "No tests or treatment are done." in html
    assert "Talk to your attending physician" in html
    assert "日本語" in html  # the switch back
    assert "OpinionDesk University Hospital" in html


def test_it_shows_every_step_of_the_guide_on_the_home_page(client, demo_catalog):
    html = text(client.get("/"))
    for step in ["書類をそろえます", "お申し込み", "当院からお電話します"]:
        assert step in html
    for step in ["ご予約", "お支払い", "回答書"]:
        assert step in html


def test_it_lists_departments_diseases_and_hours_in_japanese(client, demo_catalog):
    html = text(client.get("/departments/"))
    assert "循環器内科" in html
    assert "心不全" in html
    assert "火曜日 14:00~16:00" in html
    assert "脳神経内科" in html
    assert "パーキンソン病" in html
    # Neurology is in person only; geriatrics needs the medication list.
    neurology = html[html.index('id="neurology"') :]
    assert "対面" in neurology[: neurology.index("</section>")]
    assert "オンライン" not in neurology[: neurology.index("</section>")]
    geriatrics = html[html.index('id="geriatrics"') :]
    assert "お薬手帳のコピー" in geriatrics[: geriatrics.index("</section>")]


def test_it_lists_departments_in_english(english, demo_catalog):
    html = text(english.get("/departments/"))
    assert "Cardiology" in html
    assert "Heart failure" in html
    assert "Tuesday, 14:00–16:00" in html
    assert "In person" in html
    assert "A list of medicines, or a copy of the medicine notebook" in html


def test_it_hides_inactive_departments(client, demo_catalog):
    Department.objects.filter(code="neurology").update(is_active=False)
    html = text(client.get("/departments/"))
    assert "脳神経内科" not in html


def test_it_shows_departments_in_a_bounded_number_of_queries(
    client, demo_catalog, django_assert_max_num_queries
):
    with django_assert_max_num_queries(4):
        text(client.get("/departments/"))
    for number in range(10):
        dept = Department.objects.create(code=f"extra{number}", name=f"追加{number}")
        Disease.objects.create(department=dept, code="d", name=f"病気{number}")
    with django_assert_max_num_queries(4):
        html = text(client.get("/departments/"))
    assert "追加9" in html


def test_it_shows_the_fees_in_force_in_japanese(client, demo_catalog):
    html = text(client.get("/fees/"))
    assert "30分まで" in html
    assert "44,000円" in html
    assert "4,000円(10%)" in html
    assert "30分を超えて60分まで" in html
    assert "88,000円" in html
    assert "8,000円(10%)" in html
    assert "資料を拝見する時間も、相談時間に含まれます" in html
    assert "健康保険は適用されない" in html


def test_it_shows_the_fees_in_english(english, demo_catalog):
    html = text(english.get("/fees/"))
    assert "Up to 30 minutes" in html
    assert "44,000 yen" in html
    assert "Over 30 and up to 60 minutes" in html
    assert "88,000 yen" in html
    assert "not covered by health insurance" in html


def test_it_says_fees_are_given_by_phone_when_no_table_is_in_force(client, demo_catalog):
    FeeSchedule.objects.all().delete()
    html = text(client.get("/fees/"))
    assert "料金はお電話でご案内します" in html
    assert "03-0000-1234" in html


def test_it_shows_the_table_in_force_today_not_a_future_one(client, demo_catalog):
    future = FeeSchedule.objects.create(effective_from=date(2099, 1, 1))
    future.tiers.create(up_to_minutes=30, price_excluding_tax=50_000, tax_rate_percent=10)
    html = text(client.get("/fees/"))
    assert "44,000円" in html
    assert "55,000円" not in html


def test_it_shows_the_contact_desk_in_japanese(client, demo_catalog):
    html = text(client.get("/contact/"))
    assert "〒000-0000" in html
    assert "東京都架空区見本町1-2-3" in html
    assert "地域医療連携センター セカンドオピニオン外来担当" in html
    assert "03-0000-1234" in html
    assert "10:00–17:00" in html
    assert "土曜日・日曜日・祝日と年末年始(12月29日~1月3日)はお休みです" in html
    assert "「4」を選んでください" in html


@time_machine.travel("2026-12-29 10:00 +0900", tick=False)
def test_it_gives_the_next_open_day_after_the_year_end_closure(client, demo_catalog):
    html = text(client.get("/contact/"))
    assert "本日はお休みです。次の受付日は 2027年1月4日(月)" in html


@time_machine.travel("2026-11-25 09:00 +0900", tick=False)
def test_it_says_the_desk_is_open_today_on_a_weekday(client, demo_catalog):
    html = text(client.get("/contact/"))
    assert "本日 2026年11月25日(水) は受付日です" in html


@time_machine.travel("2026-11-23 12:00 +0900", tick=False)
def test_it_skips_a_national_holiday_in_english(english, demo_catalog):
    # 23 November 2026 is Labour Thanksgiving Day (a Monday).
    html = text(english.get("/contact/"))
    assert "It is next open on Tuesday, 24 November 2026" in html
    assert "(29 December – 3 January)" in html


@pytest.mark.parametrize("url", ["/", "/departments/", "/fees/", "/contact/", "/check/"])
def test_it_has_the_language_switch_and_phone_on_every_page(client, demo_catalog, url):
    html = text(client.get(url))
    assert 'action="/i18n/setlang/"' in html
    assert 'name="language" value="en"' in html
    assert 'href="tel:03-0000-1234"' in html
    assert "受付時間:平日 10:00–17:00(土・日・祝日・年末年始を除く)" in html


def test_it_marks_the_current_page_in_the_menu(client, demo_catalog):
    html = text(client.get("/fees/"))
    assert 'href="/fees/" aria-current="page"' in html


@pytest.mark.parametrize("path", ["/", "/departments/", "/fees/", "/contact/"])
def test_a_monitor_or_link_checker_may_ask_with_head_but_not_post(client, demo_catalog, path):
    head = client.head(path)
    assert head.status_code == 200 and head.content == b""
    assert client.post(path).status_code == 405
