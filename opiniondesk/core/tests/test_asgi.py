from asgiref.sync import async_to_sync

from opiniondesk.core.asgi import BodySizeLimit


def _call(app, headers, chunks):
    sent, seen = [], []

    async def receive():
        chunk = chunks.pop(0)
        return {"type": "http.request", "body": chunk, "more_body": bool(chunks)}

    async def send(message):
        sent.append(message)

    async def inner(scope, receive, send):
        while True:
            message = await receive()
            seen.append(message["type"])
            if message["type"] == "http.disconnect" or not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})

    scope = {"type": "http", "headers": headers}
    async_to_sync(BodySizeLimit(inner if app is None else app, max_bytes=10))(scope, receive, send)
    return sent, seen


def test_it_refuses_a_declared_oversize_body_before_reading_it():
    sent, seen = _call(None, [(b"content-length", b"11")], [b"x" * 11])
    assert sent[0]["status"] == 413 and seen == []


def test_it_cuts_an_undeclared_body_that_grows_too_large():
    _, seen = _call(None, [], [b"x" * 6, b"x" * 6])
    assert seen == ["http.request", "http.disconnect"]


def test_it_passes_bodies_within_the_limit():
    sent, seen = _call(None, [(b"content-length", b"10")], [b"x" * 5, b"x" * 5])
    assert sent[0]["status"] == 200 and seen == ["http.request", "http.request"]
