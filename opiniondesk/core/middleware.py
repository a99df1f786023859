"""Middleware of the core app."""

import logging
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, UnreadablePostError

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
