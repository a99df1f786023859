"""A large document through the site's ASGI handler: streamed, parsed, hashed, stored."""

import asyncio
import hashlib
import os
from unittest import mock

import pytest
from django.conf import settings as django_settings
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from django.urls import reverse

from opiniondesk.core.asgi import BodySizeLimit, StreamedBody, StreamingASGIHandler
from opiniondesk.documents.models import Document
from opiniondesk.documents.tests import samples

MiB = 1024 * 1024
CSRF = "c" * 32  # an unmasked token, as the cookie holds it


def _pdf(size: int) -> bytes:
    head, tail = samples.pdf_frame(size)
    return head + os.urandom(size - len(head) - len(tail)) + tail


def _post(url: str, session: str, body: bytes, *, cut_at: int | None = None):
    """POST `body` to `url` through the site's HTTP application (as config.asgi builds it, with
    the middleware loaded now, under this test's settings) in 64 KiB messages, as uvicorn would;
    `cut_at`: the client disconnects after that many bytes."""
    application = BodySizeLimit(StreamingASGIHandler(), max_bytes=django_settings.REQUEST_MAX_BYTES)

    chunks = [body[at : at + 64 * 1024] for at in range(0, len(body), 64 * 1024)]
    if cut_at is not None:
        chunks = chunks[: cut_at // (64 * 1024)]
    messages = [
        {
            "type": "http.request",
            "body": chunk,
            "more_body": cut_at is not None or n < len(chunks) - 1,
        }
        for n, chunk in enumerate(chunks)
    ]
    sent = []
    scope = {
        "type": "http",
        "method": "POST",
        "path": url,
        "query_string": b"",
        "scheme": "http",
        "http_version": "1.1",
        "headers": [
            (b"host", b"testserver"),
            (b"content-type", MULTIPART_CONTENT.encode()),
            (b"content-length", str(len(body)).encode()),
            (b"cookie", f"sessionid={session}; csrftoken={CSRF}".encode()),
            (b"x-csrftoken", CSRF.encode()),
            (b"accept", b"application/json"),
        ],
        "server": ("testserver", 80),
        "client": ("127.0.0.1", 50000),
    }

    async def receive():
        await asyncio.sleep(0)
        if messages:
            return messages.pop(0)
        if cut_at is not None:
            return {"type": "http.disconnect"}
        await asyncio.Event().wait()  # the client waits for the answer

    async def send(message):
        sent.append(message)

    asyncio.run(application(scope, receive, send))
    return sent


@pytest.fixture
def upload_dir(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path / "media" / ".upload-tmp")
    return tmp_path / "media" / ".upload-tmp"


@pytest.mark.django_db(transaction=True)
def test_a_streamed_upload_is_stored_with_the_hash_of_its_bytes(
    document_storage, wizard_for, proxy_ken, upload_dir
):
    wizard = wizard_for(proxy_ken)
    data = _pdf(5 * MiB + 123)  # larger than FILE_UPLOAD_MAX_MEMORY_SIZE: streamed
    body = encode_multipart(
        BOUNDARY, {"kind": "referral_letter", "file": _named(data, "紹介状.pdf")}
    )
    url = reverse("case-documents", args=[wizard.case.pk])
    with mock.patch.object(StreamedBody, "start", autospec=True, wraps=StreamedBody.start) as start:
        sent = _post(url, wizard.client.cookies["sessionid"].value, body)
    assert start.call_count == 1  # streamed, not spooled
    assert sent[0]["status"] == 200, sent
    document = Document.objects.get(case=wizard.case)
    assert document.original_name == "紹介状.pdf"
    assert document.size == len(data)
    assert document.sha256 == hashlib.sha256(data).hexdigest()
    with document.file.open("rb") as stored:
        assert stored.read() == data
    assert list(upload_dir.iterdir()) == []  # the temporary file became the document (or is gone)
    if document_storage is not None:
        assert document_storage.keys() == [document.file.name]


@pytest.mark.django_db(transaction=True)
def test_a_client_gone_mid_upload_leaves_no_document_and_no_file(
    document_storage, wizard_for, proxy_ken, upload_dir, caplog
):
    wizard = wizard_for(proxy_ken)
    body = encode_multipart(
        BOUNDARY, {"kind": "referral_letter", "file": _named(_pdf(6 * MiB), "scan.pdf")}
    )
    url = reverse("case-documents", args=[wizard.case.pk])
    sent = _post(url, wizard.client.cookies["sessionid"].value, body, cut_at=4 * MiB)
    # The CSRF check reads the form first and, as Django does for a broken connection, goes on
    # to the header; the view then finds no form data: a 400, not a server error.
    assert sent[0]["status"] == 400, sent
    assert not Document.objects.filter(case=wizard.case).exists()
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")]
    assert not upload_dir.exists() or list(upload_dir.iterdir()) == []
    if document_storage is not None:
        assert document_storage.keys() == [] and document_storage.unfinished_uploads() == []


def _named(data: bytes, name: str):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type="application/pdf")
