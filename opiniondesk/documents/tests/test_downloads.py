"""A document is served with bounded memory: an async stream under ASGI, FileResponse under
WSGI, or handed to the proxy (DOWNLOAD_ACCEL); the permission check and the audit row come
first either way. The memory itself is what bench/downloads.py measures."""

import pytest
from asgiref.sync import async_to_sync
from django.test import AsyncClient, Client
from django.urls import reverse

from opiniondesk.audit.models import AuditEvent
from opiniondesk.cases.workflow import Status
from opiniondesk.core import downloads
from opiniondesk.documents.models import Document
from opiniondesk.testing.builders import add_document, case_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def letter(patient_hana, coordinator_sato, dr_tanaka):
    case = case_in(Status.ACCEPTED, applicant=patient_hana)
    document = case.documents.get(kind="referral_letter")
    Document.objects.filter(pk=document.pk).update(original_name="紹介状 2026.pdf")
    document.refresh_from_db()
    return document


def _stored(document):
    with document.file.open("rb") as f:
        return f.read()


def _downloads(document):
    return AuditEvent.objects.filter(object_id=str(document.pk), action="download").count()


def _get_async(user, url):
    """The view through Django's ASGI request path, from this (sync) test's thread, so that
    it shares the test's database transaction; the body read as an ASGI server would."""
    client = AsyncClient()
    client.force_login(user)

    async def fetch():
        response = await client.get(url)
        if not response.streaming:
            return response, [response.content]
        return response, [part async for part in response.streaming_content]

    return async_to_sync(fetch)()


def test_it_streams_the_file_asynchronously_under_asgi(
    document_storage, letter, patient_hana, monkeypatch
):
    monkeypatch.setattr(downloads, "CHUNK_BYTES", 1000)  # several reads of the small PDF
    url = reverse("document-file", args=[letter.pk]) + "?download=1"
    response, parts = _get_async(patient_hana, url)
    assert response.status_code == 200
    assert response.is_async
    content = _stored(letter)
    assert b"".join(parts) == content and len(parts) == -(-len(content) // 1000)
    assert response["Content-Length"] == str(len(content))
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        "attachment; filename*=utf-8''%E7%B4%B9%E4%BB%8B%E7%8A%B6%202026.pdf"
    )
    assert "no-store" in response["Cache-Control"]
    assert "sandbox" in response["Content-Security-Policy"]
    assert _downloads(letter) == 1


def test_it_refuses_before_sending_anything_under_asgi(document_storage, letter, dr_mori):
    response, _ = _get_async(dr_mori, reverse("document-file", args=[letter.pk]))
    assert response.status_code == 404 and not response.streaming
    assert _downloads(letter) == 0


def test_it_streams_synchronously_under_wsgi(document_storage, letter, patient_hana):
    client = Client()
    client.force_login(patient_hana)
    response = client.get(reverse("document-file", args=[letter.pk]))
    assert response.streaming and not response.is_async
    assert b"".join(response.streaming_content) == _stored(letter)
    assert response["Content-Length"] == str(letter.size)
    assert response["Content-Disposition"].startswith("inline; filename*=utf-8''")


@pytest.mark.parametrize("asgi", [False, True])
def test_nginx_sends_the_file_after_the_check_and_the_audit_row(
    letter, patient_hana, dr_mori, settings, asgi
):
    settings.DOWNLOAD_ACCEL = "nginx"
    settings.DOWNLOAD_ACCEL_LOCATION = "/_protected-media/"
    url = reverse("document-file", args=[letter.pk]) + "?download=1"
    if asgi:
        response, parts = _get_async(patient_hana, url)
        assert b"".join(parts) == b""
    else:
        client = Client()
        client.force_login(patient_hana)
        response = client.get(url)
        assert response.content == b""
    assert response["X-Accel-Redirect"] == f"/_protected-media/{letter.file.name}"
    assert response["Content-Disposition"].startswith("attachment; filename*=utf-8''")
    assert response["Content-Type"] == "application/pdf"
    assert "no-store" in response["Cache-Control"]
    assert _downloads(letter) == 1

    client = Client()
    client.force_login(dr_mori)  # not his department's case: no redirect for the proxy to follow
    refused = client.get(url)
    assert refused.status_code == 404 and not refused.has_header("X-Accel-Redirect")


def test_apache_gets_the_files_path(letter, coordinator_sato, settings):
    settings.DOWNLOAD_ACCEL = "apache"
    client = Client()
    client.force_login(coordinator_sato)
    response = client.get(reverse("document-file", args=[letter.pk]))
    assert response["X-Sendfile"] == letter.file.path
    assert response["Content-Disposition"].startswith("inline; filename*=utf-8''")
    assert response.content == b""


def test_a_larger_file_arrives_whole_in_chunks(patient_hana, coordinator_sato, dr_tanaka):
    case = case_in(Status.ACCEPTED, applicant=patient_hana, documents=False)
    document = add_document(case, "test_data", test_data_kind="ct_mri")
    padded = _stored(document).replace(
        b"%%EOF", b"%" + b"x" * (3 * downloads.CHUNK_BYTES) + b"\n%%EOF"
    )
    with open(document.file.path, "wb") as f:  # a file of several chunks (as stored, unchecked)
        f.write(padded)
    response, parts = _get_async(patient_hana, reverse("document-file", args=[document.pk]))
    assert b"".join(parts) == padded and len(parts) == 4
    assert max(len(part) for part in parts) == downloads.CHUNK_BYTES
    assert response["Content-Length"] == str(len(padded))
