"""Uploads are checked by content, never by name (issue 3, item 4). Pure: no database."""

import hashlib
import io
import random

import pytest
from PIL import Image

from opiniondesk.documents import content
from opiniondesk.documents.content import (
    ContentRejected,
    FileKind,
    Inspection,
    RejectCode,
    ZipLimits,
    content_type,
    inspect_upload,
    is_inline_viewable,
)
from opiniondesk.documents.tests import samples

MiB = samples.MiB
PDF, PNG, JPEG = samples.pdf(), samples.image("PNG"), samples.image("JPEG")
HEIC, DICOM = samples.heic(), samples.dicom()


def inspect(data: bytes, **limits) -> Inspection:
    limits.setdefault("max_bytes", 10 * MiB)
    limits.setdefault("zip_limits", ZipLimits())
    return inspect_upload(io.BytesIO(data), **limits)


def refusal(data: bytes, **limits) -> ContentRejected:
    with pytest.raises(ContentRejected) as caught:
        inspect(data, **limits)
    return caught.value


def damaged(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1 :]


ACCEPTED = [
    ("a PDF", PDF, FileKind.PDF),
    ("a PDF with bytes before its header", b"\r\n" * 400 + PDF, FileKind.PDF),
    ("a PDF with blank lines after %%EOF", PDF + b"\n" * 1500, FileKind.PDF),
    ("a PNG", PNG, FileKind.PNG),
    ("a JPEG", JPEG, FileKind.JPEG),
    ("a JPEG with data after its image (motion photo)", JPEG + samples.random_bytes(), "jpeg"),
    ("a HEIC", HEIC, FileKind.HEIC),
    ("a HEIF of major brand mif1", samples.with_brands(HEIC, b"mif1", b"heic"), FileKind.HEIC),
    ("a DICOM image", DICOM, FileKind.DICOM),
    ("a DICOM with a TIFF preamble", samples.dicom(preamble=b"II*\x00" + bytes(124)), "dicom"),
]


@pytest.mark.parametrize(
    ("data", "kind"), [pytest.param(data, kind, id=name) for name, data, kind in ACCEPTED]
)
def test_it_accepts(data, kind):
    assert inspect(data) == Inspection(
        kind=FileKind(kind), size=len(data), sha256=hashlib.sha256(data).hexdigest()
    )


UNSUPPORTED, CORRUPT = RejectCode.UNSUPPORTED_TYPE, RejectCode.CORRUPT
REFUSED = [
    ("a Windows program renamed .pdf", samples.EXE, UNSUPPORTED),
    ("a Windows program carrying a PDF", samples.EXE + PDF, UNSUPPORTED),
    ("a shell script renamed .pdf", samples.SHELL_SCRIPT, UNSUPPORTED),
    ("a shell script carrying a PDF", b"#!/bin/sh\n" + PDF, UNSUPPORTED),
    ("random bytes", samples.random_bytes(), UNSUPPORTED),
    ("a text file", samples.TEXT, UNSUPPORTED),
    ("a PDF header after 1024 bytes", b" " * 1100 + PDF, UNSUPPORTED),
    ("a PDF without %%EOF", PDF.replace(b"%%EOF", b""), CORRUPT),
    ("a PDF cut in half", PDF[: len(PDF) // 2], CORRUPT),
    ("a truncated PNG", PNG[: len(PNG) // 2], CORRUPT),
    ("a PNG cut before IEND", PNG[:-12], CORRUPT),
    ("a PNG with a damaged byte", damaged(PNG, len(PNG) // 2), CORRUPT),
    ("a PNG header alone", PNG[:8], CORRUPT),
    ("a truncated JPEG", JPEG[: len(JPEG) // 2], CORRUPT),
    ("a JPEG header alone", JPEG[:3], CORRUPT),
    ("a truncated HEIC", HEIC[:-100], CORRUPT),
    ("a HEIC header alone", HEIC[:40], CORRUPT),
    ("an AVIF", samples.with_brands(HEIC, b"avif", b"mif1", b"miaf"), UNSUPPORTED),
    ("a HEIF claiming AVIF", samples.with_brands(HEIC, b"mif1", b"avif"), UNSUPPORTED),
    ("an MP4 video", samples.with_brands(HEIC, b"isom", b"mp41"), UNSUPPORTED),
    ("a truncated DICOM", DICOM[:-100], CORRUPT),
    ("a DICOM cut in its file meta", DICOM[:200], CORRUPT),
    ("a DICOM marker and garbage", bytes(128) + b"DICM" + samples.random_bytes(), CORRUPT),
    ("a DICOM preamble holding a program", samples.dicom(preamble=samples.EXE[:128]), UNSUPPORTED),
    ("a deflated DICOM (inflated in memory)", samples.deflated_dicom(), UNSUPPORTED),
    ("a 0-byte file", b"", RejectCode.EMPTY),
    ("an empty ZIP", samples.archive({}), RejectCode.ZIP_EMPTY),
]


@pytest.mark.parametrize(
    ("data", "code"), [pytest.param(data, code, id=name) for name, data, code in REFUSED]
)
def test_it_refuses(data, code):
    rejected = refusal(data)

    assert rejected.code == code
    assert rejected.detail
    assert rejected.member is None


@pytest.mark.parametrize(
    ("max_bytes", "outcome"),
    [(len(PDF) + 1, "pdf"), (len(PDF), "pdf"), (len(PDF) - 1, "TOO_LARGE")],
)
def test_it_refuses_a_file_one_byte_over_the_limit(max_bytes, outcome):
    if outcome == "TOO_LARGE":
        assert refusal(PDF, max_bytes=max_bytes).code == RejectCode.TOO_LARGE
    else:
        assert inspect(PDF, max_bytes=max_bytes).kind == outcome


class Endless(io.RawIOBase):
    """A stream that never ends, whatever size it might claim."""

    size = 10  # what Django's UploadedFile.size would say

    def readable(self):
        return True

    def seekable(self):
        return True

    def seek(self, offset, whence=0):
        return 0

    def readinto(self, buffer):
        buffer[:] = b"%PDF-".ljust(len(buffer), b"0")
        return len(buffer)


def test_it_counts_the_bytes_instead_of_trusting_a_declared_size():
    with pytest.raises(ContentRejected) as caught:
        inspect_upload(io.BufferedReader(Endless()), max_bytes=3 * MiB, zip_limits=ZipLimits())

    assert caught.value.code == RejectCode.TOO_LARGE


@pytest.mark.parametrize("data", [PNG, JPEG, HEIC], ids=["png", "jpeg", "heic"])
def test_it_refuses_images_with_too_many_pixels(data):
    assert inspect(data, max_image_pixels=64 * 48).kind in {"png", "jpeg", "heic"}

    rejected = refusal(data, max_image_pixels=64 * 48 - 1)

    assert rejected.code == RejectCode.IMAGE_TOO_LARGE


@pytest.mark.parametrize(
    "pillow_limit",
    [pytest.param(2000, id="pillow-warns"), pytest.param(1000, id="pillow-raises")],
)
@pytest.mark.parametrize("data", [PNG, JPEG], ids=["png", "jpeg"])
def test_it_turns_pillows_decompression_bomb_check_into_a_refusal(monkeypatch, data, pillow_limit):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", pillow_limit)  # the image has 3072 pixels

    assert refusal(data).code == RejectCode.IMAGE_TOO_LARGE


def test_it_leaves_the_file_at_its_start():
    accepted, refused = io.BytesIO(PDF), io.BytesIO(samples.EXE)

    inspect_upload(accepted, max_bytes=MiB, zip_limits=ZipLimits())
    with pytest.raises(ContentRejected):
        inspect_upload(refused, max_bytes=MiB, zip_limits=ZipLimits())

    assert accepted.tell() == refused.tell() == 0


def test_it_hashes_a_file_of_several_chunks():
    data = samples.image("PNG", size=(1200, 900))  # noise: about 3 MiB, so several chunks
    assert len(data) > 2 * MiB

    inspection = inspect(data)

    assert inspection.sha256 == hashlib.sha256(data).hexdigest()
    assert inspection.size == len(data)


def test_it_finds_the_pdf_end_across_a_chunk_boundary():
    head = PDF.replace(b"%%EOF\n", b"")
    padding = random.Random(3).randbytes(MiB - 2 - len(head))
    data = head + padding + b"%%EOF\n"  # the marker straddles the first 1 MiB chunk's end

    assert inspect(data).kind == FileKind.PDF


@pytest.mark.parametrize(
    ("kind", "mime", "inline"),
    [
        (FileKind.PDF, "application/pdf", True),
        (FileKind.JPEG, "image/jpeg", True),
        (FileKind.PNG, "image/png", True),
        (FileKind.HEIC, "image/heic", False),
        (FileKind.DICOM, "application/dicom", False),
        (FileKind.ZIP, "application/zip", False),
    ],
)
def test_it_gives_the_type_to_serve_and_whether_to_show_it_inline(kind, mime, inline):
    assert content_type(kind) == mime
    assert is_inline_viewable(kind) is inline


def test_it_knows_every_kind():
    assert {kind.value for kind in FileKind} == {
        "pdf",
        "jpeg",
        "png",
        "heic",
        "dicom",
        "zip",
        "fhir_json",
        "text",
    }


def test_it_refuses_a_dicom_header_too_large_to_read_safely(monkeypatch):
    # pydicom holds what it reads as Python objects, many times the bytes: reads are capped.
    monkeypatch.setattr(content, "_DICOM_MAX_READ_BYTES", 1000)

    assert refusal(DICOM).code == RejectCode.UNSUPPORTED_TYPE


def test_rendering_receipts_in_the_same_process_does_not_weaken_the_image_check():
    """WeasyPrint sets Pillow's LOAD_TRUNCATED_IMAGES on import; the receipts module undoes it."""
    from PIL import ImageFile

    import opiniondesk.billing.receipt_pdf  # noqa: F401

    assert ImageFile.LOAD_TRUNCATED_IMAGES is False
