"""Low-level ZIP checks used by `content`: the directory's size, member names, flags, layout.

Pure helpers on bytes and `zipfile.ZipInfo`; they raise `ValueError` or return facts, and
`content` decides which rejection code applies.
"""

import re
import stat
import struct
import zipfile
from typing import IO

_EOCD = struct.Struct("<4s4H2LH")  # end of central directory record
_EOCD_SIGNATURE = b"PK\x05\x06"
_ZIP64_LOCATOR = struct.Struct("<4sLQL")
_ZIP64_LOCATOR_SIGNATURE = b"PK\x06\x07"
_ZIP64_EOCD = struct.Struct("<4sQ2H2L4Q")
_ZIP64_EOCD_SIGNATURE = b"PK\x06\x06"
_MAX_COMMENT = 0xFFFF

_ENCRYPTED = 0x0001  # traditional PKWARE or AES encryption
_STRONG_ENCRYPTION = 0x0040
_ENCRYPTED_DIRECTORY = 0x2000
_UTF8_NAME = 0x0800
_LOCAL_HEADER = 30  # bytes at least; the name and extra fields follow

_APPLE_DOUBLE = b"\x00\x05\x16\x07"  # "._name": resource fork and extended attributes
_DS_STORE = b"\x00\x00\x00\x01Bud1"  # a folder's view settings

_DRIVE = re.compile(r"^[A-Za-z]:")


def directory_totals(fp: IO[bytes], size: int) -> tuple[int, int]:
    """(number of entries, bytes of central directory) as the end records declare them.

    Read before `zipfile` parses the directory, which it does wholly in memory: an archive
    claiming millions of entries is refused without building them. The records are found
    the way zipfile finds them, so that both read the same numbers.
    """
    tail_size = min(size, _EOCD.size + _MAX_COMMENT)
    fp.seek(size - tail_size)
    tail = fp.read(tail_size)
    at = _end_record_at(tail)
    entries, directory_bytes = _EOCD.unpack_from(tail, at)[4:6]
    zip64 = _zip64_totals(fp, size - tail_size + at)
    return zip64 or (entries, directory_bytes)


def _end_record_at(tail: bytes) -> int:
    # Right at the end (no comment), else the last signature, as zipfile does.
    at = len(tail) - _EOCD.size
    if at >= 0 and tail[at : at + 4] == _EOCD_SIGNATURE and tail.endswith(b"\0\0"):
        return at
    at = tail.rfind(_EOCD_SIGNATURE)
    if at < 0 or len(tail) - at < _EOCD.size:
        raise ValueError("no end of central directory record (truncated ZIP?)")
    return at


def _zip64_totals(fp: IO[bytes], eocd_offset: int) -> tuple[int, int] | None:
    """The ZIP64 record's totals, which zipfile prefers whenever its locator is there."""
    start = eocd_offset - _ZIP64_LOCATOR.size - _ZIP64_EOCD.size
    if start < 0:
        return None
    fp.seek(start)
    data = fp.read(_ZIP64_EOCD.size + _ZIP64_LOCATOR.size)
    record = _ZIP64_EOCD.unpack_from(data, 0)
    locator = _ZIP64_LOCATOR.unpack_from(data, _ZIP64_EOCD.size)
    if locator[0] != _ZIP64_LOCATOR_SIGNATURE or record[0] != _ZIP64_EOCD_SIGNATURE:
        return None
    entries, directory_bytes = record[7:9]
    return entries, directory_bytes


def display_name(info: zipfile.ZipInfo) -> str:
    """The member's name as its author saw it.

    Japanese Windows writes names in Shift_JIS (cp932) without the UTF-8 flag; `zipfile` then
    decodes them as cp437, which maps every byte, so the original bytes can be recovered.
    """
    if info.flag_bits & _UTF8_NAME:
        return info.filename
    raw = info.orig_filename.encode("cp437")
    for encoding in ("utf-8", "cp932"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return info.filename


def unsafe_path_reason(name: str) -> str | None:
    """Why extracting `name` could write outside the target folder, or None if it cannot."""
    if not name:
        return "empty name"
    if any(ord(char) < 0x20 for char in name):
        return "control character in name"
    # Windows tools and extractors treat a backslash as a separator: so do we.
    path = name.replace("\\", "/")
    if path.startswith("/"):
        return "absolute path"
    if _DRIVE.match(path):
        return "drive letter"
    if ".." in path.split("/"):
        return "'..' component"
    return None


def is_symlink(info: zipfile.ZipInfo) -> bool:
    """Unix mode bits live in the high 16 bits of the external attributes."""
    return stat.S_ISLNK(info.external_attr >> 16)


def is_encrypted(info: zipfile.ZipInfo) -> bool:
    return bool(info.flag_bits & (_ENCRYPTED | _STRONG_ENCRYPTION | _ENCRYPTED_DIRECTORY))


def first_overlap(infos: list[zipfile.ZipInfo], directory_start: int) -> zipfile.ZipInfo | None:
    """A member whose data runs into the next one: the trick of the smallest ZIP bombs."""
    ordered = sorted(infos, key=lambda info: info.header_offset)
    next_starts = [info.header_offset for info in ordered[1:]] + [directory_start]
    for info, next_start in zip(ordered, next_starts, strict=True):
        if info.header_offset + _LOCAL_HEADER + info.compress_size > next_start:
            return info
    return None


def is_os_metadata(name: str, head: bytes) -> bool:
    """Finder's hidden files, which macOS adds to the ZIPs it makes (ignored, not refused).

    Recognised by content as well as by name, so that nothing else passes under these names.
    """
    base = name.rsplit("/", 1)[-1]
    if base.startswith("._"):
        return head.startswith(_APPLE_DOUBLE)
    return base == ".DS_Store" and head.startswith(_DS_STORE)


# What an imaging CD carries besides the images: its viewer, autorun, scripts (issue 15).
_PROGRAM_SUFFIXES = frozenset(
    ".exe .dll .com .scr .cpl .ocx .sys .drv .msi .msp .cab .bat .cmd .ps1 .psm1 .vbs .vbe "  # noqa: SIM905
    ".js .jse .wsf .wsh .hta .lnk .reg .jar .class .sh .command .py .pl .so .dylib .inf".split()
)
_BUNDLE_SUFFIXES = (".app", ".framework", ".bundle", ".plugin")  # macOS folders of programs


def is_program_name(name: str) -> bool:
    """A program, script, autorun file or a part of a macOS application, by its path."""
    parts = name.replace("\\", "/").lower().split("/")
    if any(part.endswith(_BUNDLE_SUFFIXES) for part in parts[:-1]):
        return True
    base = parts[-1]
    return "." in base and base[base.rindex(".") :] in _PROGRAM_SUFFIXES
