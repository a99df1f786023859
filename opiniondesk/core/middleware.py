"""Middleware of the core app."""

import logging
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, UnreadablePostError
from django.utils.cache import add_never_cache_headers, has_vary_header
from django.utils.deprecation import MiddlewareMixin

from opiniondesk.core.logs import logged_path

logger = logging.getLogger(__name__)


class ClientGoneMiddleware:
    """Answers a request whose body stopped arriving with a 400, logged as what it is.

    A large upload is read while it arrives (core.asgi.StreamedBody). When the client goes away in
    the middle (a phone losing its signal), reading raises UnreadablePostError, which Django would
    log as an internal server error with a traceback, and mail to ADMINS. Nothing is stored
    either way; this only keeps the logs honest.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, UnreadablePostError):
            return None
        logger.info(
            "The client stopped sending its request body: %s %s", request.method, request.path
        )
        return HttpResponse(
            "The request body did not arrive.", status=400, content_type="text/plain"
        )


def _is_private(request: HttpRequest, response: HttpResponse) -> bool:
    """Whether the answer may hold someone's data: anything a signed-in user is shown, every
    API answer, and any answer that depends on a session (an anonymous visitor's half-filled
    self-check or sign-up). A public page for a visitor without a session stays cacheable."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return True
    if request.path.startswith("/api/"):
        return True
    has_session = settings.SESSION_COOKIE_NAME in request.COOKIES
    return has_session and has_vary_header(response, "Cookie")


class PrivateAnswerMiddleware(MiddlewareMixin):
    """`Cache-Control: no-store, private` on every answer with personal data (SPEC §13), so that
    neither a shared proxy nor the browser's back button keeps a copy."""

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if _is_private(request, response):
            add_never_cache_headers(response)  # no-store, no-cache, max-age=0, private
        return response


class HtmxRedirectMiddleware(MiddlewareMixin):
    """A redirect answering htmx (to sign in again after the idle timeout, say) becomes
    `HX-Redirect`, so that the whole page goes there: the browser would otherwise follow it
    inside htmx's request and swap a piece of the sign-in page into the case page, or nothing."""

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if request.headers.get("HX-Request") != "true" or not response.has_header("Location"):
            return response
        if not 300 <= response.status_code < 400:
            return response
        redirect = HttpResponse(status=204)
        redirect["HX-Redirect"] = response["Location"]
        for cookie in response.cookies.values():  # a cleared session stays cleared
            redirect.cookies[cookie.key] = cookie
        return redirect


REFUSED = frozenset({403, 404})
security_logger = logging.getLogger("opiniondesk.security")


class RefusalLogMiddleware(MiddlewareMixin):
    """One warning line of `opiniondesk.security` for each refused request (403, 404), so that
    someone trying other people's case numbers is seen. The line holds the status, the method,
    the path (never the query string, which may carry a name, nor a one-time link's token), the
    user's id and the address."""

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if response.status_code in REFUSED:
            user = getattr(request, "user", None)
            user_id = user.pk if user is not None and user.is_authenticated else None
            security_logger.warning(
                "Refused %d %s %s user=%s from=%s",
                response.status_code,
                request.method,
                logged_path(request),  # escaped (no forged lines), one-time link tokens replaced
                user_id,
                request.META.get("REMOTE_ADDR", ""),
                extra={"status_code": response.status_code, "user_id": user_id},
            )
        return response


class DropRefusals(logging.Filter):
    """Drops django.request's record of a 403 or 404 (RefusalLogMiddleware logs those)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return getattr(record, "status_code", None) not in REFUSED
