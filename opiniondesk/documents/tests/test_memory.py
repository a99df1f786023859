"""Large uploads are checked with bounded memory, whatever their size."""

import hashlib
import tracemalloc
import zipfile

from opiniondesk.documents.content import FileKind, Inspection, Member, ZipLimits, inspect_upload
from opiniondesk.documents.tests import samples

MiB = 1024 * 1024
PEAK_LIMIT = 20 * MiB


def sha256_of(path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(MiB):
            digest.update(chunk)
    return digest.hexdigest()


def large_pdf(path, size: int):
    """A valid PDF of `size` bytes, most of them a (sparse) unused stream: nothing held in
    memory."""
    head, tail = samples.pdf_frame(size)
    with path.open("wb") as f:
        f.write(head)
        f.seek(size - len(tail))
        f.write(tail)
    return path


def peak_while(action):
    tracemalloc.start()
    try:
        result = action()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_it_inspects_a_300_mb_file_in_bounded_memory(tmp_path):
    path = large_pdf(tmp_path / "scan.pdf", 300 * MiB)

    with path.open("rb") as upload:
        inspection, peak = peak_while(
            lambda: inspect_upload(upload, max_bytes=400 * MiB, zip_limits=ZipLimits())
        )

    assert inspection == Inspection(kind=FileKind.PDF, size=300 * MiB, sha256=sha256_of(path))
    assert peak < PEAK_LIMIT


def test_it_inspects_a_large_zip_member_in_bounded_memory(tmp_path):
    member = large_pdf(tmp_path / "scan.pdf", 60 * MiB)
    path = tmp_path / "scans.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.write(member, "scan.pdf")

    with path.open("rb") as upload:
        inspection, peak = peak_while(
            lambda: inspect_upload(upload, max_bytes=100 * MiB, zip_limits=ZipLimits())
        )

    assert inspection.members == (Member("scan.pdf", FileKind.PDF, 60 * MiB),)
    assert peak < PEAK_LIMIT
