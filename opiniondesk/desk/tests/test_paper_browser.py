"""A phone application typed in by the coordinator on a phone-sized screen (issue #16 item 8,
SPEC §3): Sato opens a case for a caller, attaches several scans at once, types the form in
part by part, records the signed form and sends it; weeks later she invites the caller to an
account. A visitor on a phone opens the blank forms from the public pages: real PDFs.

The non-browser walk, to the person's first sign-in, is test_paper_phone.py's; here the pages
themselves are driven at 390 × 844, and nothing may scroll sideways or hide a button.
"""

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from opiniondesk.cases.models import Case, Channel
from opiniondesk.cases.tests.test_browser_application import ACCEPTABLE, PHONE, answer, fill, ja
from opiniondesk.cases.workflow import Status
from opiniondesk.documents.models import Document
from opiniondesk.documents.tests import samples
from opiniondesk.readiness.models import PatientInvitation
from opiniondesk.referrals.models import PaperApplication
from opiniondesk.testing.personas import persona

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def site(live_server, seeded) -> str:
    return live_server.url


@pytest.fixture
def scans(tmp_path):
    made = {
        "letter.pdf": samples.pdf(),
        "ct.png": samples.image("PNG"),
        "signed-form.pdf": samples.pdf(),
    }
    for name, data in made.items():
        (tmp_path / name).write_bytes(data)
    return {name: tmp_path / name for name in made}


def fits(page) -> None:
    """No sideways scrolling; every button of the page can be seen and reached."""
    page.wait_for_load_state()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} is {width}px wide on a phone"
    hidden = page.evaluate(
        """() => [...document.querySelectorAll("main button, main .button-primary")]
          .filter((b) => { const r = b.getBoundingClientRect();
                           return r.width === 0 || r.left < 0 || r.right > innerWidth; })
          .map((b) => b.textContent.trim())"""
    )
    assert hidden == [], f"buttons off screen on {page.url}: {hidden}"


def save(page) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name=ja("Save"), exact=True).click()
    assert ja("Saved.") in page.locator(".messages").inner_text(), page.url


def part(page, title: str) -> None:
    """Open one part of the form from the paper application's page."""
    with page.expect_navigation():
        page.locator("#paper-parts").get_by_role("link", name=ja(title)).click()
    fits(page)


def test_sato_types_in_a_phone_application_on_a_phone(browser, site, scans):
    sato = persona("coordinator_sato")
    client = Client()
    client.force_login(sato)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    context = browser.new_context(locale="ja-JP", viewport=PHONE, is_mobile=True)
    context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": site}])
    page = context.new_page()
    page.set_default_timeout(10_000)

    page.goto(f"{site}{reverse('staff-home')}")
    with page.expect_navigation():
        page.get_by_role("link", name=ja("Open a case for a paper or phone application")).click()
    fits(page)
    answer(page, "How did the application reach us?", "by phone")
    fill(page, "family name", "架空")
    fill(page, "given name", "花子")
    fill(page, "family name (kana)", "カクウ")
    fill(page, "given name (kana)", "ハナコ")
    fill(page, "phone reachable on weekdays", "０９０－０００－１２３４")  # as typed on a phone
    with page.expect_navigation():
        page.get_by_role("button", name=ja("Open the case")).click()
    case = Case.objects.get(patient_family_name="架空")
    assert page.url == f"{site}{reverse('staff-paper', args=[case.pk])}"
    assert (case.channel, case.patient_phone) == (Channel.PHONE, "090-000-1234")
    assert ja("by phone") in page.locator("#paper-channel").inner_text()
    fits(page)

    # Two scans at once, each with what it is.
    scan_form = page.locator("#scan-form")
    file1 = scan_form.get_by_role("group", name=ja("File %(n)s") % {"n": 1})
    file1.get_by_label(ja("What is this document?")).select_option("referral_letter")
    file1.get_by_label(ja("File"), exact=True).set_input_files(scans["letter.pdf"])
    file2 = scan_form.get_by_role("group", name=ja("File %(n)s") % {"n": 2})
    file2.get_by_label(ja("What is this document?")).select_option("test_data")
    file2.get_by_label(ja("Kind of test data")).select_option("ct_mri")
    file2.get_by_label(ja("File"), exact=True).set_input_files(scans["ct.png"])
    with page.expect_navigation():
        scan_form.get_by_role("button", name=ja("Attach the scans")).click()
    assert "#paper-documents" in page.url
    assert "2" in page.locator(".messages").inner_text()
    assert page.locator("#paper-documents .plain-list li").count() == 2
    assert sorted(Document.objects.filter(case=case).values_list("kind", flat=True)) == [
        "referral_letter",
        "test_data",
    ]
    fits(page)

    # The form, part by part, with the application's own questions.
    part(page, "Who is applying")
    page.get_by_label(ja("Who is applying?")).select_option("self")
    save(page)

    part(page, "The patient")
    fill(page, "Year", "1950")
    page.get_by_label(ja("Month"), exact=True).select_option("4")
    page.get_by_label(ja("Day"), exact=True).select_option("1")
    answer(page, "sex", "female")
    fill(page, "postal code", "000-0000")
    fill(page, "address", "東京都架空区見本町7-8-9")
    answer(page, "Does the patient live in Japan?", "Yes")
    answer(page, "Does the patient have Japanese public health insurance?", "Yes")
    save(page)

    part(page, "Department and mode")
    answer(page, "How would you like the consultation?", "In person")
    page.get_by_label(ja("department"), exact=True).select_option(label="循環器内科")
    page.get_by_label(ja("disease"), exact=True).select_option(label="循環器内科 — 心不全")
    save(page)

    part(page, "Consultation sheet")
    fill(page, "current diagnosis", "心不全")
    fill(page, "treatment so far", "内服治療")
    page.get_by_label(ja("opinion on the current diagnosis and treatment")).check()
    fill(page, "questions for the specialist", "今の治療で良いでしょうか。")
    save(page)

    part(page, "Attending physician and questions")
    fill(page, "attending physician's name", "鈴木 一郎")
    fill(page, "institution", "見本町ハートクリニック")
    fill(page, "attending physician's department", "循環器内科")
    fill(page, "institution phone", "03-9876-5432")
    for question, choice in ACCEPTABLE.items():
        answer(page, question, choice)
    save(page)
    assert page.locator("#paper-parts .badge-warning").count() == 0

    # Not sent before the signed form is recorded; then recorded with its scan, and sent.
    assert page.locator("#paper-missing").count() == 1
    received = page.locator("#received-form")
    received.get_by_label(
        ja("The application form is signed, and so is the consent to the privacy policy on it.")
    ).check()
    received.get_by_label(ja("Scan of the signed form (optional)")).set_input_files(
        scans["signed-form.pdf"]
    )
    with page.expect_navigation():
        received.get_by_role("button", name=ja("Record as received")).click()
    assert page.locator("#paper-received-on").is_visible()
    assert page.locator("#paper-ready").is_visible()
    fits(page)
    send = page.locator("#paper-submit")
    send.scroll_into_view_if_needed()
    with page.expect_navigation():
        send.click()
    assert page.url == f"{site}{reverse('staff-case', args=[case.pk])}"
    assert ja("The paper application was sent.") in page.locator(".messages").inner_text()
    fits(page)
    case.refresh_from_db()
    assert case.status in (Status.SUBMITTED, Status.SCREENING)
    assert PaperApplication.objects.get(case=case).submitted_by == sato

    # Weeks later the caller wants to follow it online: the invitation to her own account.
    page.goto(f"{site}{reverse('staff-paper', args=[case.pk])}")
    handover = page.locator("#handover-form")
    handover.get_by_label(ja("E-mail address of the person who applied")).fill("hanako@example.jp")
    fits(page)
    with page.expect_navigation():
        handover.get_by_role("button", name=ja("Send the invitation")).click()
    assert "hanako@example.jp" in page.locator(".messages").inner_text()
    assert page.locator("#handover-open").is_visible()
    assert PatientInvitation.objects.get(case=case).email == "hanako@example.jp"
    context.close()


def test_a_visitor_on_a_phone_opens_the_blank_forms_as_pdfs(browser, site):
    context = browser.new_context(locale="ja-JP", viewport=PHONE, is_mobile=True)
    page = context.new_page()
    page.goto(f"{site}{reverse('public:contact')}")
    links = page.locator("#blank-forms a")
    assert links.count() == 3
    for n in range(3):
        link = links.nth(n)
        link.scroll_into_view_if_needed()
        assert link.is_visible()
        response = page.request.get(site + link.get_attribute("href"))
        assert response.ok, link.get_attribute("href")
        assert response.headers["content-type"] == "application/pdf"
        assert response.body().startswith(b"%PDF-")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"]
    context.close()
