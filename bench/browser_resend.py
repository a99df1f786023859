"""The load test's people resend a request as a browser does when the server closed the
kept-alive connection it went out on, before any answer.

An HTTP server closes a connection that stayed idle for its keep-alive time (uvicorn: 5 s).
When a worker's event loop is busy, the request a client has just sent on that connection
and the timer that closes it are ready at once; if the timer goes first, the connection is
reset with the request unread (reproduced in bench/README.md, "The embedded run's resets").
A browser then sends the request again on a new connection (Chromium's
HttpNetworkTransaction::ShouldResendRequest), so the person sees nothing; python-requests,
which locust uses, counts an error. The people of bench/load.py resend once, like a browser,
and every resend is counted and printed, not hidden.
"""

import time
from typing import Any

from urllib3.exceptions import ProtocolError
from urllib3.util.retry import Retry

# What was sent again: {"at": time.time(), "url": ..., "error": ...}, one per resend.
RESENT: list[dict[str, Any]] = []


class BrowserResend(Retry):
    """Once, and only for a connection closed or reset before any answer (ProtocolError:
    RemoteDisconnected, ConnectionResetError); any other failure fails as before."""

    def __init__(self, **kw: Any) -> None:
        once = {"total": 1, "connect": 0, "read": 1, "redirect": 0, "status": 0, "other": 0}
        # Any method (a browser resends a POST too); Retry.new() passes its counts down.
        kw = once | {"allowed_methods": None} | kw
        kw.update(raise_on_redirect=False, raise_on_status=False)
        super().__init__(**kw)

    def increment(
        self,
        method: str | None = None,
        url: str | None = None,
        response: Any = None,
        error: Exception | None = None,
        _pool: Any = None,
        _stacktrace: Any = None,
    ) -> Retry:
        if not isinstance(error, ProtocolError):
            # As requests' own default (no retry): the error as it came.
            return Retry(0, read=False).increment(method, url, response, error, _pool, _stacktrace)
        resent = super().increment(method, url, response, error, _pool, _stacktrace)
        RESENT.append({"at": time.time(), "url": url or "", "error": repr(error)[:200]})
        return resent


def resend_like_a_browser(session: Any) -> None:
    """Mount the resend on every adapter of a requests (or locust) session."""
    for adapter in session.adapters.values():
        adapter.max_retries = BrowserResend()
