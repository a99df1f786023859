"""The ASGI side of HTTP requests: Django's handler, spooling bodies our way, and a size guard.

Django's ASGI handler writes the whole request body to a temporary file before any view runs.
`SpoolingASGIHandler` does the same, with two changes measured by bench/upload.py:

- the spool is in FILE_UPLOAD_TEMP_DIR (on MEDIA_ROOT's filesystem), not in the system's
  temporary directory, which may be a tmpfs: a 1 GB upload would then take 1 GB of memory;
- once the body is spooled to disk, it is written 1 MiB at a time in a worker thread while the
  next bytes are received, instead of one thread round trip per received message (64 KiB),
  each of which held back the socket meanwhile.

`BodySizeLimit` refuses bodies larger than REQUEST_MAX_BYTES before they are spooled, so that a
client cannot fill the disk with one endless upload.
"""

import asyncio
import tempfile
from collections.abc import Awaitable, Callable, MutableMapping
from typing import IO, Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.exceptions import RequestAborted
from django.core.handlers.asgi import ASGIHandler

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class SpoolingASGIHandler(ASGIHandler):
    """Django's ASGIHandler; only `read_body`, which spools the request body, differs."""

    write_size = 1024 * 1024  # bytes gathered in memory before each write to the spool

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
