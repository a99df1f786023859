"""StreamingASGIHandler: the request body, spooled in FILE_UPLOAD_TEMP_DIR, in few large writes."""

import asyncio
import hashlib
import os
import tempfile
from pathlib import Path
from unittest import mock

import pytest
from asgiref.sync import async_to_sync
from django.core.exceptions import RequestAborted
from hypothesis import given, settings
from hypothesis import strategies as st

from opiniondesk.core.asgi import StreamingASGIHandler

MiB = 1024 * 1024


def _receiver(chunks: list[bytes], *, disconnect_after: int | None = None):
    messages = [
        {"type": "http.request", "body": chunk, "more_body": number < len(chunks) - 1}
        for number, chunk in enumerate(chunks)
    ]
    if disconnect_after is not None:
        messages = [*messages[:disconnect_after], {"type": "http.disconnect"}]

    async def receive():
        await asyncio.sleep(0)  # as a server does: other tasks run between messages
        if not messages:  # the body is over and the client stays: wait as a server would
            await asyncio.Event().wait()
        return messages.pop(0)

    return receive


def _read_body(chunks, **kwargs):
    handler = StreamingASGIHandler.__new__(StreamingASGIHandler)  # read_body needs no middleware
    return async_to_sync(handler.read_body)(_receiver(chunks, **kwargs))


def _split(data: bytes, size: int) -> list[bytes]:
    return [data[at : at + size] for at in range(0, len(data), size)] or [b""]


@pytest.fixture
def spool_dir(settings, tmp_path):
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    return tmp_path


@pytest.mark.parametrize("size", [0, 1, 1000, 2 * MiB, 2 * MiB + 1, 5 * MiB + 123])
def test_the_spooled_body_is_the_received_body(spool_dir, size):
    data = os.urandom(size)
    with _read_body(_split(data, 64 * 1024)) as body:
        assert body.tell() == 0
        assert body.read() == data


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=700 * 1024), min_size=1, max_size=12))
def test_any_split_of_the_body_into_messages_gives_the_same_bytes(sizes):
    chunks = [os.urandom(size) for size in sizes]
    with _read_body(chunks) as body:
        assert hashlib.sha256(body.read()).digest() == hashlib.sha256(b"".join(chunks)).digest()


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs Linux's /proc")
def test_a_large_body_goes_to_a_file_in_the_upload_temp_dir(spool_dir):
    with _read_body([b"x" * 3 * MiB]) as body:
        assert body._rolled
        # An unnamed file (O_TMPFILE) or a deleted one: its directory is what matters.
        location = os.readlink(f"/proc/self/fd/{body.fileno()}")
    assert location.startswith(f"{spool_dir}/")


def test_small_bodies_stay_in_memory(spool_dir):
    with _read_body([b"kind=referral_letter"]) as body:
        assert not body._rolled


def test_it_writes_a_large_body_in_few_large_writes(spool_dir):
    writes = []
    real_write = tempfile.SpooledTemporaryFile.write

    def write(self, chunk):
        writes.append(len(chunk))
        return real_write(self, chunk)

    data = os.urandom(8 * MiB)
    with (
        mock.patch.object(tempfile.SpooledTemporaryFile, "write", write),
        _read_body(_split(data, 64 * 1024)) as body,
    ):
        assert body.read() == data
    # 128 messages of 64 KiB, written 1 MiB at a time: 8 writes, not 128.
    assert len(writes) == 8 and sum(writes) == len(data)


def test_a_disconnect_aborts_and_closes_the_spool(spool_dir):
    closed = []
    real_close = tempfile.SpooledTemporaryFile.close

    def close(self):
        closed.append(self)
        real_close(self)

    with (
        mock.patch.object(tempfile.SpooledTemporaryFile, "close", close),
        pytest.raises(RequestAborted),
    ):
        _read_body(_split(os.urandom(5 * MiB), 64 * 1024), disconnect_after=60)
    assert len(closed) == 1 and closed[0].closed


def test_the_site_serves_http_through_the_spooling_handler():
    from config import asgi

    assert isinstance(asgi.django_asgi_app, StreamingASGIHandler)
    # Inside the request-id wrapper (core/logs.py) and the body size limit.
    assert asgi.application.app.application_mapping["http"].app is asgi.django_asgi_app


@pytest.mark.django_db
def test_django_reads_the_body_through_our_read_body(spool_dir):
    """Guards against a Django upgrade that would stop calling read_body: ours would go unused."""
    handler = StreamingASGIHandler()
    sent = []

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/",
        "query_string": b"",
        "headers": [(b"host", b"127.0.0.1"), (b"content-type", b"text/plain")],
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 5000),
    }
    with mock.patch.object(
        StreamingASGIHandler, "read_body", autospec=True, wraps=StreamingASGIHandler.read_body
    ) as read_body:
        async_to_sync(handler)(scope, _receiver([b"x" * MiB, b"y"]), send)
    assert read_body.call_count == 1
    assert sent[0]["type"] == "http.response.start"
