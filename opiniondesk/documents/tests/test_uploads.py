"""Each uploaded file is hashed as it arrives; inspection then trusts only that digest."""

import hashlib
import io
import os
from pathlib import Path
from unittest import mock

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile, TemporaryUploadedFile
from django.core.files.uploadhandler import load_handler
from django.http.multipartparser import MultiPartParser, MultiPartParserError
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st

from opiniondesk.documents import services
from opiniondesk.documents.content import Digest, FileKind, ZipLimits, inspect_upload
from opiniondesk.documents.formdata import READ_SIZE
from opiniondesk.documents.models import Document
from opiniondesk.documents.tests import samples
from opiniondesk.documents.uploads import (
    HashedInMemoryUploadedFile,
    HashedTemporaryUploadedFile,
    server_digest,
)

CHUNK_SIZE = READ_SIZE  # the parser's reads: bytes near their ends are the tricky ones

MiB = 1024 * 1024


def _parse(data: bytes, *, name: str = "scan.pdf", fields: dict | None = None):
    """Run Django's multipart parser over a form holding `data`, with the configured handlers."""
    body = encode_multipart(BOUNDARY, {**(fields or {}), "file": SimpleUploadedFile(name, data)})
    meta = {"CONTENT_TYPE": MULTIPART_CONTENT, "CONTENT_LENGTH": str(len(body))}
    handlers = [load_handler(path) for path in django_settings.FILE_UPLOAD_HANDLERS]
    post, files = MultiPartParser(meta, io.BytesIO(body), handlers).parse()
    return post, files["file"]


def _pdf_of(size: int) -> bytes:
    head, tail = samples.pdf_frame(size)
    return head + os.urandom(size - len(head) - len(tail)) + tail


def test_the_site_parses_forms_with_the_streaming_handler():
    assert django_settings.FILE_UPLOAD_HANDLERS == [
        "opiniondesk.documents.formdata.StreamingMultipartHandler"
    ]


@pytest.mark.parametrize(
    "size",
    [
        1,
        CHUNK_SIZE - 1,
        CHUNK_SIZE,
        CHUNK_SIZE + 1,
        2 * MiB,  # FILE_UPLOAD_MAX_MEMORY_SIZE: the body is larger, so it goes to a file
        3 * CHUNK_SIZE + 17,
        5 * MiB + 3,
    ],
)
def test_the_handlers_digest_is_hashlibs_of_the_stored_bytes(size):
    data = os.urandom(size)
    _, uploaded = _parse(data)
    assert uploaded.read() == data
    assert server_digest(uploaded) == Digest(size=size, sha256=hashlib.sha256(data).hexdigest())


@settings(max_examples=25, deadline=None)
@given(
    st.integers(min_value=1, max_value=3 * CHUNK_SIZE),
    st.binary(min_size=0, max_size=64),
)
def test_the_digest_is_right_whatever_the_size_and_the_bytes_near_the_boundary(size, tail):
    # Bytes like the boundary's own dashes and CRLFs at the end of a chunk must not confuse it.
    data = (os.urandom(size) + b"\r\n--" + tail)[: size + len(tail)]
    _, uploaded = _parse(data)
    assert server_digest(uploaded) == Digest(len(data), hashlib.sha256(data).hexdigest())


def test_small_files_stay_in_memory_and_large_ones_go_to_the_upload_temp_dir(settings, tmp_path):
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path / "not-yet-there")
    _, small = _parse(b"%PDF-1.7\n%%EOF\n")
    _, large = _parse(_pdf_of(3 * MiB))
    assert isinstance(small, HashedInMemoryUploadedFile)
    assert isinstance(large, HashedTemporaryUploadedFile)
    # Created on demand, private, and on the same filesystem as MEDIA_ROOT in production.
    assert Path(large.temporary_file_path()).parent == tmp_path / "not-yet-there"
    assert (tmp_path / "not-yet-there").stat().st_mode & 0o777 == 0o700
    large.close()


def test_an_interrupted_upload_leaves_no_temporary_file(settings, tmp_path):
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    body = encode_multipart(BOUNDARY, {"file": SimpleUploadedFile("scan.pdf", _pdf_of(5 * MiB))})
    cut = body[: 4 * MiB]  # the client went away in the middle of the file
    meta = {"CONTENT_TYPE": MULTIPART_CONTENT, "CONTENT_LENGTH": str(len(body))}
    handlers = [load_handler(path) for path in django_settings.FILE_UPLOAD_HANDLERS]
    with pytest.raises(MultiPartParserError, match="ended before"):
        MultiPartParser(meta, io.BytesIO(cut), handlers).parse()
    assert list(tmp_path.iterdir()) == []


def test_only_the_parsers_own_files_carry_a_digest(tmp_path):
    plain = SimpleUploadedFile("scan.pdf", b"%PDF-1.7\n%%EOF\n")
    plain.digest = Digest(15, "0" * 64)  # an attribute someone set is not the handlers' digest
    temporary = TemporaryUploadedFile("scan.pdf", "application/pdf", 0, None)
    assert server_digest(plain) is None and server_digest(temporary) is None
    temporary.close()


def test_a_client_supplied_hash_is_never_used():
    data = _pdf_of(3 * MiB)
    post, uploaded = _parse(data, fields={"sha256": "0" * 64, "digest": "0" * 64})
    assert server_digest(uploaded).sha256 == hashlib.sha256(data).hexdigest()
    assert post["sha256"] == "0" * 64  # a form field like any other, read by nobody


def test_inspection_uses_the_handlers_digest_and_reads_only_the_ends():
    data = _pdf_of(3 * MiB)
    _, uploaded = _parse(data)
    reads = []
    real_read = uploaded.file.read

    def counting_read(size=-1):
        chunk = real_read(size)
        reads.append(len(chunk))
        return chunk

    with mock.patch.object(uploaded.file, "read", counting_read):
        inspection = services._inspect(uploaded)
    assert inspection.sha256 == hashlib.sha256(data).hexdigest()
    assert inspection.size == len(data) and inspection.kind is FileKind.PDF
    # The first and the last bytes (a ZIP reader's look-back too), not 3 MiB again.
    assert sum(reads) < 128 * 1024


@pytest.mark.django_db
def test_a_large_upload_through_the_page_is_stored_with_the_hash_of_its_bytes(
    wizard_for, proxy_ken
):
    data = _pdf_of(3 * MiB)  # larger than FILE_UPLOAD_MAX_MEMORY_SIZE: a temporary file
    wizard = wizard_for(proxy_ken)
    with mock.patch.object(services, "inspect_upload", wraps=inspect_upload) as inspect:
        response = wizard.client.post(
            reverse("case-documents", args=[wizard.case.pk]),
            {"kind": "referral_letter", "file": SimpleUploadedFile("scan.pdf", data)},
            HTTP_ACCEPT="application/json",
        )
    assert response.json()["ok"] is True
    document = Document.objects.get()
    expected = hashlib.sha256(data).hexdigest()
    assert document.sha256 == expected and document.size == len(data)
    assert inspect.call_args.kwargs["digest"] == Digest(len(data), expected)
    with document.file.open("rb") as stored:
        assert hashlib.sha256(stored.read()).hexdigest() == expected


@pytest.mark.django_db
def test_a_wrong_file_with_a_digest_is_refused_as_before(wizard_for, proxy_ken, settings):
    settings.LANGUAGE_CODE = "en"
    wizard = wizard_for(proxy_ken)
    exe = b"MZ\x90\x00" + os.urandom(3 * MiB)  # through the temporary-file handler
    response = wizard.client.post(
        reverse("case-documents", args=[wizard.case.pk]),
        {"kind": "referral_letter", "file": SimpleUploadedFile("letter.pdf", exe)},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200 and "kind of file" in response.content.decode()
    assert not Document.objects.exists()


def test_the_inspection_of_every_kind_is_the_same_with_the_digest():
    for data in (
        samples.pdf(),
        samples.image("JPEG"),
        samples.image("PNG"),
        samples.heic(),
        samples.dicom(),
        samples.archive({"scan.pdf": samples.pdf(), "x.png": samples.image("PNG")}),
    ):
        digest = Digest(len(data), hashlib.sha256(data).hexdigest())
        limits = ZipLimits()
        plain = inspect_upload(io.BytesIO(data), max_bytes=10 * MiB, zip_limits=limits)
        hashed = inspect_upload(
            io.BytesIO(data), max_bytes=10 * MiB, zip_limits=limits, digest=digest
        )
        assert hashed == plain
