"""Hana, in a real browser, in Japanese: signs in, books one of the offered dates, moves it to
another after confirming, and sees what is left to prepare. Screens go to the test's tmp folder."""

import os
from datetime import datetime

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django.urls import reverse

from opiniondesk.cases.workflow import Status
from opiniondesk.core.time import JST
from opiniondesk.scheduling.models import Booking
from opiniondesk.scheduling.services import offer_create
from opiniondesk.scheduling.tests import factories

pytestmark = pytest.mark.browser
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=JST)


@pytest.fixture
def site(transactional_db, live_server, coordinator_sato, accepted):
    slots = factories.free_slots(accepted, limit=6)[::2]
    offer_create(
        case_id=accepted.pk,
        actor=coordinator_sato,
        slots=[(s.specialist_id, s.starts_at) for s in slots],
        hold_until=factories.hold_until_for(slots),
    )
    return {"url": live_server.url, "case": accepted}


@pytest.fixture
def page(browser, tmp_path):
    context = browser.new_context(locale="ja-JP", viewport={"width": 1100, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    page.screenshot(path=tmp_path / "last.png", full_page=True)
    context.close()


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=True):
        yield


def sign_in(page, site, user) -> None:
    """A signed-in session, as after the login form (its e-mail check is tested elsewhere)."""
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    page.context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": site["url"]}])


def shot(page, tmp_path, name: str) -> None:
    folder = os.environ.get("SCREENSHOTS") or tmp_path
    page.screenshot(path=f"{folder}/{name}.png", full_page=True)


def test_hana_books_and_moves_her_consult(site, page, patient_hana, tmp_path):
    case = site["case"]
    sign_in(page, site, patient_hana)

    page.goto(site["url"] + reverse("case-detail", args=[case.pk]))
    shot(page, tmp_path, "1-dates")
    buttons = page.locator("#dates .slot button")
    assert buttons.count() == 3
    deadline = page.locator("#dates .deadline").inner_text()
    assert "2026年11月30日(月)" in deadline and "17:00" in deadline  # the desk still answers
    with page.expect_navigation():
        buttons.nth(0).click()

    shot(page, tmp_path, "2-booked")
    assert page.locator("#booking .slot-when").inner_text() == "2026年12月1日(火) 14:00~14:30"
    assert page.locator("#readiness [data-item=identity]").get_attribute("data-state") == "todo"
    page.locator("#change-link").click()
    shot(page, tmp_path, "3-change")
    with page.expect_navigation():
        page.locator("#other-dates .slot button").last.click()
    shot(page, tmp_path, "4-confirm")
    assert Booking.objects.get(case=case).starts_at.astimezone(JST).hour == 14  # not yet
    with page.expect_navigation():
        page.locator("#confirm-change").click()

    shot(page, tmp_path, "5-changed")
    assert page.locator("#booking .slot-when").inner_text() == "2026年12月1日(火) 15:00~15:30"
    live = Booking.objects.get(case=case, cancelled_at__isnull=True)
    assert live.starts_at.astimezone(JST).hour == 15
    case.refresh_from_db()
    assert case.status == Status.BOOKED

    page.goto(site["url"] + reverse("case-booking-cancel", args=[case.pk]))
    shot(page, tmp_path, "6-cancel")
    page.goto(site["url"] + reverse("case-identity", args=[case.pk]))
    shot(page, tmp_path, "7-identity")
    page.goto(site["url"] + reverse("dashboard"))
    shot(page, tmp_path, "8-dashboard")
