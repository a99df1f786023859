"""The coordinator's scheduling in a real browser: Sato signs in with her authenticator code, opens
Hana's accepted case, narrows the free dates to Dr Kato (htmx reloads the list in place, and the
address bar keeps the filter), offers two dates, then looks at the week and the month of the
calendar. Screenshots on a desktop and a phone go to tmp_path."""

import pytest
from django.urls import reverse

from opiniondesk.cases.models import PhoneLog
from opiniondesk.cases.tests.test_browser_application import Screens
from opiniondesk.cases.tests.test_browser_screening import sign_in_with_totp
from opiniondesk.cases.workflow import Status
from opiniondesk.core.time import JST
from opiniondesk.scheduling.models import Offer
from opiniondesk.scheduling.selectors import live_booking
from opiniondesk.scheduling.services import booking_create
from opiniondesk.scheduling.tests import factories

pytestmark = pytest.mark.browser


@pytest.fixture
def site(transactional_db, live_server, smtp_inbox):
    return live_server.url


def test_it_offers_dates_and_shows_the_calendar(
    site, browser, accepted, coordinator_sato, dr_kato, tmp_path
):
    sato, kato = coordinator_sato, dr_kato
    page = browser.new_context(locale="ja-JP").new_page()
    screens = Screens(page, tmp_path)
    sign_in_with_totp(page, site, "coordinator_sato")

    page.goto(f"{site}{reverse('staff-case', args=[accepted.pk])}#scheduling")
    boxes = page.locator("#sched-choices input[name=slots]")
    assert boxes.count() == 12
    screens.take("case-accepted")
    page.evaluate("window.notReloaded = true")
    with page.expect_response(lambda r: "/slots/" in r.url and r.status == 200):
        page.locator("#id_slotfilter_specialist").select_option(str(kato.pk))
    page.wait_for_function(
        "() => [...document.querySelectorAll('#sched-choices input[name=slots]')]"
        f".every(b => b.value.startsWith('{kato.pk}@'))"
    )
    assert page.evaluate("window.notReloaded") is True  # only the list was replaced
    assert f"specialist={kato.pk}" in page.url

    boxes.nth(0).check()
    boxes.nth(2).check()
    chosen = [boxes.nth(0).get_attribute("value"), boxes.nth(2).get_attribute("value")]
    with page.expect_navigation():
        page.locator("#sched-offer form[method=post] button[type=submit]").click()

    accepted.refresh_from_db()
    assert accepted.status == Status.OFFERED
    offer = Offer.objects.get(case=accepted)
    assert offer.offered_by == sato and offer.slots.count() == 2
    assert {
        f"{s.specialist_id}@{s.starts_at.astimezone(JST):%Y-%m-%dT%H:%M}" for s in offer.slots.all()
    } == set(chosen)
    assert page.locator(f"[data-offer='{offer.pk}']").is_visible()
    screens.take("case-offered")

    page.goto(f"{site}{reverse('staff-schedule')}?department=cardiology")
    page.locator("nav.cal-nav a[rel=next]").click()
    page.wait_for_load_state()
    assert page.locator(".cal-col").count() == 7
    screens.take("calendar-week")
    page.locator(".cal-views a").nth(1).click()
    page.wait_for_load_state()
    assert page.locator(".cal-month td").count() >= 28
    screens.take("calendar-month")


def test_the_case_page_draws_a_closed_form_when_it_is_opened(
    site, browser, accepted, coordinator_sato, dr_tanaka, patient_hana
):
    """Closed forms are not drawn with the page: opened, htmx fetches each (its character
    counter works) and what it sends is saved; the move form lists the free dates only then.
    Without JavaScript a link, or the filter's button, opens the page with them."""
    offer = factories.offer(accepted, coordinator_sato, factories.free_slots(accepted, limit=2))
    tanaka_held = offer.slots.get(specialist=dr_tanaka)
    booking_create(case_id=accepted.pk, actor=patient_hana, offered_slot_id=tanaka_held.pk)
    url = f"{site}{reverse('staff-case', args=[accepted.pk])}"
    page = browser.new_context(locale="ja-JP").new_page()
    sign_in_with_totp(page, site, "coordinator_sato")
    page.goto(url)
    assert page.locator("#calls .lazy-form").count() == 1
    assert page.locator("#sched-choices input").count() == 0

    with page.expect_response(lambda r: "open=phone" in r.url and r.status == 200):
        page.locator("#calls summary").click()
    page.locator("#id_phone_outcome_0").check()
    page.locator("#id_phone_notes").fill("留守番電話なし")
    assert page.locator("#id_phone_notes-count").inner_text().startswith("7 / 4000")
    with page.expect_navigation():
        page.locator("#form-phone button[type=submit]").click()
    assert PhoneLog.objects.get(case=accepted).notes == "留守番電話なし"

    page.locator("#sched-change summary").click()
    first = page.locator("#sched-choices input[name=target]").first
    first.check()  # waits for the list htmx loads
    target = first.get_attribute("value")
    page.locator("#id_change_change_reason").fill("担当医の学会のため")
    with page.expect_navigation():
        page.locator("#sched-change form[method=post] button[type=submit]").click()
    moved = live_booking(accepted.pk)
    assert moved.reason == "担当医の学会のため" and target

    nojs = browser.new_context(
        locale="ja-JP", java_script_enabled=False, storage_state=page.context.storage_state()
    ).new_page()
    nojs.goto(url)
    nojs.locator("#corrections summary").click()
    with nojs.expect_navigation():
        nojs.locator("#form-correct a").click()
    assert nojs.locator("#corrections details[open] form.correct-form").is_visible()
    nojs.locator("#sched-change summary").click()
    with nojs.expect_navigation():
        nojs.locator("#sched-change .sched-filter button[type=submit]").click()
    assert nojs.locator("#sched-choices input[name=target]").first.is_visible()
