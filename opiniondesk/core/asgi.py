"""The ASGI side of HTTP requests: Django's handler, reading bodies our way, and a size guard.

Django's ASGI handler writes the whole request body to a temporary file before any view runs.
`StreamingASGIHandler` differs in two ways, both measured by bench/upload.py:

- **Uploads are streamed.** A multipart body larger than FILE_UPLOAD_MAX_MEMORY_SIZE is not
  spooled at all: the view's thread reads it (`StreamedBody`) while the event loop still receives
  it, so the multipart parser, the upload handlers and the disk work while the bytes arrive, and
  the file is written once instead of twice. At most AHEAD_BYTES wait unread per request.
- **Other bodies are spooled** as Django does, but in FILE_UPLOAD_TEMP_DIR (on MEDIA_ROOT's
  filesystem) instead of the system's temporary directory, which may be a tmpfs, and, once on
  disk, 1 MiB at a time in a worker thread while the next bytes are received.

`BodySizeLimit` refuses bodies larger than REQUEST_MAX_BYTES before they are read, so that a
client cannot fill the disk with one endless upload.
"""

import asyncio
import collections
import io
import tempfile
import threading
from collections.abc import Awaitable, Callable, MutableMapping
from contextlib import closing
from typing import IO, Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.urls import set_script_prefix

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

BATCH_BYTES = 1024 * 1024  # bytes gathered from the client's messages before they are handed on
AHEAD_BYTES = 8 * 1024 * 1024  # bytes of a streamed body received and not yet read, at most
STREAMED_METHODS = frozenset({"POST", "PUT", "PATCH"})


class ClientDisconnected(ConnectionAbortedError):
    """The client went away (or went silent) before its whole body arrived.

    An OSError: Django's HttpRequest.read turns it into UnreadablePostError, so the multipart
    parser stops, no upload is stored, and the CSRF check treats it as Django does a broken
    connection.
    """


class StreamedBody(io.RawIOBase):
    """A request body the view's thread reads while the event loop is still receiving it.

    A task on the event loop (`start`) receives the client's messages and queues them in batches
    of about `batch_bytes`, up to `ahead_bytes` not yet read; then it waits for the reader, and
    the client's sending waits with it (TCP flow control). The reader (`read`, from the view's
    thread) waits for the next batch. So the network, the parser and the disk all work at once,
    and memory stays at about `ahead_bytes` a request. A client silent for `idle_timeout`
    seconds counts as gone. Reading from the event loop's own thread would wait for itself, so
    it raises instead.
    """

    def __init__(
        self,
        receive: Receive,
        loop: asyncio.AbstractEventLoop,
        *,
        batch_bytes: int = BATCH_BYTES,
        ahead_bytes: int = AHEAD_BYTES,
        idle_timeout: float = 60.0,
    ) -> None:
        super().__init__()
        self._receive, self._loop = receive, loop
        self._batch_bytes, self._ahead_bytes = batch_bytes, ahead_bytes
        self._idle_timeout = idle_timeout
        self._loop_thread = threading.get_ident()
        self._data, self._at = b"", 0
        # Shared by the receiving task and the reader, under _lock:
        self._lock = threading.Condition()
        self._batches: collections.deque[bytes] = collections.deque()
        self._queued = 0  # bytes in _batches
        self._ended = False  # no more batches will come
        self._error: BaseException | None = None
        # The receiving task's own (event loop only):
        self._room = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start receiving; call from the event loop."""
        self._task = self._loop.create_task(self._receive_all())

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1, /) -> bytes:
        if self.closed:
            raise ValueError("read of a closed request body")
        if size is None or size < 0:
            return self.readall()
        if size == 0:
            return b""
        while self._at >= len(self._data):
            if not self._next_batch():
                return b""
        start = self._at
        self._at = min(start + size, len(self._data))
        if start == 0 and self._at == len(self._data):
            return self._data  # the whole batch: no copy
        return self._data[start : self._at]

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        data = self.read(len(view))
        view[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if self._task is not None:
            # Stops receiving for a reader that is gone; close() runs on the event loop.
            self._loop.call_soon_threadsafe(self._task.cancel)
            self._task = None
        self._data = b""
        with self._lock:
            self._batches.clear()
            self._queued = 0
        super().close()

    def _next_batch(self) -> bool:
        """Wait for the next batch; False at the end of the body."""
        if threading.get_ident() == self._loop_thread:
            raise RuntimeError(
                "A streamed request body is read from a synchronous view or middleware, "
                "not from the event loop."
            )
        with self._lock:
            while not self._batches and not self._ended:
                self._lock.wait()
            if not self._batches:
                if self._error is not None:
                    raise ClientDisconnected(str(self._error)) from self._error
                return False
            self._data, self._at = self._batches.popleft(), 0
            self._queued -= len(self._data)
            room = self._queued < self._ahead_bytes
        if room:
            self._loop.call_soon_threadsafe(self._room.set)
        return True

    async def _receive_all(self) -> None:
        error: BaseException | None = None
        try:
            more = True
            while more:
                parts: list[bytes] = []
                gathered = 0
                while more and gathered < self._batch_bytes:
                    message = await self._next_message()
                    if body := message.get("body", b""):
                        parts.append(body)
                        gathered += len(body)
                    more = message.get("more_body", False)
                with self._lock:
                    self._batches.append(parts[0] if len(parts) == 1 else b"".join(parts))
                    self._queued += gathered
                    self._lock.notify()
                    full = self._queued >= self._ahead_bytes
                    if full:
                        self._room.clear()
                if full and more:
                    await self._room.wait()
        except asyncio.CancelledError as exc:
            error = ClientDisconnected("the request ended before its body was read")
            raise exc
        except Exception as exc:  # handed to the reader, which raises it
            error = exc
        finally:
            with self._lock:
                self._ended, self._error = True, error
                self._lock.notify_all()

    async def _next_message(self) -> Message:
        try:
            message = await asyncio.wait_for(self._receive(), self._idle_timeout)
        except TimeoutError as exc:
            raise ClientDisconnected("the client sent nothing for too long") from exc
        if message["type"] == "http.disconnect":
            raise ClientDisconnected("the client disconnected during its upload")
        return message


def streams_body(scope: Scope) -> bool:
    """Whether the body of this request is streamed to the view: a large multipart upload."""
    if scope.get("method", "").upper() not in STREAMED_METHODS:
        return False
    headers = dict(scope.get("headers", []))
    content_type = headers.get(b"content-type", b"").lower()
    length = headers.get(b"content-length", b"")
    return (
        content_type.startswith(b"multipart/form-data")
        and length.isdigit()
        and int(length) > settings.FILE_UPLOAD_MAX_MEMORY_SIZE
    )


class StreamingASGIHandler(ASGIHandler):
    """Django's ASGIHandler: large uploads are streamed to the view, other bodies spooled."""

    write_size = BATCH_BYTES  # bytes gathered in memory before each write to the spool

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not streams_body(scope):
            await super().handle(scope, receive, send)
            return
        # Django's handle() with a streamed body. It differs in one more way: while the view
        # reads the body, nothing else may call receive(), so no task listens for a disconnect
        # (a disconnect reaches the view as ClientDisconnected instead).
        body = StreamedBody(receive, asyncio.get_running_loop(), batch_bytes=self.write_size)
        body.start()  # the body flows while the middleware and the view get ready
        with closing(body):
            set_script_prefix(get_script_prefix(scope))
            await signals.request_started.asend(sender=self.__class__, scope=scope)
            request, error_response = self.create_request(scope, body)
            if request is None:
                await self.send_response(error_response, send)
                await sync_to_async(error_response.close)()
                return
            response = await self.run_get_response(request)
            await self.send_response(response, send)
            await sync_to_async(response.close)()

    async def read_body(self, receive: Receive) -> IO[bytes]:
        """The whole body, in a file at offset 0; RequestAborted if the client disconnects."""
        body_file = tempfile.SpooledTemporaryFile(  # noqa: SIM115 (returned open)
            max_size=settings.FILE_UPLOAD_MAX_MEMORY_SIZE,
            mode="w+b",
            dir=settings.FILE_UPLOAD_TEMP_DIR,
        )
        write_in_thread = sync_to_async(body_file.write, thread_sensitive=False)
        gathered: list[bytes] = []
        gathered_bytes = 0
        writing: asyncio.Future[int] | None = None  # at most one write at a time, in order
        try:
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    raise RequestAborted()
                if body := message.get("body", b""):
                    gathered.append(body)
                    gathered_bytes += len(body)
                more = message.get("more_body", False)
                if gathered_bytes >= self.write_size or (gathered and not more):
                    data = b"".join(gathered)
                    gathered, gathered_bytes = [], 0
                    if writing is not None:
                        await writing
                        writing = None
                    if getattr(body_file, "_rolled", False):
                        # On disk: written meanwhile the next bytes are received.
                        writing = asyncio.ensure_future(write_in_thread(data))
                    else:
                        body_file.write(data)  # in memory (and rolled to disk when too large)
                if not more:
                    break
            if writing is not None:
                await writing
                writing = None
        except BaseException:
            if writing is not None:
                # Let the write in progress finish before the file is closed under it.
                await asyncio.wait([writing])
            body_file.close()
            raise
        body_file.seek(0)
        return body_file


class BodySizeLimit:
    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await _too_large(send)
            return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # Django stops reading and answers nothing; the client sees a closed request.
                    return {"type": "http.disconnect"}
            return message

        await self.app(scope, counting_receive, send)


async def _too_large(send: Send) -> None:
    body = b'{"detail": "Request body too large."}'
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class NoSuchSocket:
    """The last WebSocket route: a path no app serves is refused (403, as Channels refuses a
    handshake) instead of failing the router ("No route found", a 500 and a traceback in the
    log for every scanner's guess)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = await receive()
        if message["type"] == "websocket.connect":
            await send({"type": "websocket.close", "code": 1008})
