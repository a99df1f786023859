"""The device check in a real browser against the real ASGI application (HTTP and WebSocket).

Chromium's fake camera and microphone stand in for Hana's (opiniondesk.testing.browser: uvicorn
serves config.asgi in a thread of this process, on the test database).
"""

import json

import pytest
from django.urls import reverse
from django.utils.translation import gettext, override

from opiniondesk.readiness.models import DeviceCheck
from opiniondesk.scheduling.tests import conftest as scheduling_fixtures
from opiniondesk.testing.personas import PASSWORD

# Hana's accepted online case of the scheduling tests, as a fixture here too.
accepted = scheduling_fixtures.accepted

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


def ja(msgid: str) -> str:
    with override("ja"):
        return gettext(msgid)


@pytest.fixture
def browser(media_browser):
    return media_browser


@pytest.fixture
def hana_page(browser, asgi_url, patient_hana, tmp_path):
    """Hana signed in through the real sign-in form."""
    hana = patient_hana
    context = browser.new_context(locale="ja-JP", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{asgi_url}{reverse('account_login')}")
    page.get_by_label(ja("Username or email"), exact=True).fill(hana.username)
    page.get_by_label(ja("Password"), exact=True).fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("main").get_by_role("button", name=ja("Sign In")).click()
    assert page.url == f"{asgi_url}{reverse('dashboard')}"
    yield page
    page.screenshot(path=tmp_path / "last.png", full_page=True)
    context.close()


def on_screen(page, selector: str) -> bool:
    """Whether the element is shown, wholly inside the first screen as scrolled now."""
    return page.evaluate(
        """(selector) => {
          const box = document.querySelector(selector).getBoundingClientRect();
          return box.height > 0 && box.top >= 0 && box.bottom <= innerHeight
            && box.left >= 0 && box.right <= innerWidth;
        }""",
        selector,
    )


def test_hana_checks_her_camera_microphone_and_connection(hana_page, asgi_url, accepted, tmp_path):
    """On her phone (issue #16 item 10: the preview stays on screen with the question)."""
    page = hana_page
    page.set_viewport_size(PHONE)
    page.goto(f"{asgi_url}{reverse('device-check', args=[accepted.pk])}")
    assert page.locator("#device-check").is_visible()
    page.locator("#start-check").click()

    # The camera's preview shows while the microphone is being listened to.
    page.wait_for_selector("#check-camera[data-result=ok]")
    assert page.locator("#camera-preview").is_visible()
    page.screenshot(path=tmp_path / "running.png", full_page=True)
    page.wait_for_selector("#device-check[data-state=done]", timeout=40_000)
    page.screenshot(path=tmp_path / "done.png", full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    for check in ("camera", "microphone", "connection"):
        assert page.locator(f"#check-{check}").get_attribute("data-result") == "ok", check
    summary = page.locator("#summary")
    assert summary.get_attribute("data-passed") == "true"
    assert summary.get_attribute("data-saved") == "true"
    assert page.locator("#summary-failed").is_hidden()
    back = page.locator("#back-to-case")
    assert back.get_attribute("href") == reverse("case-detail", args=[accepted.pk])
    # The preview stays on screen with the question "do you see yourself?" (issue #16 item 10),
    # and the check can be made again after a pass too, from beside the question.
    assert on_screen(page, "#camera-preview") and on_screen(page, "#camera-question")
    assert on_screen(page, "#camera-question [data-retry]")
    assert (
        page.evaluate(
            "document.getElementById('camera-preview').srcObject.getVideoTracks()[0].readyState"
        )
        == "live"
    )
    assert page.locator("#retry-check").is_visible()
    assert page.locator("#start-check").is_hidden()

    check = DeviceCheck.objects.get(case=accepted)
    assert check.user.username == "patient_hana"
    assert check.camera_ok and check.microphone_ok and check.connection_ok
    assert check.round_trip_ms is not None and check.round_trip_ms < 1000
    assert "Chrome" in check.user_agent
    assert check.detail["camera"]["width"] > 0 and check.detail["camera"]["height"] > 0
    assert len(check.detail["connection"]["pings"]) == 5
    assert check.detail["connection"]["ice"]  # at least one route for the video call
    assert check.detail["microphone"]["result"] == "ok"

    # Checked again from the question: the old preview stops, the check runs anew and is
    # recorded again.
    page.locator("#camera-question [data-retry]").click()
    page.wait_for_selector("#device-check[data-state=running]")
    assert page.locator("#camera-question").is_hidden()
    page.wait_for_selector("#device-check[data-state=done]", timeout=40_000)
    assert page.locator("#summary").get_attribute("data-passed") == "true"
    assert page.locator("#camera-question").is_visible()
    assert DeviceCheck.objects.filter(case=accepted).count() == 2

    # Opened again, the page shows the check just made.
    page.reload()
    assert page.locator("#last-check").get_attribute("data-passed") == "true"


def test_the_check_reaches_the_hospitals_relay_with_the_credential_of_the_page(
    hana_page, asgi_url, accepted, coturn, settings
):
    """The page's TURN credential (this case, Hana) allocates a relay on a real coturn."""
    settings.WEBRTC_TURN_URLS = [coturn.url]
    settings.WEBRTC_TURN_SECRET = coturn.secret
    page = hana_page
    page.goto(f"{asgi_url}{reverse('device-check', args=[accepted.pk])}")
    page.locator("#start-check").click()
    page.wait_for_selector("#device-check[data-state=done]", timeout=40_000)
    check = DeviceCheck.objects.get(case=accepted)
    assert "relay" in check.detail["connection"]["ice"], check.detail


# The first request for the camera is refused, as when Hana clicks "Block" in the browser's prompt.
REFUSE_CAMERA_ONCE = """
const original = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
let refused = false;
navigator.mediaDevices.getUserMedia = async (constraints) => {
  if (constraints.video && !refused) {
    refused = true;
    throw new DOMException("Permission denied", "NotAllowedError");
  }
  return original(constraints);
};
"""


def test_a_refused_camera_is_explained_and_checked_again(hana_page, asgi_url, accepted, tmp_path):
    page = hana_page
    page.add_init_script(REFUSE_CAMERA_ONCE)
    page.goto(f"{asgi_url}{reverse('device-check', args=[accepted.pk])}")
    texts = json.loads(page.locator("#device-check-messages").text_content())
    page.locator("#start-check").click()
    page.wait_for_selector("#device-check[data-state=done]", timeout=40_000)

    page.screenshot(path=tmp_path / "refused.png", full_page=True)
    camera = page.locator("#check-camera")
    assert camera.get_attribute("data-result") == "failed"
    assert page.locator("#camera-result").inner_text() == texts["camera_NotAllowedError"]
    assert page.locator("#check-microphone").get_attribute("data-result") == "ok"
    assert page.locator("#summary").get_attribute("data-passed") == "false"
    assert page.locator("#summary-passed").is_hidden()
    assert page.locator("#camera-question").is_hidden()  # no picture to ask about
    check = DeviceCheck.objects.get(case=accepted)
    assert not check.camera_ok and check.microphone_ok and check.connection_ok
    assert check.detail["camera"] == {"result": "failed", "error": "NotAllowedError"}

    page.locator("#retry-check").click()
    page.wait_for_selector("#summary[data-passed=true]", timeout=40_000)
    assert camera.get_attribute("data-result") == "ok"
    assert [c.passed for c in DeviceCheck.objects.filter(case=accepted)] == [True, False]


def test_without_javascript_the_page_says_it_is_needed(browser, asgi_url, patient_hana, accepted):
    hana = patient_hana
    context = browser.new_context(locale="ja-JP", java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{asgi_url}{reverse('account_login')}")
    page.get_by_label(ja("Username or email"), exact=True).fill(hana.username)
    page.get_by_label(ja("Password"), exact=True).fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("main").get_by_role("button", name=ja("Sign In")).click()
    page.goto(f"{asgi_url}{reverse('device-check', args=[accepted.pk])}")
    assert page.locator("#needs-javascript").is_visible()
    assert page.locator("#device-check").is_hidden()
    context.close()
