"""Pytest fixtures for pages that need the real ASGI application (WebSockets) and a browser with
a camera and a microphone: the device check and the video consult.

pytest-django's live server speaks WSGI only, so uvicorn serves config.asgi in a thread of the
test process, on the test database and under the test's settings. Chromium's fake devices stand
in for the patient's and the doctor's camera and microphone.

Every browser a test gets (`browser` in conftest.py, `media_browser` here) is watched for
Content-Security-Policy violations (`csp_watched`): a test whose pages broke the policy fails.
"""

import importlib
import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
MEDIA_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    # A fake camera and microphone that need no permission prompt, and ICE candidates on
    # loopback (a test machine may have no other network).
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--allow-loopback-in-peer-connection",
    "--autoplay-policy=no-user-gesture-required",
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def asgi_url(transactional_db: None) -> Iterator[str]:
    """uvicorn serving config.asgi:application (static files as in development), as bin/serve
    does, in a thread: it shares the test database and the test settings."""
    import uvicorn
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

    # config.asgi builds Django's handler, and so its middleware, when first imported; build it
    # again now that the test settings (plain HTTP) apply.
    asgi = importlib.reload(importlib.import_module("config.asgi"))
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            ASGIStaticFilesHandler(asgi.application),
            host="127.0.0.1",
            port=port,
            ws="websockets-sansio",
            lifespan="off",
            log_level="warning",
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


# Reports each `securitypolicyviolation` of every page and frame to the test (an init script runs
# before the page's own scripts, so an inline script it blocks is seen too).
REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolation(
    `${event.effectiveDirective} refused ${event.blockedURI || "?"} on ${location.pathname}`
    + ` (${event.sourceFile || "?"}:${event.lineNumber}) ${event.sample || ""}`
  );
});
"""


class CspWatchedBrowser:
    """A Playwright Browser whose every new context (and page) records CSP violations."""

    def __init__(self, browser: Any) -> None:
        self._browser = browser
        self.violations: list[str] = []

    def new_context(self, **options: Any) -> Any:
        context = self._browser.new_context(**options)
        context.expose_function("__cspViolation", self._record)
        context.add_init_script(REPORT_CSP_VIOLATIONS)
        return context

    def new_page(self, **options: Any) -> Any:
        return self.new_context(**options).new_page()

    def _record(self, violation: str) -> None:
        self.violations.append(violation)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._browser, name)

    def flush(self) -> None:
        """Lets the reports still on their way arrive: a round trip to each open page."""
        for context in self._browser.contexts:
            for page in context.pages:
                # A page navigating or crashed has no report to wait for.
                with suppress(Exception):
                    page.evaluate("0")


@contextmanager
def csp_watched(browser: Any) -> Iterator[CspWatchedBrowser]:
    """The browser, watched; at the end the test fails on any CSP violation of its pages."""
    watched = CspWatchedBrowser(browser)
    yield watched
    watched.flush()
    if watched.violations:
        pytest.fail(
            "Content-Security-Policy violations:\n" + "\n".join(watched.violations),
            pytrace=False,
        )


def chromium_or_skip() -> str:
    if not CHROMIUM:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but Chromium is not installed: browser tests cannot be skipped")
        pytest.skip("Chromium is not installed (apt-get install chromium) — browser test skipped")
    return CHROMIUM


@pytest.fixture
def media_browser() -> Iterator[Any]:
    """Headless Chromium with a fake camera and microphone."""
    executable = chromium_or_skip()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=executable, args=MEDIA_FLAGS)
        with csp_watched(launched) as watched:
            yield watched
        launched.close()
