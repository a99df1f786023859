"""Low-level structure checks used by `content`: PNG chunks, HEIF boxes, DICOM elements.

Pure helpers that read a seekable binary file in bounded pieces and raise `ValueError` (or
return a reason) when the structure is broken; `content` decides which rejection code applies.
"""

import struct
import zlib
from typing import IO

from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.tag import BaseTag

CHUNK = 1024 * 1024

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_MAX_CHUNKS = 1_000_000  # a 200 MB PNG written in libpng's 8 KiB chunks has ~25,000

HEIF_BRANDS = frozenset(
    {"heic", "heix", "hevc", "hevx", "heim", "heis", "hevm", "hevs", "mif1", "msf1"}
)
AVIF_BRANDS = frozenset({"avif", "avis"})
_HEIF_MAX_BOXES = 1000  # a camera HEIC has ftyp, meta, mdat and perhaps a few more

_DICOM_PIXEL_TAGS = (0x7FE00008, 0x7FE00009, 0x7FE00010)  # float, double, integer pixels
_DICOM_ROWS = 0x00280010
_UNDEFINED_LENGTH = 0xFFFFFFFF


def check_png_chunks(fp: IO[bytes]) -> None:
    """Every chunk's CRC, from IHDR to IEND, streaming.

    Pillow's `verify()` checks the same but holds each whole chunk in memory, and some encoders
    write the whole image as one IDAT chunk.
    """
    fp.seek(len(PNG_SIGNATURE))
    for number in range(_PNG_MAX_CHUNKS):
        header = fp.read(8)
        if len(header) < 8:
            raise ValueError("truncated: no IEND chunk")
        length, chunk_type = struct.unpack(">I4s", header)
        if number == 0 and chunk_type != b"IHDR":
            raise ValueError("the first chunk is not IHDR")
        if _crc_of(fp, length, zlib.crc32(chunk_type)) != int.from_bytes(fp.read(4), "big"):
            raise ValueError(f"bad CRC in chunk {chunk_type!r} (truncated or damaged)")
        if chunk_type == b"IEND":
            return
    raise ValueError(f"more than {_PNG_MAX_CHUNKS} chunks")


def _crc_of(fp: IO[bytes], length: int, crc: int) -> int:
    remaining = length
    while remaining:
        block = fp.read(min(remaining, CHUNK))
        if not block:
            raise ValueError("truncated inside a chunk")
        crc = zlib.crc32(block, crc)
        remaining -= len(block)
    return crc


def ftyp_brands(head: bytes) -> list[str]:
    """Major brand, then compatible brands, of a leading ISO-BMFF `ftyp` box ([] if none)."""
    if len(head) < 12 or head[4:8] != b"ftyp":
        return []
    end = min(int.from_bytes(head[:4], "big"), len(head))
    # After the major brand comes a 4-byte minor version, then the compatible brands.
    compatible = [head[at : at + 4] for at in range(16, end - 3, 4)]
    return [brand.decode("latin-1") for brand in (head[8:12], *compatible)]


def heif_header(fp: IO[bytes], size: int, *, max_meta_bytes: int) -> bytes:
    """The `ftyp` and `meta` boxes, after checking that the top-level boxes tile the file.

    The image data (`mdat`) is left out: libheif parses the header from these bytes alone, so
    a large HEIC never has to be held in memory; a truncated file fails the tiling check.
    """
    offset, kept, seen_meta = 0, [], False
    for _ in range(_HEIF_MAX_BOXES):
        if offset == size:
            break
        box_type, box_size = _box_at(fp, offset, size)
        if offset == 0 and box_type != b"ftyp":
            raise ValueError("the first box is not ftyp")
        if box_type in (b"ftyp", b"meta"):
            if box_size > max_meta_bytes:
                raise ValueError(f"{box_type.decode()} box of {box_size} bytes")
            fp.seek(offset)
            kept.append(fp.read(box_size))
            seen_meta = seen_meta or box_type == b"meta"
        offset += box_size
    else:
        raise ValueError(f"more than {_HEIF_MAX_BOXES} top-level boxes")
    if not seen_meta:
        raise ValueError("no meta box")
    return b"".join(kept)


def _box_at(fp: IO[bytes], offset: int, size: int) -> tuple[bytes, int]:
    fp.seek(offset)
    header = fp.read(16)
    if len(header) < 8:
        raise ValueError("truncated box header")
    box_size, box_type = struct.unpack_from(">I4s", header)
    header_size = 8
    if box_size == 1:  # a 64-bit size follows the type
        header_size = 16
        box_size = int.from_bytes(header[8:16], "big") if len(header) == 16 else 0
    elif box_size == 0:  # the box runs to the end of the file
        box_size = size - offset
    if box_size < header_size or offset + box_size > size:
        raise ValueError(f"box {box_type!r} runs past the end of the file (truncated?)")
    return box_type, box_size


class ReadLimitExceeded(Exception):
    """More bytes were read through a `CappedReader` than its limit allows."""


class CappedReader:
    """A seekable reader that refuses to hand out more than `limit` bytes in total.

    pydicom keeps every element it reads in memory, as Python objects several times larger
    than the bytes; values it defers are skipped by seeking and do not count.
    """

    def __init__(self, fp: IO[bytes], *, limit: int) -> None:
        self._fp, self._left, self.limit = fp, limit, limit

    def read(self, size: int | None = -1) -> bytes:
        wanted = self._left + 1 if size is None or size < 0 else min(size, self._left + 1)
        data = self._fp.read(wanted)
        self._left -= len(data)
        if self._left < 0:
            raise ReadLimitExceeded(f"more than {self.limit} bytes read")
        return data

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._fp.seek(offset, whence)

    def tell(self) -> int:
        return self._fp.tell()


def beyond_file_meta(tag: BaseTag, vr: str | None, length: int) -> bool:
    """pydicom's `stop_when`: the file meta group (0002,xxxx) is over."""
    return tag >> 16 != 0x0002


def dicom_problem(dataset: Dataset, size: int) -> str | None:
    """pydicom stops quietly at the end of a file: look for what a truncation leaves."""
    if len(dataset) == 0:
        return "no data elements"
    for element in dataset.elements():
        if not isinstance(element, RawDataElement) or element.length == _UNDEFINED_LENGTH:
            continue
        if element.value_tell + element.length > size:
            return f"element {element.tag} runs past the end of the file (truncated?)"
    if _DICOM_ROWS in dataset and not any(tag in dataset for tag in _DICOM_PIXEL_TAGS):
        return "image attributes but no pixel data (truncated?)"
    return None


_TEXT_CONTROLS = frozenset(range(0x20)) - {0x09, 0x0A, 0x0C, 0x0D}


def is_plain_text(fp: IO[bytes], *, max_bytes: int) -> bool:
    """UTF-8 (with or without BOM) or Shift_JIS text without control characters, at most
    `max_bytes` long: a report as a .txt file, not a program or a binary file."""
    fp.seek(0)
    data = fp.read(max_bytes + 1)
    if not data or len(data) > max_bytes or _TEXT_CONTROLS.intersection(data):
        return False
    for encoding in ("utf-8-sig", "cp932"):
        try:
            data.decode(encoding)
        except UnicodeDecodeError:
            continue
        return True
    return False
