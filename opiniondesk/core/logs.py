"""Structured logs: a request id on every record of a request, and a JSON line per record.

The id comes from the proxy's `X-Request-ID` when it is well formed (nginx sends its
`$request_id`), else it is made here; it goes back on the answer's `X-Request-ID` header. It is
kept in a context variable, so that every record logged while the request is handled — by any
logger, in the event loop or in a thread that `sync_to_async` runs — carries it
(`RequestContextFilter`, on the handler). The ASGI wrapper sets it for the whole request (Django's
own "Internal Server Error" line is logged after the middleware returns) and for WebSockets;
the middleware sets it where no wrapper did (the test client, WSGI), puts the user's id in (an
id, never a name or an address) and writes one access line. A task run by the worker carries
`task-<its id>`.

`LOG_FORMAT=json` makes the console handler write `JsonFormatter`'s lines; the default stays
readable for `make run`.
"""

import json
import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponseBase

HEADER = "X-Request-ID"
# What a proxy's id may look like: nginx's $request_id (32 hex), a UUID, most tracing ids. No
# spaces, quotes or line breaks, so it can never forge a log line or a header.
WELL_FORMED = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{7,127}")
# URL parts that are bearer secrets (one-time links, allauth's reset and confirmation keys):
# the access line shows the route's place for them, never their value.
SECRET_KWARGS = frozenset({"token", "key", "uidb36", "uidb64"})

access_logger = logging.getLogger("opiniondesk.access")


@dataclass
class LogContext:
    request_id: str
    path: str | None = None  # a WebSocket's (ids only); a request's comes from `request`
    user_id: int | None = None
    request: HttpRequest | None = None

    def logged_path(self) -> str | None:
        return logged_path(self.request) if self.request is not None else self.path


_context: ContextVar[LogContext | None] = ContextVar("opiniondesk_log_context", default=None)


def current() -> LogContext | None:
    return _context.get()


def new_request_id() -> str:
    return uuid.uuid4().hex


def request_id_from(value: str | bytes | None) -> str:
    """The proxy's id when it is well formed, else a new one."""
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    if value and WELL_FORMED.fullmatch(value):
        return value
    return new_request_id()


def begin(request_id: str, path: str | None = None) -> Any:
    """Start a context (a request, a WebSocket, a task); returns the token for `end`."""
    return _context.set(LogContext(request_id=request_id, path=path))


def end(token: Any) -> None:
    _context.reset(token)


class RequestContextFilter(logging.Filter):
    """Adds request_id, user_id and path of the current context to every record (None outside
    one). On the handler, so that records of every logger pass it."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = _context.get()
        if not hasattr(record, "request_id"):
            record.request_id = context.request_id if context else None
        if not hasattr(record, "user_id"):
            record.user_id = context.user_id if context else None
        if not hasattr(record, "path"):
            record.path = context.logged_path() if context else None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (ISO 8601, UTC with its offset), level, logger, message,
    request_id, user_id, path, and status and duration_ms on access lines. Nothing else of the
    record is written (no arguments, no `extra` beyond these), so no name or address slips in."""

    FIELDS = ("request_id", "user_id", "path", "method", "status", "duration_ms", "task")

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for field in self.FIELDS:
            value = getattr(record, field, None)
            if value is not None:
                entry[field] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """The readable default: the message, with the request id in brackets when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        request_id = getattr(record, "request_id", None)
        return f"[{request_id}] {text}" if request_id else text


def logged_path(request: HttpRequest) -> str:
    """The path without its query string, its secret parts replaced, escaped against forged
    lines."""
    path = request.path
    match = getattr(request, "resolver_match", None)
    if match is not None:
        for name, value in match.kwargs.items():
            if name in SECRET_KWARGS and value:
                path = path.replace(str(value), f"<{name}>")
    return path.encode("unicode_escape").decode("ascii")


def _signed_in_user_id(request: HttpRequest) -> int | None:
    # The user as the request already loaded it (request.user is lazy): never a query for the
    # log, and no database access from the event loop.
    for attribute in ("_cached_user", "_acached_user"):
        user = request.__dict__.get(attribute)
        if user is not None and user.is_authenticated:
            return int(user.pk)
    return None


class RequestIdMiddleware:
    """Outermost: the request id on the context and the answer, one access line per request.

    Sync and async capable: under ASGI it runs in the event loop and costs no thread."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if self.is_async:
            return self.__acall__(request)
        context, token, started = self._start(request)
        try:
            response = self.get_response(request)
        finally:
            if token is not None:
                end(token)
        return self._finish(request, response, context, started)

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        context, token, started = self._start(request)
        try:
            get_response: Callable[[HttpRequest], Awaitable[HttpResponseBase]] = self.get_response
            response = await get_response(request)
        finally:
            if token is not None:
                end(token)
        return self._finish(request, response, context, started)

    def _start(self, request: HttpRequest) -> tuple[LogContext, Any, float]:
        started = time.perf_counter()
        context = _context.get()
        token = None
        if context is None:  # no ASGI wrapper (the test client, WSGI)
            token = begin(request_id_from(request.headers.get(HEADER)))
            context = _context.get()
            assert context is not None
        # The path is logged from the request: once the URL is resolved, without its secrets.
        context.request = request
        request.request_id = context.request_id  # type: ignore[attr-defined]
        return context, token, started

    def _finish(
        self,
        request: HttpRequest,
        response: HttpResponseBase,
        context: LogContext,
        started: float,
    ) -> HttpResponseBase:
        response[HEADER] = context.request_id
        context.user_id = _signed_in_user_id(request)
        path = logged_path(request)
        duration_ms = round((time.perf_counter() - started) * 1000, 1)
        # A load balancer's health probe every few seconds would drown the log: debug level.
        quiet = request.path.startswith("/healthz") and response.status_code == 200
        access_logger.log(
            logging.DEBUG if quiet else logging.INFO,
            "%s %s %d %.1f ms",
            request.method,
            path,
            response.status_code,
            duration_ms,
            extra={
                "request_id": context.request_id,
                "user_id": context.user_id,
                "path": path,
                "method": request.method,
                "status": response.status_code,
                "duration_ms": duration_ms,
            },
        )
        return response


Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


class RequestIdASGI:
    """Wraps the whole ASGI application: the request id is on the context from the first byte to
    the last (Django logs a 500 after its middleware returned) and on every answer, a 413 of
    the body limit too; a WebSocket's consumers log with the id of their connection."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]]) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        incoming = dict(scope.get("headers", [])).get(HEADER.lower().encode())
        request_id = request_id_from(incoming)
        # An HTTP request's path is logged once Django resolved it (secrets replaced); a
        # WebSocket's routes hold ids only.
        path = None
        if scope["type"] == "websocket":
            path = str(scope.get("path", "")).encode("unicode_escape").decode("ascii")
        token = begin(request_id, path)
        header = (HEADER.lower().encode(), request_id.encode())

        async def send_with_id(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = [h for h in message.get("headers", []) if h[0].lower() != header[0]]
                message = {**message, "headers": [*headers, header]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id if scope["type"] == "http" else send)
        finally:
            end(token)


# Tasks: the worker runs one at a time in its thread; its records carry `task-<id>`.
_task_tokens: ContextVar[Any] = ContextVar("opiniondesk_task_log_token", default=None)


def task_started(sender: Any, task_result: Any, **kwargs: Any) -> None:
    # A task run inside a request (the immediate backend) keeps the request's id.
    if _context.get() is None:
        _task_tokens.set(begin(f"task-{task_result.id}"))


def task_finished(sender: Any, task_result: Any, **kwargs: Any) -> None:
    token = _task_tokens.get()
    if token is not None:
        _task_tokens.set(None)
        end(token)
