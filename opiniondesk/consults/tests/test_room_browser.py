"""The video consult in two real browsers against the real ASGI application (SPEC §7, §11).

Hana waits in the waiting room; Dr Tanaka, told by his list of today's consults, sends her a
message and calls her in; both confirm who is present; he starts the call and both decode the
other's video. Hana reloads and is back in the call; a second device of hers is refused, then
takes over deliberately; Dr Tanaka ends the call. Another call ends by itself at a limit shortened
for the test. Chromium's fake camera and microphone stand in for theirs.
"""

import json
import time
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse

from opiniondesk.cases.tests.test_browser_screening import sign_in, sign_in_with_totp
from opiniondesk.cases.workflow import Status
from opiniondesk.consults.models import Consult, ConsultState, EndReason, EventKind
from opiniondesk.consults.selectors import review_seconds
from opiniondesk.scheduling.selectors import live_booking
from opiniondesk.testing.builders import ready_case

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WAIT_MS = 20_000
# The page's own getStats reading (room.js exposes nothing else).
FRAMES = "async () => (await window.consultStats()).framesDecoded"
# Records the browser notifications the list of today's consults shows.
NOTIFICATIONS = """
window.shown = [];
window.Notification = class {
  static permission = "granted";
  static requestPermission() { return Promise.resolve("granted"); }
  constructor(title, options) { window.shown.push({ title, tag: options && options.tag }); }
};
"""


@pytest.fixture
def ready(seeded):
    return ready_case()


@pytest.fixture
def booked_soon(ready):
    """The clock (ticking) two minutes before Hana's booked time: her waiting room is open."""
    booking = live_booking(ready.pk)
    with time_machine.travel(booking.starts_at - timedelta(minutes=2), tick=True):
        yield booking


def page_of(browser, *, phone=False):
    size = {"width": 390, "height": 844} if phone else {"width": 1280, "height": 900}
    context = browser.new_context(locale="ja-JP", viewport=size, is_mobile=phone)
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    return page


def state_is(page, state):
    page.wait_for_selector(f"#room[data-state={state}]")


def frames(page) -> int:
    return page.evaluate(FRAMES)


def until(check, what, timeout=WAIT_MS / 1000, explain=None):
    """Poll `check` until it is true. (Playwright's wait_for_function takes a Promise for true,
    so an asynchronous getStats check must be polled from here.) On a timeout the message
    adds what `explain()` says."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() >= deadline:
            pytest.fail(f"timed out waiting for {what}{f': {explain()}' if explain else ''}")
        time.sleep(0.2)


# What a page's call is doing: the room's state, its peer connection's, the chosen route.
CALL_STATE = """async () => {
  const room = document.getElementById("room").dataset;
  return {state: room.state, media: room.media, ...(await window.consultStats())};
}"""


def decoding(page):
    """The page decodes the other side's video, and keeps doing so."""

    def explain():
        return page.evaluate(CALL_STATE)

    until(lambda: frames(page) > 0, "a first decoded frame", explain=explain)
    first = frames(page)
    until(lambda: frames(page) > first, "more decoded frames", explain=explain)


def hana_in_room(browser, url, case, *, phone=False):
    page = page_of(browser, phone=phone)
    sign_in(page, url, "patient_hana")
    page.goto(f"{url}{reverse('consult-room', args=[case.pk])}")
    return page


def tanaka_signed_in(browser, url):
    page = page_of(browser)
    page.add_init_script(NOTIFICATIONS)
    sign_in_with_totp(page, url, "dr_tanaka")
    return page


def call_started(hana, tanaka):
    """Dr Tanaka calls Hana in, both confirm who is present, and he starts the call."""
    tanaka.wait_for_selector("#patient-waiting[data-waiting=true]")
    tanaka.locator("#call-in").click()
    state_is(hana, "called")
    hana.locator("#present-confirm").click()
    tanaka.locator("#present-confirm").click()
    start = tanaka.locator("#start-call")
    tanaka.wait_for_selector("#start-call:not([disabled])")
    start.click()
    state_is(hana, "in_call")
    state_is(tanaka, "in_call")


def test_the_patient_waits_is_called_in_and_both_see_each_other(
    media_browser, asgi_url, ready, booked_soon, tmp_path
):
    url = asgi_url
    tanaka = tanaka_signed_in(media_browser, url)
    tanaka.goto(f"{url}{reverse('staff-consults')}")
    row = tanaka.locator(f"tr[data-case='{ready.pk}']")
    assert row.get_attribute("data-waiting") == "false"

    # Hana, on her phone, enters the waiting room: a calm page with the doctor, the department
    # and the number to call (§11.3).
    hana = hana_in_room(media_browser, url, ready, phone=True)
    state_is(hana, "waiting")
    header = hana.locator(".consult-header").inner_text()
    assert hana.locator("#room-status").inner_text().startswith("担当医がお呼びするまで")
    assert "田中" in header and "循環器内科" in header and "03-" in header
    assert hana.evaluate("document.documentElement.scrollWidth") <= 390
    assert hana.locator("#remote-video").get_attribute("playsinline") is not None
    hana.screenshot(path=tmp_path / "waiting.png", full_page=True)

    # Dr Tanaka's list tells him: the row, a notification.
    tanaka.wait_for_selector(f"tr[data-case='{ready.pk}'][data-waiting=true]")
    shown = tanaka.evaluate("window.shown")
    assert len(shown) == 1 and ready.reference in shown[0]["title"]
    with tanaka.expect_navigation():
        row.get_by_role("link", name="相談室を開く").click()

    # He is running late and says so; the message shows on Hana's waiting page.
    tanaka.wait_for_selector("#patient-waiting[data-waiting=true]")
    tanaka.locator("#message-text").fill("10分ほど遅れます。")
    tanaka.locator("#message-form button[type=submit]").click()
    hana.wait_for_selector("#doctor-message:not([hidden])")
    assert hana.locator("#doctor-message-text").inner_text() == "10分ほど遅れます。"

    call_started(hana, tanaka)
    decoding(hana)
    decoding(tanaka)
    hana.screenshot(path=tmp_path / "call-phone.png", full_page=True)
    consult = Consult.objects.get(booking=booked_soon)
    assert consult.state == ConsultState.IN_CALL
    assert consult.present_patient_side == ["山田 花"] and consult.present_hospital_side
    ready.refresh_from_db()
    assert ready.status == Status.IN_CONSULT

    # Both see the billable time, counted from the server's start.
    hana.wait_for_selector("#consult-clock:not([hidden])")
    assert int(hana.locator("#consult-clock").get_attribute("data-seconds")) >= review_seconds(
        ready
    )

    # The controls: her microphone off and on; sound only, which his page is told of; the
    # cameras she can switch to; his screen instead of his camera.
    mic = hana.locator("#toggle-mic")
    mic.click()
    assert mic.get_attribute("aria-pressed") == "true"
    mic.click()
    assert mic.get_attribute("aria-pressed") == "false"
    hana.locator("#toggle-audio-only").click()
    tanaka.wait_for_selector("#room[data-remote-audio-only=true]")
    hana.locator("#toggle-audio-only").click()
    tanaka.wait_for_selector("#room[data-remote-audio-only=false]")
    assert hana.locator("#camera-select option").count() >= 1
    assert hana.locator("#toggle-share").count() == 0  # the specialist's alone
    tanaka.locator("#toggle-share").click()
    tanaka.wait_for_selector("#toggle-share[aria-pressed=true]")
    decoding(hana)  # now his screen
    tanaka.locator("#toggle-share").click()
    tanaka.wait_for_selector("#toggle-share[aria-pressed=false]")

    # The chat beside the video, for when the sound fails; the notes are saved as he types.
    hana.locator("#chat-text").fill("音声が聞こえません")
    hana.locator("#chat-form button[type=submit]").click()
    tanaka.wait_for_selector("#chat-log li[data-side=patient]")
    assert "音声が聞こえません" in tanaka.locator("#chat-log").inner_text()
    tanaka.locator("#notes").fill("Echo findings discussed.")
    # A function, not a bare expression: Playwright evaluates a bare one with eval(), which the
    # page's Content-Security-Policy refuses.
    tanaka.wait_for_function(
        "() => document.querySelector('#notes-status').textContent.includes(':')"
    )
    consult.refresh_from_db()
    assert consult.notes == "Echo findings discussed."

    # Hana reloads: the same device rejoins the same call and the clock goes on.
    hana.reload()
    state_is(hana, "in_call")
    decoding(hana)
    decoding(tanaka)

    # Her second device is refused and the first stays in the call ...
    other = hana_in_room(media_browser, url, ready)
    other.wait_for_selector("#refused:not([hidden])")
    texts = json.loads(other.locator("#consult-texts").text_content())
    assert other.locator("#refused-text").inner_text() == texts["refused_device"]
    assert "すでに別の機器" in texts["refused_device"]
    state_is(hana, "in_call")
    decoding(hana)
    # ... until she takes over from it deliberately (the phone's battery is dying).
    other.locator("#take-over").click()
    state_is(other, "in_call")
    state_is(hana, "taken_over")
    decoding(other)
    decoding(tanaka)

    # Dr Tanaka ends the call: the case is completed; both pages say so and what comes next.
    tanaka.once("dialog", lambda dialog: dialog.accept())
    tanaka.locator("#end-call").click()
    state_is(other, "ended")
    state_is(tanaka, "ended")
    assert other.locator("#ended-next").inner_text()
    other.screenshot(path=tmp_path / "ended.png", full_page=True)
    consult.refresh_from_db()
    ready.refresh_from_db()
    assert consult.state == ConsultState.ENDED and consult.end_reason == EndReason.SPECIALIST
    assert ready.status == Status.COMPLETED
    kinds = list(consult.events.values_list("kind", flat=True))
    for kind in (
        EventKind.ENTERED,
        EventKind.RECONNECTED,
        EventKind.REFUSED_DEVICE,
        EventKind.TAKEN_OVER,
    ):
        assert kind in kinds, kind


def test_the_call_ends_by_itself_at_the_limit(
    media_browser, asgi_url, ready, booked_soon, settings
):
    # The limit counts the review too: 12 seconds of call are left, the last 6 with a warning.
    settings.CONSULT_LIMIT_MINUTES = (review_seconds(ready) + 12) / 60
    settings.CONSULT_WARN_BEFORE_END_MINUTES = 6 / 60
    url = asgi_url
    tanaka = tanaka_signed_in(media_browser, url)
    hana = hana_in_room(media_browser, url, ready)
    state_is(hana, "waiting")
    tanaka.goto(f"{url}{reverse('staff-consult-room', args=[ready.pk])}")
    call_started(hana, tanaka)
    decoding(hana)

    hana.wait_for_selector("#room[data-warning=end]")
    tanaka.wait_for_selector("#room[data-warning=end]")
    state_is(hana, "ended")
    state_is(tanaka, "ended")
    consult = Consult.objects.get(booking=booked_soon)
    assert consult.end_reason == EndReason.LIMIT and consult.ended_at == consult.limit_at
    assert (consult.ended_at - consult.started_at) == timedelta(seconds=12)
    ready.refresh_from_db()
    assert ready.status == Status.COMPLETED
    assert hana.locator("#ended-title").inner_text() != tanaka.locator("#ended-next").inner_text()


def test_a_call_through_the_hospitals_turn_server_alone(
    media_browser, asgi_url, ready, booked_soon, coturn, settings
):
    """Relay only (WEBRTC_RELAY_ONLY): both sides reach each other through coturn, with the
    credentials the server issued to each of them for this consult."""
    settings.WEBRTC_STUN_URLS = []
    settings.WEBRTC_TURN_URLS = [coturn.url]
    settings.WEBRTC_TURN_SECRET = coturn.secret
    settings.WEBRTC_RELAY_ONLY = True
    url = asgi_url
    tanaka = tanaka_signed_in(media_browser, url)
    hana = hana_in_room(media_browser, url, ready)
    state_is(hana, "waiting")
    tanaka.goto(f"{url}{reverse('staff-consult-room', args=[ready.pk])}")
    call_started(hana, tanaka)
    decoding(hana)
    decoding(tanaka)
    consult = Consult.objects.get(booking=booked_soon)
    assert consult.state == ConsultState.IN_CALL
    for page in (hana, tanaka):
        stats = page.evaluate("window.consultStats()")
        assert (stats["localCandidate"], stats["remoteCandidate"]) == ("relay", "relay")
        assert stats["localPort"] in coturn.relay_ports  # an address of our coturn's
