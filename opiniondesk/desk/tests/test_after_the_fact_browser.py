"""After the fact, on a phone (issue #16 item 10): Hana cancels her booked consult from her
case page; the page then says what happens now (no fee, the documents stay as medical
records, the case is closed) and how to apply again, with the phone number, and its
"Apply again" button starts a new application. The device check's part of item 10 is
readiness/tests/test_device_check_browser.py's (also on a phone)."""

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from opiniondesk.cases.models import Case
from opiniondesk.cases.tests.test_browser_application import PHONE, ja
from opiniondesk.cases.workflow import Status
from opiniondesk.scheduling.models import Booking
from opiniondesk.testing.accessibility import ZOOMED_PHONE, reflow_problems
from opiniondesk.testing.builders import ready_case
from opiniondesk.testing.personas import persona

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_hana_cancels_on_her_phone_and_is_told_what_happens_next(browser, live_server, seeded):
    site = live_server.url
    hana = persona("patient_hana")
    case = ready_case(applicant=hana)
    client = Client()
    client.force_login(hana)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    context = browser.new_context(locale="ja-JP", viewport=PHONE, is_mobile=True)
    context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": site}])
    page = context.new_page()
    page.set_default_timeout(10_000)

    page.goto(f"{site}{reverse('case-detail', args=[case.pk])}")
    cancel = page.locator("#cancel-link")
    cancel.scroll_into_view_if_needed()
    assert cancel.is_visible()
    with page.expect_navigation():
        cancel.click()
    page.get_by_label(ja("Reason (optional)")).fill("家族の都合で行けなくなりました。")
    confirm = page.locator("#confirm-cancel")
    confirm.scroll_into_view_if_needed()
    with page.expect_navigation():
        confirm.click()

    assert page.url == f"{site}{reverse('case-detail', args=[case.pk])}"
    assert ja("Your booking was cancelled.") in page.locator(".messages").inner_text()
    ending = page.locator("#what-next")
    assert ending.get_attribute("data-ending") == "cancelled"
    text = ending.inner_text()
    for what in ("fee", "documents", "closed"):
        assert ending.locator(f'[data-what="{what}"]').is_visible(), what
    assert ja("If you would like a second opinion after all") in text
    assert (
        ja(
            "Please apply again. A new application needs its own documents: ask your attending "
            "physician for a referral letter that is up to date."
        )
        in text
    )
    assert settings.HOSPITAL["phone"] in text
    booking = Booking.objects.get(case=case)
    assert booking.cancelled_at is not None and booking.cancelled_by == hana
    assert Case.objects.get(pk=case.pk).status == Status.CANCELLED

    # At 200 % zoom the whole box reflows: nothing to scroll sideways for.
    page.set_viewport_size(ZOOMED_PHONE)
    assert reflow_problems(page) == []
    again = page.get_by_role("button", name=ja("Apply again"))
    again.scroll_into_view_if_needed()
    assert again.is_visible()
    with page.expect_navigation():
        again.click()
    new = Case.objects.filter(applicant=hana).exclude(pk=case.pk).get()
    assert new.status == Status.DRAFT
    assert page.url == f"{site}{reverse('case-step', args=[new.pk, 'applicant'])}"
    context.close()
