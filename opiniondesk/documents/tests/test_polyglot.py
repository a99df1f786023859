"""Files that are two things at once are refused; what phones and cameras write is not."""

import io

import pytest

from opiniondesk.documents import polyglot
from opiniondesk.documents.content import ContentRejected, RejectCode, ZipLimits, inspect_upload
from opiniondesk.documents.tests import samples

PDF, PNG, JPEG = samples.pdf(), samples.image("PNG"), samples.image("JPEG")
HEIC, DICOM = samples.heic(), samples.dicom()
ZIP = samples.archive({"a.pdf": PDF})
POLYGLOT = RejectCode.POLYGLOT


def outcome(data: bytes) -> str:
    """The kind found, or the refusal's code."""
    try:
        fp = io.BytesIO(data)
        return inspect_upload(fp, max_bytes=10**8, zip_limits=ZipLimits()).kind.value
    except ContentRejected as exc:
        return exc.code.value


CASES = [
    # Refused: another kind of file after the end marker...
    ("a JPEG with a ZIP after EOI", JPEG + ZIP, POLYGLOT),
    ("a JPEG with a Windows program after EOI", JPEG + samples.PE, POLYGLOT),
    ("a JPEG with a Linux program after EOI", JPEG + samples.ELF, POLYGLOT),
    ("a JPEG with a PDF after EOI", JPEG + PDF, POLYGLOT),
    ("a JPEG with a script after EOI", JPEG + b"<script>alert(1)</script>", POLYGLOT),
    ("a PNG with a ZIP after IEND", PNG + ZIP, POLYGLOT),
    ("a PNG with a Windows program after IEND", PNG + samples.PE, POLYGLOT),
    ("a PNG with a Linux program after IEND", PNG + samples.ELF, POLYGLOT),
    ("a PDF with a ZIP after %%EOF", PDF + ZIP, POLYGLOT),
    ("a PDF with a program after %%EOF", PDF + samples.ELF, POLYGLOT),
    ("a PDF with a ZIP before a last %%EOF", PDF + ZIP + b"%%EOF\n", POLYGLOT),
    ("a PDF with bytes after %%EOF", PDF + b"junk", POLYGLOT),
    ("a PDF after a ZIP", ZIP + PDF, POLYGLOT),  # PDF readers find a header in 1024 bytes
    ("a ZIP with a PDF in its comment", ZIP[:-2] + len(PDF).to_bytes(2, "little") + PDF, POLYGLOT),
    ("a ZIP with a plain comment", ZIP[:-2] + b"\x05\x00CD-01", "zip"),
    ("HTML before a PDF header", b"<html><script>x</script>" + PDF, POLYGLOT),
    # ...or inside it, where bytes are kept as they are.
    ("a ZIP in a JPEG comment", samples.jpeg_comment(JPEG, ZIP), POLYGLOT),
    ("a program in a JPEG comment", samples.jpeg_comment(JPEG, samples.PE), POLYGLOT),
    ("a ZIP in a PNG text chunk", samples.png_chunk(PNG, b"tEXt", b"k\x00" + ZIP), POLYGLOT),
    ("a ZIP end record near a HEIC's end", HEIC[:-22] + ZIP[-22:], POLYGLOT),
    ("a ZIP in a DICOM preamble", samples.dicom(preamble=ZIP[:128].ljust(128, b"\0")), POLYGLOT),
    (
        "an ELF in a DICOM preamble",
        samples.dicom(preamble=(bytes(16) + samples.ELF).ljust(128, b"\0")),
        POLYGLOT,
    ),
    # Accepted: what cameras, phones and PDF writers do.
    ("a JPEG", JPEG, "jpeg"),
    ("a JPEG with a second picture after EOI (MPF)", JPEG + JPEG, "jpeg"),
    ("a JPEG with random data after EOI", JPEG + samples.random_bytes(), "jpeg"),
    ("a JPEG with a harmless comment", samples.jpeg_comment(JPEG, b"Taken at clinic"), "jpeg"),
    ("a PNG with a text chunk", samples.png_chunk(PNG, b"tEXt", b"Title\x00x-ray"), "png"),
    ("a PNG with zero padding after IEND", PNG + bytes(64), "png"),
    ("a PDF with blank lines after %%EOF", PDF + b"\r\n\n  \n", "pdf"),
    ("a DICOM with a TIFF preamble", samples.dicom(preamble=b"II*\x00" + bytes(124)), "dicom"),
]


@pytest.mark.parametrize(
    ("data", "expected"), [pytest.param(data, want, id=name) for name, data, want in CASES]
)
def test_it_tells_polyglots_from_ordinary_files(data, expected):
    assert outcome(data) == expected


@pytest.mark.parametrize(
    ("data", "found"),
    [
        (b"abc" + samples.PE, "Windows program"),
        (b"MZ" + bytes(100), None),  # "MZ" alone is two common bytes
        (b"x" * 10 + b"PK\x03\x04", "ZIP"),
        (b"\x7fELF", "ELF program"),
        (b"<HTML>", "HTML"),
        (b"Rar!\x1a\x07\x00", "RAR"),
        (b"\xcf\xfa\xed\xfe", "Mach-O program"),
        (b"plain words, PK and ELF", None),
    ],
)
def test_it_names_the_container_it_finds(data, found):
    assert polyglot.foreign_container(data) == found


def test_it_finds_a_signature_across_a_chunk_boundary():
    data = bytes(1024 * 1024 - 2) + b"PK\x03\x04" + bytes(100)

    assert polyglot._scan(io.BytesIO(data), 0, len(data)) == "ZIP"


def test_it_reads_a_jpeg_to_its_end_marker():
    end, metadata = polyglot.jpeg_layout(io.BytesIO(JPEG + ZIP), len(JPEG) + len(ZIP))

    assert end == len(JPEG)
    assert metadata  # Pillow writes a JFIF APP0 segment


def test_it_reads_a_png_to_its_end_chunk():
    end, _ = polyglot.png_layout(io.BytesIO(PNG + ZIP), len(PNG) + len(ZIP))

    assert end == len(PNG)
