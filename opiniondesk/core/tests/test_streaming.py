"""StreamedBody and StreamingASGIHandler: large uploads reach the view while they arrive."""

import asyncio
import hashlib
import os
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opiniondesk.core.asgi import ClientDisconnected, StreamedBody, streams_body

KiB, MiB = 1024, 1024 * 1024


def _messages(chunks):
    return [
        {"type": "http.request", "body": chunk, "more_body": number < len(chunks) - 1}
        for number, chunk in enumerate(chunks)
    ]


def _receiver(messages, log=None):
    async def receive():
        await asyncio.sleep(0)  # as a server does: other tasks run between messages
        if not messages:  # the body is over and the client stays: wait as a server would
            await asyncio.Event().wait()
        message = messages.pop(0)
        if log is not None:
            log.append(len(message.get("body", b"")))
        return message

    return receive


def _read_all(body, size):
    parts = []
    while data := body.read(size):
        parts.append(bytes(data))
    return b"".join(parts)


def _stream(receive, read, **kwargs):
    """Run `read(body)` in a worker thread while the event loop receives."""

    async def main():
        body = StreamedBody(receive, asyncio.get_running_loop(), **kwargs)
        body.start()
        try:
            return await asyncio.get_running_loop().run_in_executor(None, read, body)
        finally:
            body.close()
            await asyncio.sleep(0)

    return asyncio.run(main())


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.integers(min_value=0, max_value=300 * KiB), min_size=1, max_size=10),
    st.sampled_from([1, 7, 64 * KiB, 256 * KiB, MiB, 3 * MiB]),
    st.sampled_from([64 * KiB, MiB]),
)
def test_the_reader_gets_exactly_the_bytes_sent_however_they_are_split(sizes, read_size, batch):
    chunks = [os.urandom(size) for size in sizes]
    data = _stream(
        _receiver(_messages(chunks)),
        lambda body: _read_all(body, read_size),
        batch_bytes=batch,
        ahead_bytes=2 * batch,
    )
    assert hashlib.sha256(data).digest() == hashlib.sha256(b"".join(chunks)).digest()


def test_the_view_reads_the_first_bytes_before_the_client_has_sent_the_rest():
    first_read = threading.Event()
    messages = _messages([b"a" * MiB, b"b" * MiB])

    async def receive():
        if len(messages) == 1:
            # The rest is sent only once the reader has had the first part: a handler that
            # waited for the whole body would never get here (the test would time out).
            await asyncio.get_running_loop().run_in_executor(None, first_read.wait, 10)
            assert first_read.is_set()
        return messages.pop(0)

    def read(body):
        head = body.read(MiB)
        first_read.set()
        return head + _read_all(body, MiB)

    assert _stream(receive, read, batch_bytes=MiB) == b"a" * MiB + b"b" * MiB


def test_at_most_ahead_bytes_wait_for_a_slow_reader():
    messages = _messages([os.urandom(64 * KiB) for _ in range(160)])  # 10 MiB
    log: list[int] = []
    backlog = []

    def read(body):
        consumed = 0
        while data := body.read(64 * KiB):
            consumed += len(data)
            backlog.append(sum(log) - consumed)
            threading.Event().wait(0.001)  # a slow disk
        return consumed

    total = _stream(_receiver(messages, log), read, batch_bytes=256 * KiB, ahead_bytes=MiB)
    assert total == 10 * MiB
    # Received but not yet read: the queue, the reader's batch and the batch being gathered.
    assert max(backlog) <= MiB + 2 * 256 * KiB


def test_a_disconnect_reaches_the_reader_as_an_oserror():
    messages = [*_messages([b"x" * MiB] * 5)[:3], {"type": "http.disconnect"}]
    with pytest.raises(ClientDisconnected, match="disconnected"):
        _stream(_receiver(messages), lambda body: _read_all(body, MiB))
    assert issubclass(ClientDisconnected, OSError)  # Django's read() makes it UnreadablePostError


def test_a_silent_client_counts_as_gone():
    messages = _messages([b"x" * KiB, b"y"])[:1]  # more_body=True, then nothing

    with pytest.raises(ClientDisconnected, match="nothing"):
        _stream(_receiver(messages), lambda body: _read_all(body, MiB), idle_timeout=0.2)


def test_reading_on_the_event_loop_raises_instead_of_waiting_for_itself():
    async def main():
        body = StreamedBody(_receiver(_messages([b"x"])), asyncio.get_running_loop())
        body.start()
        with pytest.raises(RuntimeError, match="not from the event loop"):
            body.read(10)
        body.close()

    asyncio.run(main())


def test_closing_stops_receiving():
    calls = []

    async def receive():
        calls.append(1)
        await asyncio.sleep(0)
        return {"type": "http.request", "body": b"x" * KiB, "more_body": True}  # endless

    async def main():
        # Room for all it can receive here: only the close can stop it, not a full queue.
        body = StreamedBody(receive, asyncio.get_running_loop(), ahead_bytes=1024 * MiB)
        body.start()
        await asyncio.sleep(0.02)
        before = len(calls)
        await asyncio.sleep(0.02)
        assert len(calls) > before  # still receiving when closed
        body.close()
        await asyncio.sleep(0.01)
        seen = len(calls)
        await asyncio.sleep(0.05)
        return seen, len(calls)

    seen, later = asyncio.run(main())
    assert seen == later  # nothing received after close


@pytest.mark.parametrize(
    ("method", "content_type", "length", "streamed"),
    [
        ("POST", b"multipart/form-data; boundary=x", 3 * MiB, True),
        ("PUT", b"Multipart/Form-Data; boundary=x", 3 * MiB, True),
        ("POST", b"multipart/form-data; boundary=x", 2 * MiB, False),  # in memory anyway
        ("POST", b"application/x-www-form-urlencoded", 3 * MiB, False),
        ("POST", b"application/json", 3 * MiB, False),
        ("GET", b"multipart/form-data; boundary=x", 3 * MiB, False),
        ("POST", b"multipart/form-data; boundary=x", None, False),  # chunked: spooled
        ("POST", b"multipart/form-data; boundary=x", "-5", False),
    ],
)
def test_which_requests_are_streamed(settings, method, content_type, length, streamed):
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * MiB
    headers = [(b"content-type", content_type)]
    if length is not None:
        headers.append((b"content-length", str(length).encode()))
    assert streams_body({"type": "http", "method": method, "headers": headers}) is streamed
