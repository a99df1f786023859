"""localstripe (PyPI, a dev dependency) on loopback for the Stripe provider's tests, driven by the
real Stripe SDK.

`python -m opiniondesk.testing.stripe --port N` runs localstripe's own aiohttp application with
four differences from `.venv/bin/localstripe`, each to keep tests honest and apart:
- it listens on 127.0.0.1 only (localstripe's command binds every interface, `::`);
- it keeps its data in memory (localstripe pickles its whole store to /tmp/localstripe.pickle on
  every write, shared by every run on the machine);
- a PaymentIntent accepts `description`, as Stripe's does (localstripe answers 400 "Unexpected
  description");
- POSTs honour `Idempotency-Key` as Stripe documents (the first answer is replayed for the same
  key and path; another path with the key is a 400 idempotency_error; 5xx and 409 are not kept).
  localstripe itself ignores the header. Every POST's path and key is kept, so a test sees what
  our side sent (`GET /_config/harness/posts`); `POST /_config/harness/reset` empties it all.
"""

import argparse
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

SECRET_KEY = "sk_test_opiniondesk_localstripe"
PUBLISHABLE_KEY = "pk_test_opiniondesk_localstripe"
WEBHOOK_SECRET = "whsec_opiniondesk_test_secret"


def _serve(port: int) -> None:  # pragma: no cover - runs in the child process
    from aiohttp import web
    from localstripe import resources, server

    resources.Store.dump_to_disk = lambda self: None  # type: ignore[method-assign]

    original_init = resources.PaymentIntent.__init__

    def init_with_description(self: Any, *args: Any, description: Any = None, **kwargs: Any):
        original_init(self, *args, **kwargs)
        self.description = description

    resources.PaymentIntent.__init__ = init_with_description  # type: ignore[method-assign]

    replies: dict[str, tuple[str, int, str]] = {}
    posts: list[dict[str, str]] = []

    @web.middleware
    async def idempotency(request: web.Request, handler: Any) -> web.StreamResponse:
        key = request.headers.get("Idempotency-Key", "")
        if request.method != "POST" or not request.path.startswith("/v1/"):
            return await handler(request)
        await request.read()  # aiohttp keeps the body for the handler
        posts.append({"path": request.path, "key": key})
        if not key:
            return await handler(request)
        if key in replies:
            path, status, text = replies[key]
            if path != request.path:
                error = {
                    "type": "idempotency_error",
                    "message": "Keys for idempotent requests can only be used for the same "
                    "endpoint they were first used for.",
                }
                return web.json_response({"error": error}, status=400)
            return web.Response(
                status=status,
                text=text,
                content_type="application/json",
                headers={"Idempotent-Replayed": "true", "Idempotency-Key": key},
            )
        response = await handler(request)
        if isinstance(response, web.Response) and response.status < 500 and response.status != 409:
            replies[key] = (request.path, response.status, response.text or "")
        return response

    async def harness_posts(request: web.Request) -> web.Response:
        return web.json_response(posts)

    async def harness_reset(request: web.Request) -> web.Response:
        resources.store.clear()
        replies.clear()
        posts.clear()
        return web.Response()

    app = server.app
    app.middlewares.insert(0, idempotency)
    app.router.add_get("/_config/harness/posts", harness_posts)
    app.router.add_post("/_config/harness/reset", harness_reset)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _answers(url: str) -> bool:
    request = urllib.request.Request(
        f"{url}/v1/customers", headers={"Authorization": f"Bearer {SECRET_KEY}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=1) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


class LocalStripe:
    """A running localstripe: its base URL, and what the harness saw."""

    def __init__(self, url: str) -> None:
        self.url = url

    def _open(self, path: str, method: str = "GET") -> Any:
        request = urllib.request.Request(f"{self.url}{path}", method=method, data=b"")
        if method == "GET":
            request.data = None
        request.add_header("Authorization", f"Bearer {SECRET_KEY}")
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None

    def reset(self) -> None:
        self._open("/_config/harness/reset", "POST")

    def posts(self, path: str) -> list[str]:
        """The idempotency keys of every POST to `path`, in order."""
        return [p["key"] for p in self._open("/_config/harness/posts") if p["path"] == path]

    def payment_intents(self) -> list[dict[str, Any]]:
        return list(self._open("/v1/payment_intents?limit=100")["data"])


@pytest.fixture(scope="session")
def localstripe_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStripe]:
    """localstripe on 127.0.0.1 (one per test worker), started once and stopped at the end."""
    port = _free_port()
    log = Path(tmp_path_factory.mktemp("localstripe")) / "localstripe.log"
    root = Path(__file__).resolve().parents[2]
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "opiniondesk.testing.stripe", "--port", str(port)],
            cwd=root,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONPATH": str(root)},
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while not _answers(url):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"localstripe did not start: {log.read_text()[-2000:]}")
            time.sleep(0.1)
        yield LocalStripe(url)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def localstripe(localstripe_server: LocalStripe, settings: Any) -> LocalStripe:
    """The app configured for Stripe at localstripe, whose data is emptied for this test."""
    localstripe_server.reset()
    settings.STRIPE_SECRET_KEY = SECRET_KEY
    settings.STRIPE_PUBLISHABLE_KEY = PUBLISHABLE_KEY
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.STRIPE_API_BASE = localstripe_server.url
    settings.STRIPE_JS_URL = f"{localstripe_server.url}/js.stripe.com/v3/"  # localstripe's own
    return localstripe_server


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    _serve(parser.parse_args().port)
