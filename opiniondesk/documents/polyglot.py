"""Files that are two things at once (issue 15, item 5): pure detection used by `content`.

A polyglot passes the check of one type while another program reads it as something else: a
photo that unzips, a PDF that runs as a program. Three places are looked at:
- what follows the end marker of a JPEG (EOI) or PNG (IEND), or a PDF's last %%EOF;
- the metadata inside an image (JPEG APPn and COM segments, PNG chunks other than the pixels),
  where the bytes are stored as they are;
- a ZIP end record near the end of any file: ZIP readers look for it there, whatever comes first.
Compressed pixel data is not searched: random bytes would match a 4-byte signature too often.

Everything reads a seekable binary file in bounded pieces; no Django, settings or clock.
"""

import re
import struct
from typing import IO

__all__ = [
    "ZIP_READERS_LOOK_BACK",
    "foreign_container",
    "image_polyglot",
    "jpeg_layout",
    "pdf_polyglot",
    "png_layout",
    "zip_end_near_end",
    "zip_polyglot",
]

_CHUNK = 1024 * 1024
# zipfile (and most readers) look for the end record in the last 22 bytes plus a comment.
ZIP_READERS_LOOK_BACK = 22 + 0xFFFF
_ZIP_END = b"PK\x05\x06"

# Containers and programs that have no business inside a picture or a PDF. "MZ" alone is too
# short to mean anything: a Windows program is recognised by its PE header (see _has_pe).
_SIGNATURES = re.compile(
    rb"PK\x03\x04|PK\x01\x02|PK\x05\x06"  # ZIP (also DOCX, JAR, APK)
    rb"|\x7fELF"  # Linux program
    rb"|\xfe\xed\xfa[\xce\xcf]|[\xce\xcf]\xfa\xed\xfe"  # Mach-O
    rb"|%PDF-"
    rb"|Rar!\x1a\x07|7z\xbc\xaf\x27\x1c"
    rb"|<script|<html|<svg",
    re.IGNORECASE,
)
_NAMES = {
    b"pk": "ZIP",
    b"\x7fe": "ELF program",
    b"\xfe\xed": "Mach-O program",
    b"\xce\xfa": "Mach-O program",
    b"\xcf\xfa": "Mach-O program",
    b"%p": "PDF",
    b"ra": "RAR",
    b"7z": "7-Zip",
    b"<s": "HTML",
    b"<h": "HTML",
}
_PE_HEADER_MAX = 1024  # e_lfanew of real programs is small (usually 0x80 to 0x200)

# JPEG markers without a length; SOS starts entropy-coded data, which ends at the next
# marker that is neither a stuffed 0xFF00 nor a restart marker (or 0xFF fill).
_JPEG_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})
_JPEG_METADATA = frozenset({*range(0xE0, 0xF0), 0xFE})  # APP0-APP15, COM
_JPEG_NEXT_MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")
_JPEG_MAX_SEGMENTS = 100_000
_PNG_PIXELS = frozenset({b"IHDR", b"PLTE", b"IDAT", b"IEND"})
_PNG_MAX_CHUNKS = 1_000_000
_PDF_TRAILING = frozenset(b" \t\r\n\f\x00")


def foreign_container(data: bytes) -> str | None:
    """The kind of container or program found in `data`, or None."""
    if match := _SIGNATURES.search(data):
        return _NAMES.get(match.group()[:2].lower(), "an archive")
    return "Windows program" if _has_pe(data) else None


def _has_pe(data: bytes) -> bool:
    start = 0
    while (at := data.find(b"MZ", start)) >= 0:
        if at + 0x40 <= len(data):
            (e_lfanew,) = struct.unpack_from("<L", data, at + 0x3C)
            pe = at + e_lfanew
            if e_lfanew <= _PE_HEADER_MAX and data[pe : pe + 4] == b"PE\x00\x00":
                return True
        start = at + 1
    return False


def _scan(fp: IO[bytes], start: int, end: int) -> str | None:
    """`foreign_container` over fp[start:end], in chunks that overlap by more than any
    signature and any PE header offset, so that nothing is missed at a chunk's edge."""
    at = start
    while at < end:
        fp.seek(at)
        if found := foreign_container(fp.read(min(_CHUNK + _PE_HEADER_MAX + 4, end - at))):
            return found
        at += _CHUNK
    return None


def zip_end_near_end(fp: IO[bytes], size: int) -> bool:
    """Whether a ZIP reader would find an end record here: the file would open as a ZIP."""
    start = max(size - ZIP_READERS_LOOK_BACK, 0)
    fp.seek(start)
    return _ZIP_END in fp.read(size - start)


def zip_polyglot(fp: IO[bytes], size: int) -> str | None:
    """What else a ZIP is, or None: data after its end record and comment (a PDF reader finds
    a PDF header in the first 1024 bytes and %%EOF at the end), or a container in its comment.
    A ZIP without an end record is left to `zipfile`, which refuses it."""
    start = max(size - ZIP_READERS_LOOK_BACK, 0)
    fp.seek(start)
    tail = fp.read(size - start)
    at = tail.rfind(_ZIP_END)
    if at < 0 or len(tail) - at < 22:
        return None
    comment_end = at + 22 + int.from_bytes(tail[at + 20 : at + 22], "little")
    if comment_end != len(tail):
        return "data after the ZIP's end record"
    if found := foreign_container(tail[at + 22 :]):
        return f"{found} in the ZIP's comment"
    return None


def jpeg_layout(fp: IO[bytes], size: int) -> tuple[int, list[tuple[int, int]]]:
    """(offset just past EOI, [(start, end) of each metadata segment]); `ValueError` if the
    markers do not lead to an EOI."""
    fp.seek(0)
    if fp.read(2) != b"\xff\xd8":
        raise ValueError("no SOI marker")
    at, metadata = 2, list[tuple[int, int]]()
    for _ in range(_JPEG_MAX_SEGMENTS):
        fp.seek(at)
        header = fp.read(4)
        if len(header) < 2 or header[0] != 0xFF:
            raise ValueError(f"no marker at {at}")
        marker = header[1]
        if marker == 0xFF:  # fill byte
            at += 1
        elif marker == 0xD9:
            return at + 2, metadata
        elif marker in _JPEG_STANDALONE:
            at += 2
        else:
            if len(header) < 4:
                raise ValueError("truncated segment header")
            length = int.from_bytes(header[2:4], "big")
            if length < 2 or at + 2 + length > size:
                raise ValueError(f"segment of {length} bytes at {at} runs past the end")
            if marker in _JPEG_METADATA:
                metadata.append((at + 4, at + 2 + length))
            at += 2 + length
            if marker == 0xDA:
                at = _after_entropy_data(fp, at, size)
    raise ValueError(f"more than {_JPEG_MAX_SEGMENTS} segments")


def _after_entropy_data(fp: IO[bytes], at: int, size: int) -> int:
    while at < size:
        fp.seek(at)
        piece = fp.read(_CHUNK + 1)  # one byte more: a marker split across two reads
        if match := _JPEG_NEXT_MARKER.search(piece):
            return at + match.start()
        at += max(len(piece) - 1, 1)
    raise ValueError("entropy-coded data runs to the end of the file")


def png_layout(fp: IO[bytes], size: int) -> tuple[int, list[tuple[int, int]]]:
    """(offset just past IEND, [(start, end) of each chunk's data other than the pixels'])."""
    at, metadata = 8, list[tuple[int, int]]()
    for _ in range(_PNG_MAX_CHUNKS):
        fp.seek(at)
        header = fp.read(8)
        if len(header) < 8:
            raise ValueError("no IEND chunk")
        length, chunk_type = struct.unpack(">I4s", header)
        end = at + 12 + length
        if end > size:
            raise ValueError(f"chunk {chunk_type!r} runs past the end")
        if chunk_type not in _PNG_PIXELS:
            metadata.append((at + 8, at + 8 + length))
        if chunk_type == b"IEND":
            return end, metadata
        at = end
    raise ValueError(f"more than {_PNG_MAX_CHUNKS} chunks")


def image_polyglot(
    fp: IO[bytes], size: int, layout: tuple[int, list[tuple[int, int]]]
) -> str | None:
    """What else a JPEG or PNG of this `layout` is, or None: a container in its metadata,
    after its end marker, or a ZIP end record near its end.

    Data after the end marker is allowed when it holds no such thing: phones and Japanese
    cameras put more pictures there (motion photos, the Multi-Picture Format).
    """
    end, metadata = layout
    for start, stop in metadata:
        if found := _scan(fp, start, stop):
            return f"{found} in the image's metadata"
    if found := _scan(fp, end, size):
        return f"{found} after the image's end"
    if zip_end_near_end(fp, size):
        return "a ZIP end record"
    return None


def pdf_polyglot(fp: IO[bytes], size: int, head: bytes, tail: bytes) -> str | None:
    """What else a PDF is, or None: anything but blank space after its last %%EOF, a
    container before its header, or a ZIP end record near its end."""
    header = head.find(b"%PDF-")
    if header > 0 and (found := foreign_container(head[:header])):
        return f"{found} before the PDF header"
    last = tail.rfind(b"%%EOF")
    if last < 0 or not set(tail[last + 5 :]) <= _PDF_TRAILING:
        return "data after %%EOF"
    if zip_end_near_end(fp, size):
        return "a ZIP end record"
    return None
