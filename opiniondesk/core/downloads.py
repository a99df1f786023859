"""Serving a stored file with bounded memory, whatever the size (issue #15, item 7).

Django's FileResponse reads its file through a *sync* iterator. Under ASGI, Django's handler
consumes a sync `streaming_content` whole (`sync_to_async(list)`) before it sends a byte: a
150 MB document cost the worker 150 MB, and CPython kept most of it afterwards. An *async*
iterator is sent chunk by chunk, each `send` waiting for the client (uvicorn's flow control),
so an ASGI request gets one: it reads CHUNK_BYTES at a time in a worker thread. The reverse
holds under WSGI (Django consumes an async iterator whole with `async_to_sync`), so a WSGI
request keeps FileResponse, which the WSGI server streams block by block.

Behind nginx or Apache, DOWNLOAD_ACCEL hands the sending to the proxy (`X-Accel-Redirect` to an
internal location, or `X-Sendfile`): the view has checked the permission and written the audit
row by then, and only the headers leave Django. Objects in a bucket have no local path and are
streamed as above, read from the object store as they are sent (core.storage.ObjectStream):
never a link into the bucket, which would skip these headers and outlive the check.
"""

import asyncio
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.core.files import File
from django.core.handlers.asgi import ASGIRequest
from django.http import FileResponse, HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.utils.http import content_disposition_header

# Reads of 512 KiB: few thread hops per file (300 for 150 MB); Django's ASGI handler sends them
# on in 64 KiB messages. What a download holds is about one chunk, not the file.
CHUNK_BYTES = 512 * 1024


async def _chunks(file: File) -> AsyncIterator[bytes]:
    """The file's bytes, read CHUNK_BYTES at a time off the event loop; closed at the end (and
    when the client goes away: Django's handler closes the iterator)."""
    try:
        while chunk := await asyncio.to_thread(file.read, CHUNK_BYTES):
            yield chunk
    finally:
        file.close()  # no await here: the task may be cancelled already (a client gone)


class AsyncFileResponse(StreamingHttpResponse):
    """A stored file as an async stream, its length known beforehand."""

    def __init__(self, file: File, *, size: int, **kwargs: Any) -> None:
        super().__init__(_chunks(file), **kwargs)
        # Closed with the response too, should it never be iterated (an error before sending).
        self._resource_closers.append(file.close)
        self.headers["Content-Length"] = str(size)


def _local_path(file: Any) -> str | None:
    try:
        return str(file.path)
    except NotImplementedError:  # object storage: no local file for the proxy to send
        return None


def _accelerated(file: Any, content_type: str) -> HttpResponse | None:
    how = settings.DOWNLOAD_ACCEL
    path = _local_path(file) if how != "none" else None
    if path is None:
        return None
    response = HttpResponse(content_type=content_type)
    if how == "nginx":
        location = settings.DOWNLOAD_ACCEL_LOCATION.rstrip("/")
        response["X-Accel-Redirect"] = f"{location}/{quote(file.name)}"
    else:
        response["X-Sendfile"] = path
    return response


def stored_file_response(
    request: HttpRequest,
    file: Any,
    *,
    content_type: str,
    filename: str,
    as_attachment: bool,
) -> HttpResponseBase:
    """The stored file (a FieldFile) as the answer, in memory bounded by a chunk: through the
    proxy when DOWNLOAD_ACCEL says so, as an async stream under ASGI, as FileResponse under
    WSGI. Call it after the permission check and the audit row: from here the bytes may go."""
    response: HttpResponseBase | None = _accelerated(file, content_type)
    if response is None and isinstance(request, ASGIRequest):
        file.open("rb")
        response = AsyncFileResponse(file, size=file.size, content_type=content_type)
    if response is None:
        streamed = FileResponse(
            file.open("rb"),
            content_type=content_type,
            as_attachment=as_attachment,
            filename=filename,
        )
        if "Content-Length" not in streamed:  # an object's stream cannot seek to measure itself
            streamed["Content-Length"] = str(file.size)
        return streamed
    disposition = content_disposition_header(as_attachment, filename)
    if disposition:
        response["Content-Disposition"] = disposition
    return response
