"""inspect_upload with the digest the server computed while storing the upload."""

import hashlib
import io

import pytest

from opiniondesk.documents.content import (
    ContentRejected,
    Digest,
    FileKind,
    Inspection,
    RejectCode,
    ZipLimits,
    inspect_upload,
)
from opiniondesk.documents.tests import samples
from opiniondesk.documents.tests.test_memory import large_pdf, peak_while, sha256_of

MiB = 1024 * 1024


class CountingReader(io.BytesIO):
    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.bytes_read = 0

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        self.bytes_read += len(chunk)
        return chunk


def _inspect(fileobj, digest=None, max_bytes=10 * MiB):
    return inspect_upload(fileobj, max_bytes=max_bytes, zip_limits=ZipLimits(), digest=digest)


def _digest(data: bytes) -> Digest:
    return Digest(len(data), hashlib.sha256(data).hexdigest())


def test_with_the_digest_only_the_first_and_last_bytes_are_read():
    data = samples.padded_pdf(4 * MiB)
    reader = CountingReader(data)
    inspection = _inspect(reader, _digest(data))
    assert inspection == Inspection(FileKind.PDF, len(data), hashlib.sha256(data).hexdigest())
    # The first and last bytes, where a ZIP reader looks for its end record, and the PDF's
    # objects: not the 4 MiB stream.
    assert reader.bytes_read <= 4096 + 2048 + 65557 + 4096
    assert reader.tell() == 0  # left at offset 0, as without a digest


def test_a_digest_of_another_size_is_ignored_and_the_file_is_hashed():
    data = samples.pdf()
    reader = CountingReader(data)
    inspection = _inspect(reader, Digest(len(data) + 1, "0" * 64))
    assert inspection.sha256 == hashlib.sha256(data).hexdigest()
    assert reader.bytes_read >= len(data)


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", RejectCode.EMPTY),
        (samples.pdf() + b" " * 2000, RejectCode.TOO_LARGE),
        (b"MZ\x90\x00" + b"\0" * 100 + b"%%EOF", RejectCode.UNSUPPORTED_TYPE),
        (samples.pdf()[:-10], RejectCode.CORRUPT),  # no %%EOF: truncated
        (samples.image("PNG")[:-30], RejectCode.CORRUPT),
    ],
)
def test_every_refusal_is_the_same_with_the_digest(data, code):
    max_bytes = len(samples.pdf()) + 100 if code is RejectCode.TOO_LARGE else 10 * MiB
    with pytest.raises(ContentRejected) as without:
        _inspect(io.BytesIO(data), max_bytes=max_bytes)
    with pytest.raises(ContentRejected) as with_digest:
        _inspect(io.BytesIO(data), _digest(data), max_bytes=max_bytes)
    assert without.value.code == with_digest.value.code == code


def test_a_zip_is_still_opened_and_its_members_checked_with_the_digest():
    data = samples.archive({"../evil.pdf": samples.pdf()})
    with pytest.raises(ContentRejected) as refused:
        _inspect(io.BytesIO(data), _digest(data))
    assert refused.value.code == RejectCode.ZIP_UNSAFE_PATH


def test_a_300_mb_file_with_its_digest_is_inspected_in_bounded_memory_without_rereading(
    tmp_path,
):
    path = large_pdf(tmp_path / "scan.pdf", 300 * MiB)
    digest = Digest(300 * MiB, sha256_of(path))
    with path.open("rb") as upload:
        inspection, peak = peak_while(
            lambda: inspect_upload(
                upload, max_bytes=400 * MiB, zip_limits=ZipLimits(), digest=digest
            )
        )
        assert upload.tell() == 0
    assert inspection == Inspection(FileKind.PDF, 300 * MiB, digest.sha256)
    assert peak < 1 * MiB
