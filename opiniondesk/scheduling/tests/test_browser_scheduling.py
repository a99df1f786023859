"""Issue #5's browser test, end to end in Japanese: the coordinator offers three dates on the case
page, the patient books one, moves it to another, and on the day of the consult is refused a
change online and shown the phone number instead. Time is frozen (and then moved) for the whole
process, the live server included."""

from datetime import datetime, time

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django.urls import reverse

from opiniondesk.cases.tests.test_browser_application import Screens
from opiniondesk.cases.tests.test_browser_screening import sign_in_with_totp
from opiniondesk.cases.workflow import Status
from opiniondesk.core.time import JST
from opiniondesk.scheduling.models import Booking, Offer

pytestmark = pytest.mark.browser
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=JST)  # Wednesday


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=True) as traveller:
        yield traveller


@pytest.fixture
def site(clock, transactional_db, live_server, smtp_inbox):
    return live_server.url


def patient_page(browser, site, user):
    """Hana's browser with a signed-in session (her login form is tested elsewhere)."""
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    context = browser.new_context(locale="ja-JP", viewport={"width": 420, "height": 900})
    context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": site}])
    page = context.new_page()
    page.set_default_timeout(10_000)
    return page


def live(case) -> Booking:
    return Booking.objects.get(case=case, cancelled_at__isnull=True)


def test_offer_three_book_change_and_be_refused_on_the_day(
    site, clock, browser, accepted, coordinator_sato, patient_hana, tmp_path
):
    hana = patient_hana

    # The coordinator offers the three earliest free dates.
    staff = browser.new_context(locale="ja-JP").new_page()
    staff_screens = Screens(staff, tmp_path / "staff")
    sign_in_with_totp(staff, site, "coordinator_sato")
    staff.goto(f"{site}{reverse('staff-case', args=[accepted.pk])}#scheduling")
    boxes = staff.locator("#sched-choices input[name=slots]")
    for index in range(3):
        boxes.nth(index).check()
    staff_screens.take("three-chosen")
    with staff.expect_navigation():
        staff.locator("#sched-offer form[method=post] button[type=submit]").click()
    accepted.refresh_from_db()
    assert accepted.status == Status.OFFERED
    offered = list(Offer.objects.get(case=accepted).slots.order_by("starts_at"))
    assert len(offered) == 3
    staff_screens.take("offered")

    # The patient books the first and moves to the second.
    page = patient_page(browser, site, hana)
    screens = Screens(page, tmp_path / "patient")
    page.goto(f"{site}{reverse('case-detail', args=[accepted.pk])}")
    assert page.locator("#dates .slot button").count() == 3
    screens.take("dates")
    with page.expect_navigation():
        page.locator("#dates .slot button").first.click()
    assert live(accepted).starts_at == offered[0].starts_at
    accepted.refresh_from_db()
    assert accepted.status == Status.BOOKED
    screens.take("booked")

    page.locator("#change-link").click()
    page.wait_for_load_state()
    with page.expect_navigation():
        page.locator("#other-dates .slot button").first.click()
    with page.expect_navigation():
        page.locator("#confirm-change").click()
    booking = live(accepted)
    assert booking.starts_at == offered[1].starts_at
    screens.take("changed")

    # On the day of the consult the patient can no longer change it online.
    consult_day = booking.starts_at.astimezone(JST).date()
    clock.move_to(datetime.combine(consult_day, time(9, 0), tzinfo=JST))
    # Days later: her session has ended (patients' sessions do), so she is signed in afresh.
    page = patient_page(browser, site, hana)
    screens = Screens(page, tmp_path / "patient")
    page.goto(f"{site}{reverse('case-detail', args=[accepted.pk])}")
    screens.take("on-the-day")
    assert page.locator("#change-link").count() == 0
    assert page.locator("#cancel-link").count() == 0
    call = page.locator("#call-to-change")
    assert call.is_visible()
    assert settings.HOSPITAL["phone"] in call.inner_text()
    assert settings.HOSPITAL["phone_hours"] in call.inner_text()

    # Even the change page, opened by its address, refuses and changes nothing.
    page.goto(f"{site}{reverse('case-booking-change', args=[accepted.pk])}")
    assert page.url.split("#")[0].endswith(reverse("case-detail", args=[accepted.pk]))
    assert page.locator("#call-to-change").is_visible()
    csrf = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    response = page.request.post(
        f"{site}{reverse('case-booking-change', args=[accepted.pk])}",
        form={"slot": str(offered[2].pk), "confirm": "1", "csrfmiddlewaretoken": csrf},
        headers={"X-CSRFToken": csrf, "Referer": page.url},
        max_redirects=0,
    )
    assert response.status == 302  # back to the case page with the message: not a CSRF 403
    assert (
        response.headers["location"]
        .split("#")[0]
        .endswith(reverse("case-detail", args=[accepted.pk]))
    )
    assert live(accepted).pk == booking.pk
    assert live(accepted).starts_at == offered[1].starts_at
