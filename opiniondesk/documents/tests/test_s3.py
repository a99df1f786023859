"""Documents in a real S3-compatible server (SeaweedFS, `s3_storage`): stored through the upload
page with their SHA-256, served back through the permission-checked view, and nothing left in
the bucket by an upload that fails (issue #17, item 2)."""

import hashlib
import io
import os
import tracemalloc
from unittest import mock

import pytest
from asgiref.sync import async_to_sync
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import AsyncClient
from django.urls import reverse

from opiniondesk.audit.models import AuditEvent
from opiniondesk.cases.workflow import Status
from opiniondesk.core import storage
from opiniondesk.core.storage import PART_BYTES, ChecksumMismatch, expect_sha256
from opiniondesk.documents import services
from opiniondesk.documents.models import Document, UploadSource
from opiniondesk.documents.tests import samples
from opiniondesk.testing.builders import case_in

pytestmark = pytest.mark.django_db

MiB = 1024 * 1024


def _large_pdf(size: int) -> bytes:
    head, tail = samples.pdf_frame(size)
    return head + os.urandom(size - len(head) - len(tail)) + tail


def _get_async(user, url):
    client = AsyncClient()
    client.force_login(user)

    async def fetch():
        response = await client.get(url)
        if not response.streaming:
            return response, b"".join([response.content])
        return response, b"".join([part async for part in response.streaming_content])

    return async_to_sync(fetch)()


def test_a_document_goes_to_the_bucket_and_comes_back_through_the_view(
    s3_storage, wizard_for, proxy_ken
):
    wizard = wizard_for(proxy_ken)
    data = _large_pdf(PART_BYTES * 2 + 12345)  # three parts
    response = wizard.upload(
        "referral_letter", SimpleUploadedFile("紹介状.pdf", data, content_type="application/pdf")
    )
    assert response.status_code == 302
    document = Document.objects.get(case=wizard.case)
    sha256 = hashlib.sha256(data).hexdigest()
    assert document.sha256 == sha256 and document.size == len(data)
    assert s3_storage.keys() == [document.file.name]
    assert s3_storage.unfinished_uploads() == []
    head = s3_storage.server.client().head_object(
        Bucket=s3_storage.server.bucket, Key=f"{s3_storage.prefix}/{document.file.name}"
    )
    assert head["Metadata"]["sha256"] == sha256
    assert head["ContentLength"] == len(data)

    url = reverse("document-file", args=[document.pk]) + "?download=1"
    for _ in range(2):
        answer, body = _get_async(proxy_ken, url)
        assert answer.status_code == 200 and answer.is_async
        assert hashlib.sha256(body).hexdigest() == sha256
        assert answer["Content-Length"] == str(len(data))
        assert answer["Content-Disposition"].startswith("attachment; filename*=utf-8''")
        assert "no-store" in answer["Cache-Control"]
        # The bytes come from the app, never a link into the bucket.
        assert "Location" not in answer and s3_storage.server.endpoint not in str(answer.headers)
    # And under WSGI (FileResponse over the object's stream).
    wsgi = wizard.client.get(url)
    assert wsgi.status_code == 200 and b"".join(wsgi.streaming_content) == data
    assert AuditEvent.objects.filter(object_id=str(document.pk), action="download").count() == 3


def test_an_outsider_gets_nothing_from_the_bucket(s3_storage, patient_hana, dr_mori, outsider_eve):
    case = case_in(Status.ACCEPTED, applicant=patient_hana)
    letter = case.documents.get(kind="referral_letter")
    assert s3_storage.keys() == sorted(d.file.name for d in case.documents.all())
    for user in (dr_mori, outsider_eve):  # another department's specialist, a stranger
        answer, body = _get_async(user, reverse("document-file", args=[letter.pk]))
        assert answer.status_code == 404
        assert s3_storage.server.endpoint.encode() not in body and b"X-Amz" not in body
        assert s3_storage.server.endpoint not in str(answer.headers)
    assert not AuditEvent.objects.filter(object_id=str(letter.pk), action="download").exists()


def test_refused_and_oversized_uploads_leave_nothing_in_the_bucket(
    s3_storage, wizard_for, proxy_ken, settings
):
    wizard = wizard_for(proxy_ken)
    for name, data in (
        ("letter.pdf", b"MZ\x90\x00" + b"\x00" * 200),  # a program
        ("setup.zip", samples.archive({"setup.exe": b"MZ" + b"\0" * 100})),
    ):
        response = wizard.upload(
            "referral_letter", SimpleUploadedFile(name, data, content_type="application/pdf")
        )
        assert response.status_code == 200  # the form again, with the reason
    settings.DOCUMENT_MAX_BYTES = 3 * MiB
    response = wizard.upload(
        "referral_letter",
        SimpleUploadedFile("big.pdf", _large_pdf(4 * MiB), content_type="application/pdf"),
    )
    assert response.status_code == 200
    assert not Document.objects.filter(case=wizard.case).exists()
    assert s3_storage.keys() == [] and s3_storage.unfinished_uploads() == []


class _BreaksAfter(io.BytesIO):
    """A file whose reading fails part-way (a disk error, a client gone while it is copied)."""

    def __init__(self, data: bytes, at: int) -> None:
        super().__init__(data)
        self.at = at

    def read(self, size: int | None = -1) -> bytes:
        if self.tell() >= self.at:
            raise OSError("read failed")
        return super().read(size)


def test_a_multipart_upload_that_fails_midway_is_aborted(s3_storage):
    data = os.urandom(PART_BYTES * 2 + 10)
    with pytest.raises(OSError, match="read failed"):
        default_storage.save("cases/1/broken", _BreaksAfter(data, PART_BYTES + 1))
    assert s3_storage.keys() == [] and s3_storage.unfinished_uploads() == []


@pytest.mark.parametrize("size", [1000, PART_BYTES + 1000])
def test_bytes_that_differ_from_the_checked_file_are_not_kept(s3_storage, size):
    data = os.urandom(size)
    content = expect_sha256(ContentFile(data), hashlib.sha256(b"something else").hexdigest())
    with pytest.raises(ChecksumMismatch):
        default_storage.save("cases/1/changed", content)
    assert s3_storage.keys() == [] and s3_storage.unfinished_uploads() == []
    kept = default_storage.save(
        "cases/1/same", expect_sha256(ContentFile(data), hashlib.sha256(data).hexdigest())
    )
    assert s3_storage.keys() == [kept]
    with default_storage.open(kept) as stored:
        assert stored.read() == data


def test_threads_share_one_client_and_their_uploads_at_once_are_whole(s3_storage):
    """Under ASGI each request has a thread of its own: they all go through one boto3 client
    (a client per thread loaded the S3 model again for every upload), and uploads from eight
    threads at once, each in parts, each arrive whole under their own name."""
    from concurrent.futures import ThreadPoolExecutor

    files = {f"cases/1/at-once-{n}": os.urandom(PART_BYTES + 1000 * n) for n in range(8)}

    def upload(name: str) -> tuple[str, object]:
        data = files[name]
        content = expect_sha256(ContentFile(data), hashlib.sha256(data).hexdigest())
        return default_storage.save(name, content), default_storage.connection.meta.client

    with ThreadPoolExecutor(8) as pool:
        saved = list(pool.map(upload, files))
    assert len({id(client) for _, client in saved}) == 1
    assert sorted(s3_storage.keys()) == sorted(files) == sorted(name for name, _ in saved)
    assert s3_storage.unfinished_uploads() == []
    for name, data in files.items():
        with default_storage.open(name) as stored:
            assert hashlib.sha256(stored.read()).digest() == hashlib.sha256(data).digest()


@pytest.fixture
def documents_insert_fails(db):
    """The database refuses the document's row (as a full disk or a lost connection would),
    after its file is in the bucket: a real failure of the transaction, not of our code."""
    table = Document._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                f"CREATE TEMP TRIGGER refuse_document BEFORE INSERT ON {table} "
                "BEGIN SELECT RAISE(ABORT, 'disk full'); END"
            )
        else:
            cursor.execute(
                "CREATE FUNCTION pg_temp.refuse_document() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN RAISE EXCEPTION 'disk full'; END $$"
            )
            cursor.execute(
                f"CREATE TRIGGER refuse_document BEFORE INSERT ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION pg_temp.refuse_document()"
            )
    yield
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("DROP TRIGGER IF EXISTS refuse_document")
        else:
            cursor.execute(f"DROP TRIGGER IF EXISTS refuse_document ON {table}")


def test_a_transaction_that_fails_after_the_upload_removes_the_object(
    s3_storage, patient_hana, coordinator_sato, documents_insert_fails
):
    case = case_in(Status.AWAITING_DOCUMENTS, applicant=patient_hana, documents=False)
    before = s3_storage.keys()
    for size in (2000, PART_BYTES + 2000):  # one PUT, and a multipart upload
        head, tail = samples.pdf_frame(size)
        data = head + b"\0" * (size - len(head) - len(tail)) + tail
        with pytest.raises(Exception, match="disk full"):
            services.document_add(
                case=case,
                kind="referral_letter",
                uploaded=SimpleUploadedFile("letter.pdf", data),
                actor=coordinator_sato,
                source=UploadSource.STAFF,
            )
    assert s3_storage.keys() == before and s3_storage.unfinished_uploads() == []


def test_memory_of_an_upload_and_a_read_is_a_few_parts_not_the_file(s3_storage, tmp_path):
    """A file of eight parts of the smallest size S3 takes: the upload holds the parts in
    flight and the one being read, the read one chunk. 200 MB: bench/s3.py."""
    part = 5 * MiB
    source = tmp_path / "scan"
    with source.open("wb") as out:
        for _ in range(8):
            out.write(os.urandom(part))
    default_storage.exists("cases/1/scan")  # the S3 client made (its models loaded) before
    with mock.patch.object(storage, "PART_BYTES", part), source.open("rb") as handle:
        tracemalloc.start()
        try:
            name = default_storage.save("cases/1/scan", handle)
            _, upload_peak = tracemalloc.get_traced_memory()
            tracemalloc.reset_peak()
            digest = hashlib.sha256()
            with default_storage.open(name) as stored:
                while chunk := stored.read(512 * 1024):
                    digest.update(chunk)
            _, read_peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert digest.hexdigest() == hashlib.sha256(source.read_bytes()).hexdigest()
    # The parts in flight, the one being read, and a little: the whole file would be 8.
    assert upload_peak < (storage.PARTS_IN_FLIGHT + 1) * part, upload_peak
    assert read_peak < 2 * MiB, read_peak


@pytest.mark.real_clock  # a file's age is the storage's modification time
def test_the_sweep_removes_old_files_no_document_points_to(document_storage, patient_hana):
    """Local and in the bucket: what a process killed between the file and its row left."""
    from opiniondesk.documents.uploads import remove_orphan_files

    case = case_in(Status.SUBMITTED, applicant=patient_hana)
    documents = sorted(case.documents.values_list("file", flat=True))
    orphan = default_storage.save(f"cases/{case.pk}/orphan", ContentFile(b"%PDF-1.7\n"))
    outside = default_storage.save("elsewhere/kept", ContentFile(b"not a document"))
    assert remove_orphan_files() == 0  # younger than UPLOAD_TEMP_MAX_AGE_HOURS: maybe committing
    assert default_storage.exists(orphan)
    assert remove_orphan_files(max_age_hours=0) == 1
    assert not default_storage.exists(orphan)
    assert all(default_storage.exists(name) for name in [*documents, outside])
    if document_storage is not None:
        assert document_storage.keys() == sorted([*documents, outside])
