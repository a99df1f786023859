"""The low-level ZIP helpers: member names, flags and the end of central directory."""

import io
import struct
import zipfile

import pytest

from opiniondesk.documents.zipcheck import (
    directory_totals,
    display_name,
    is_encrypted,
    is_symlink,
    unsafe_path_reason,
)

UNSAFE = [
    ("", "empty name"),
    ("/etc/passwd", "absolute path"),
    ("\\windows\\system32\\x.dll", "absolute path"),
    ("\\\\server\\share\\x.pdf", "absolute path"),
    ("//server/share/x.pdf", "absolute path"),
    ("C:\\x", "drive letter"),
    ("c:x.pdf", "drive letter"),
    ("../evil.pdf", "'..' component"),
    ("..\\evil", "'..' component"),
    ("a/../../b", "'..' component"),
    ("a/..", "'..' component"),
    ("docs\\..\\..\\x.pdf", "'..' component"),
    ("a\x00.pdf", "control character in name"),
    ("a\n.pdf", "control character in name"),
]
SAFE = ["a.pdf", "a/b.pdf", "a\\b.pdf", "..a.pdf", "a..b.pdf", "./a.pdf", "a/", "検査/結果.pdf"]


@pytest.mark.parametrize(("name", "reason"), UNSAFE)
def test_it_says_why_a_name_is_unsafe(name, reason):
    assert unsafe_path_reason(name) == reason


@pytest.mark.parametrize("name", SAFE)
def test_it_accepts_a_name_inside_the_folder(name):
    assert unsafe_path_reason(name) is None


@pytest.mark.parametrize(
    ("raw", "flags", "expected"),
    [
        ("検査.pdf".encode(), 0x0800, "検査.pdf"),  # UTF-8, flagged
        ("検査.pdf".encode(), 0, "検査.pdf"),  # UTF-8, unflagged (7-Zip, some macOS tools)
        ("検査.pdf".encode("cp932"), 0, "検査.pdf"),  # Japanese Windows
        (b"report.pdf", 0, "report.pdf"),
        (b"\x80\x81\xff.pdf", 0, "\x80\x81\xff.pdf".encode("latin-1").decode("cp437")),
    ],
)
def test_it_recovers_the_name_its_author_saw(raw, flags, expected):
    decoded = raw.decode("utf-8") if flags & 0x0800 else raw.decode("cp437")
    info = zipfile.ZipInfo(decoded)
    info.flag_bits = flags

    assert display_name(info) == expected


@pytest.mark.parametrize(
    ("mode", "expected"), [(0o120777, True), (0o100644, False), (0o040755, False), (0, False)]
)
def test_it_spots_a_symlink(mode, expected):
    info = zipfile.ZipInfo("x")
    info.external_attr = mode << 16

    assert is_symlink(info) is expected


@pytest.mark.parametrize(
    ("flags", "expected"), [(0x0001, True), (0x0041, True), (0x2000, True), (0x0808, False)]
)
def test_it_spots_encryption(flags, expected):
    info = zipfile.ZipInfo("x")
    info.flag_bits = flags

    assert is_encrypted(info) is expected


def end_record(entries: int, directory_bytes: int, comment: bytes = b"") -> bytes:
    return (
        struct.pack(
            "<4s4H2LH", b"PK\x05\x06", 0, 0, entries, entries, directory_bytes, 0, len(comment)
        )
        + comment
    )


@pytest.mark.parametrize(
    ("data", "totals"),
    [
        (b"PK\x03\x04" + bytes(100) + end_record(3, 150), (3, 150)),
        (b"PK\x03\x04" + bytes(100) + end_record(3, 150, comment=b"for Dr Tanaka"), (3, 150)),
        # 0xFFFF without ZIP64 records: zipfile reads 65535 entries, and so do we
        (bytes(100) + end_record(0xFFFF, 10), (0xFFFF, 10)),
    ],
    ids=["no comment", "a comment", "no zip64 records"],
)
def test_it_reads_the_declared_totals(data, totals):
    assert directory_totals(io.BytesIO(data), len(data)) == totals


def test_it_reads_zip64_totals():
    record = struct.pack("<4sQ2H2L4Q", b"PK\x06\x06", 44, 45, 45, 0, 0, 70000, 70000, 3_500_000, 0)
    locator = struct.pack("<4sLQL", b"PK\x06\x07", 0, 100, 1)
    data = bytes(100) + record + locator + end_record(0xFFFF, 0xFFFFFFFF)

    assert directory_totals(io.BytesIO(data), len(data)) == (70000, 3_500_000)


def test_it_reads_the_same_record_as_zipfile_when_a_comment_hides_another():
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as zf:
        zf.writestr("a.pdf", b"%PDF-1.7")
        zf.comment = end_record(500, 60_000)
    data = data.getvalue()

    assert directory_totals(io.BytesIO(data), len(data)) == (500, 60_000)
    with pytest.raises(zipfile.BadZipFile):
        zipfile.ZipFile(io.BytesIO(data))  # zipfile trusts the fake record too


@pytest.mark.parametrize(
    "data",
    [b"PK\x03\x04" + bytes(100), end_record(1, 2)[:-4]],
    ids=["no end record", "a cut end record"],
)
def test_it_refuses_a_missing_end_record(data):
    with pytest.raises(ValueError):
        directory_totals(io.BytesIO(data), len(data))
