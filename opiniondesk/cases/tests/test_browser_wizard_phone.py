"""The wizard on a phone (390 × 844, and the pages that matter at 200 % zoom), as the person who
applies meets it (issue #16 items 6 and 7): a patient applying for herself is never asked whether
the patient has died nor who of the family attends; a family member types their own name and
phone once, adds attending family with the button, and the consent question names them all; no
step after "who is applying" opens before the privacy policy is accepted; and a patient whose
son applied accepts the policy with her own account from her case page.

The sign-up and the whole family walk with documents are test_browser_application.py's; here
each person's session is made by the test client (no sign-in form), one browser per test.
"""

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from opiniondesk.accounts.models import Role, User
from opiniondesk.cases.models import Case
from opiniondesk.cases.tests.test_browser_application import (
    PHONE,
    accept_privacy_policy,
    answer,
    fill,
    fill_applicant,
    fill_consult,
    ja,
    save_and_continue,
)
from opiniondesk.cases.workflow import Status
from opiniondesk.readiness.models import PatientPrivacyAcceptance
from opiniondesk.testing.accessibility import ZOOMED_PHONE, reflow_problems
from opiniondesk.testing.builders import case_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def site(live_server, seeded) -> str:
    return live_server.url


def phone_page(browser, site: str, user: User, viewport=PHONE):
    """A phone's browser already signed in as `user` (the session made by the test client)."""
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    context = browser.new_context(locale="ja-JP", viewport=viewport, is_mobile=True)
    context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": site}])
    page = context.new_page()
    page.set_default_timeout(10_000)
    return page


def no_sideways_scroll(page) -> None:
    page.wait_for_load_state()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"{page.url} is {width}px wide"


def new_patient(username: str) -> User:
    return User.objects.create_user(
        username, f"{username}@example.jp", "unused-password-2026", role=Role.PATIENT
    )


def step_names(page) -> list[str]:
    """The wizard's list of steps, folded on a phone: read from the page, open or not."""
    return [
        item.strip()
        for item in page.locator(".wizard-steps li").all_text_contents()
        if item.strip()
    ]


def test_a_patient_applying_for_herself_is_asked_neither_death_nor_family_and_consent_comes_first(
    browser, site
):
    emi = new_patient("emi_kakuu")
    page = phone_page(browser, site, emi)
    page.goto(f"{site}{reverse('dashboard')}")
    with page.expect_navigation():
        page.get_by_role("button", name=ja("Start a new application")).click()
    case = Case.objects.get(applicant=emi)
    step_url = f"{site}/cases/{case.pk}/apply/"
    assert page.url == f"{step_url}applicant/"

    # Consent first: a later step typed into the address bar leads to the privacy policy.
    for later in ("patient", "sheet", "physician", "documents"):
        page.goto(f"{step_url}{later}/")
        assert page.url == f"{step_url}privacy/", later
        assert (
            ja("Please read and agree to the privacy policy first.")
            in page.locator(".messages").inner_text()
        )
    case.refresh_from_db()
    assert case.privacy_policy_id is None

    page.goto(f"{step_url}applicant/")
    page.get_by_label(ja("Who is applying?")).select_option("self")
    save_and_continue(page)
    assert page.url == f"{step_url}privacy/"
    no_sideways_scroll(page)
    accept_privacy_policy(page)

    # No list of attending family: straight to the patient, also when asked for by address.
    assert page.url == f"{step_url}patient/"
    page.goto(f"{step_url}proxies/")
    assert page.url == f"{step_url}patient/"
    assert ja("Family members attending") not in step_names(page)
    main = page.get_by_role("main")
    for not_asked in (
        "Has the patient passed away?",
        "Has the patient agreed in writing to your consultation?",
    ):
        assert main.get_by_role("group", name=ja(not_asked)).count() == 0, not_asked
    assert main.locator(".attendees").count() == 0
    assert ja("These are the patient's details, not yours.") not in main.inner_text()
    no_sideways_scroll(page)

    fill(page, "family name", "架空")
    fill(page, "given name", "恵美")
    fill(page, "family name (kana)", "カクウ")
    fill(page, "given name (kana)", "エミ")
    fill(page, "Year", "1960")
    page.get_by_label(ja("Month"), exact=True).select_option("4")
    page.get_by_label(ja("Day"), exact=True).select_option("1")
    answer(page, "sex", "female")
    fill(page, "postal code", "000-0000")
    fill(page, "address", "東京都架空区見本町4-5-6")
    fill(page, "phone reachable on weekdays", "090-0000-5678")
    fill(page, "e-mail", "emi_kakuu@example.jp")
    answer(page, "Does the patient live in Japan?", "Yes")
    answer(page, "Does the patient have Japanese public health insurance?", "Yes")
    save_and_continue(page)
    assert page.url == f"{step_url}consult/"
    # Only the chosen department's diseases are offered (found walking make run: any was).
    diseases = page.get_by_label(ja("disease"), exact=True)
    page.get_by_label(ja("department"), exact=True).select_option(label="脳神経内科")
    offered = [t.strip() for t in diseases.locator("option").all_inner_texts()]
    assert offered[1:] and all(t.startswith("脳神経内科 — ") for t in offered[1:]), offered
    fill_consult(page)  # cardiology, then a cardiology disease
    assert page.url == f"{step_url}sheet/"

    case.refresh_from_db()
    assert (case.applicant_relation, case.patient_name) == ("self", "架空 恵美")
    assert case.patient_deceased is False and not case.proxies.exists()  # she is alive
    page.context.close()


def test_a_son_types_himself_once_adds_his_father_and_the_consent_names_both(browser, site):
    son = new_patient("ken_kakuu")
    page = phone_page(browser, site, son)
    page.goto(f"{site}{reverse('dashboard')}")
    with page.expect_navigation():
        page.get_by_role("button", name=ja("Start a new application")).click()
    case = Case.objects.get(applicant=son)
    step_url = f"{site}/cases/{case.pk}/apply/"
    fill_applicant(page)  # 山田 健, 090-1234-5678, the patient's child
    accept_privacy_policy(page)
    assert page.url == f"{step_url}proxies/"
    no_sideways_scroll(page)

    # His own details are shown from the first step, not asked again.
    you = page.get_by_role("group", name=ja("You"), exact=True)
    assert "山田 健" in you.inner_text() and "090-1234-5678" in you.inner_text()
    assert you.get_by_role("textbox").count() == 0
    answer(page, "Will you attend the consultation yourself?", "Yes")

    # His father attends too (row 1); the button adds a row for his sister, keeping row 1.
    first = page.get_by_role("group", name=ja("Family member %(n)s") % {"n": 1})
    fill(first, "family name", "山田")
    fill(first, "given name", "太郎")
    fill(first, "family name (kana)", "やまだ")
    fill(first, "given name (kana)", "たろう")
    first.get_by_label(ja("relation to the patient")).select_option("spouse")
    fill(first, "phone", "090-2222-3333")
    add = page.get_by_role("button", name=ja("Add another family member"))
    add.scroll_into_view_if_needed()
    assert add.is_visible()
    with page.expect_navigation():
        add.click()
    second = page.get_by_role("group", name=ja("Family member %(n)s") % {"n": 2})
    assert second.count() == 1
    assert first.get_by_label(ja("given name"), exact=True).input_value() == "太郎"
    no_sideways_scroll(page)
    fill(second, "family name", "山田")
    fill(second, "given name", "桜")
    fill(second, "family name (kana)", "やまだ")
    fill(second, "given name (kana)", "さくら")
    second.get_by_label(ja("relation to the patient")).select_option("child")
    fill(second, "phone", "080-4444-5555")
    save_and_continue(page)

    # The consent question names everyone who attends.
    assert page.url == f"{step_url}patient/"
    attendees = page.locator(".attendees").inner_text()
    for name in ("山田 健", "山田 太郎", "山田 桜"):
        assert name in attendees, name
    consent = page.get_by_role(
        "group", name=ja("Has the patient agreed in writing to your consultation?")
    )
    assert consent.is_visible()
    assert page.get_by_role("group", name=ja("Has the patient passed away?")).is_visible()
    no_sideways_scroll(page)
    assert sorted(case.proxies.values_list("given_name", flat=True)) == sorted(["健", "太郎", "桜"])
    page.context.close()


def test_the_patient_accepts_the_policy_herself_from_her_case_page(browser, site):
    """Her son applied online; Hana signs in on her phone (at 200 % zoom) and agrees herself."""
    ken, hana = User.objects.get(username="proxy_ken"), User.objects.get(username="patient_hana")
    case = case_in(Status.ACCEPTED, relation="child", applicant=ken, patient_account=hana)
    page = phone_page(browser, site, hana, viewport=ZOOMED_PHONE)
    page.goto(f"{site}{reverse('case-detail', args=[case.pk])}")
    item = page.locator('[data-item="patient_privacy"]')
    assert item.get_attribute("data-state") == "todo"
    link = item.get_by_role("link").first
    link.scroll_into_view_if_needed()
    with page.expect_navigation():
        link.click()
    assert page.url == f"{site}{reverse('case-patient-privacy', args=[case.pk])}"
    assert reflow_problems(page) == []
    agree = page.get_by_role("button", name=ja("I agree"))
    agree.scroll_into_view_if_needed()
    with page.expect_navigation():
        agree.click()
    assert ja("Thank you. Your agreement is recorded.") in page.get_by_role("status").inner_text()
    assert page.locator("#accepted").is_visible()
    assert "demo-1" in page.locator("#accepted").inner_text()  # the version she agreed to
    assert PatientPrivacyAcceptance.objects.get(case=case).accepted_by == hana

    page.goto(f"{site}{reverse('case-detail', args=[case.pk])}")
    assert page.locator('[data-item="patient_privacy"]').get_attribute("data-state") == "done"
    assert reflow_problems(page) == []
    page.context.close()


def test_a_long_e_mail_address_wraps_on_the_case_page_at_200_percent_zoom(browser, site):
    """Found walking make run: the answers' grid column was as wide as the patient's e-mail
    address (a grid's 1fr is never narrower than its longest word), so her own case page
    scrolled sideways at 195 CSS pixels."""
    hana = User.objects.get(username="patient_hana")
    case = case_in(Status.SUBMITTED, patient_email="hanako.kakuu.mihoncho@example.jp")
    page = phone_page(browser, site, hana, viewport=ZOOMED_PHONE)
    page.goto(f"{site}{reverse('case-detail', args=[case.pk])}")
    assert "hanako.kakuu.mihoncho@example.jp" in page.get_by_role("main").inner_text()
    assert reflow_problems(page) == []
    page.context.close()
