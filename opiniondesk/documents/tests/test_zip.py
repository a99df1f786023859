"""ZIP uploads are opened safely: limits against bombs, no path tricks, only accepted members."""

import io
import zipfile

import pytest

from opiniondesk.documents.content import (
    ContentRejected,
    FileKind,
    Member,
    RejectCode,
    ZipLimits,
    inspect_upload,
)
from opiniondesk.documents.tests import samples

MiB = samples.MiB
PDF, PNG, JPEG = samples.pdf(), samples.image("PNG"), samples.image("JPEG")
HEIC, DICOM = samples.heic(), samples.dicom()
archive = samples.archive


def inspect(data: bytes, limits: ZipLimits | None = None):
    return inspect_upload(io.BytesIO(data), max_bytes=100 * MiB, zip_limits=limits or ZipLimits())


def refusal(data: bytes, limits: ZipLimits | None = None) -> ContentRejected:
    with pytest.raises(ContentRejected) as caught:
        inspect(data, limits)
    return caught.value


def shift_jis_named(name: str, data: bytes) -> bytes:
    """A ZIP as Japanese Windows writes it: a cp932 name without the UTF-8 flag."""
    encoded = name.encode("cp932")
    placeholder = b"x" * len(encoded)
    return archive({placeholder.decode(): data}).replace(placeholder, encoded)


def test_it_lists_every_member_with_its_kind_and_size():
    inner = archive({"ct/slice-001.dcm": DICOM, "ct/": b""})
    data = archive(
        {
            "紹介状.pdf": PDF,
            "images/": b"",
            "images/xray.png": PNG,
            "images/echo.jpg": JPEG,
            "images/IMG_0001.HEIC": HEIC,
            "ct.zip": inner,
        }
    )

    inspection = inspect(data)

    assert inspection.kind == FileKind.ZIP
    assert inspection.members == (
        Member("紹介状.pdf", FileKind.PDF, len(PDF)),
        Member("images/xray.png", FileKind.PNG, len(PNG)),
        Member("images/echo.jpg", FileKind.JPEG, len(JPEG)),
        Member("images/IMG_0001.HEIC", FileKind.HEIC, len(HEIC)),
        Member("ct.zip", FileKind.ZIP, len(inner)),
        Member("ct.zip/ct/slice-001.dcm", FileKind.DICOM, len(DICOM)),
    )


@pytest.mark.parametrize("name", ["検査結果.pdf", "表.pdf", "ソフト/ダウン.pdf"])
def test_it_reads_shift_jis_member_names(name):
    # 表 and ソ end in the byte of "\", which must not count as a folder separator.
    (member,) = inspect(shift_jis_named(name, PDF)).members

    assert member.name == name


def test_it_ignores_the_hidden_files_macos_adds():
    data = archive(
        {
            "report.pdf": PDF,
            "__MACOSX/": b"",
            "__MACOSX/._report.pdf": b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        ",
            ".DS_Store": b"\x00\x00\x00\x01Bud1" + bytes(100),
        }
    )

    assert inspect(data).members == (Member("report.pdf", FileKind.PDF, len(PDF)),)


def test_it_accepts_stored_members():
    data = archive({"a.pdf": PDF, "b.dcm": DICOM}, compression=zipfile.ZIP_STORED)

    assert [member.kind for member in inspect(data).members] == ["pdf", "dicom"]


@pytest.mark.parametrize(
    "name", ["../evil.pdf", "/etc/passwd", "a/../../b", "C:\\x", "..\\evil", "docs/..\\..\\x.pdf"]
)
def test_it_refuses_a_member_that_would_land_outside_the_folder(name):
    rejected = refusal(archive({"fine.pdf": PDF, name: PDF}))

    assert rejected.code == RejectCode.ZIP_UNSAFE_PATH
    assert rejected.member == name
    assert name in rejected.detail


def with_one(name: str, data: bytes) -> bytes:
    return archive({"referral.pdf": PDF, name: data})


def case(name, data, code, member=None, limits=None):
    """A refused archive; `member` is the one the refusal names."""
    return pytest.param(data, limits, code, member, id=name)


UNSUPPORTED = RejectCode.ZIP_MEMBER_UNSUPPORTED
NESTED = archive({"a.pdf": PDF})
PAIR = archive({"a.pdf": PDF, "b.pdf": PDF})
REFUSED = [
    case("a symlink", samples.symlink_archive(), RejectCode.ZIP_SYMLINK, "report.pdf"),
    case("encrypted", samples.encrypted(NESTED), RejectCode.ZIP_ENCRYPTED, "a.pdf"),
    case("an empty file", with_one("empty.pdf", b""), UNSUPPORTED, "empty.pdf"),
    case("a truncated PNG", with_one("scans/x.png", PNG[:-30]), "CORRUPT", "scans/x.png"),
    case("a PDF without %%EOF", with_one("y.pdf", PDF[:-6]), "CORRUPT", "y.pdf"),
    case(
        "an unsafe path in a nested ZIP",
        with_one("in.zip", archive({"../a.pdf": PDF})),
        RejectCode.ZIP_UNSAFE_PATH,
        "in.zip/../a.pdf",
    ),
    case("an empty nested ZIP", with_one("in.zip", archive({})), "ZIP_EMPTY", "in.zip"),
    case("programs alone", archive({"setup.exe": samples.EXE}), RejectCode.ZIP_NOTHING_KEPT),
    case("a corrupt nested ZIP", with_one("in.zip", NESTED[:-30]), "CORRUPT", "in.zip"),
    case("folders only", archive({"a/": b"", "a/b/": b""}), RejectCode.ZIP_EMPTY),
    case("a folder entry holding data", with_one("data/", samples.EXE), "CORRUPT", "data/"),
    case(
        "bzip2 (unbounded in zipfile)",
        archive({"a.pdf": PDF}, compression=zipfile.ZIP_BZIP2),
        UNSUPPORTED,
        "a.pdf",
    ),
    case(
        "LZMA (unbounded in zipfile)",
        archive({"a.pdf": PDF}, compression=zipfile.ZIP_LZMA),
        UNSUPPORTED,
        "a.pdf",
    ),
    case("members sharing data", samples.overlapping(PAIR), RejectCode.ZIP_BOMB, "a.pdf"),
    case(
        "a directory understating a size",
        samples.with_declared_size(NESTED, 100),
        RejectCode.CORRUPT,
        "a.pdf",
    ),
    case(
        "a directory overstating a size",
        samples.with_declared_size(NESTED, 10**5),
        RejectCode.CORRUPT,
        "a.pdf",
    ),
    case(
        "a bad CRC",
        archive({"a.pdf": PDF}, compression=zipfile.ZIP_STORED).replace(b"/Count 1", b"/Count 2"),
        RejectCode.CORRUPT,
        "a.pdf",
    ),
    case("a truncated ZIP", archive({"a.pdf": PDF, "b.png": PNG})[:-100], RejectCode.CORRUPT),
    case(
        "too many members",
        archive({f"{n}.pdf": PDF for n in range(4)}),
        RejectCode.ZIP_TOO_MANY_MEMBERS,
        limits=ZipLimits(max_members=3),
    ),
    case(
        "too many members counting nested ones",
        archive({"a.pdf": PDF, "in.zip": PAIR}),
        RejectCode.ZIP_TOO_MANY_MEMBERS,
        "in.zip",
        limits=ZipLimits(max_members=3),
    ),
    case(
        "too large a directory",
        archive({f"{n:0>200}.pdf": PDF for n in range(4)}),
        RejectCode.ZIP_TOO_MANY_MEMBERS,
        limits=ZipLimits(max_directory_bytes=800),
    ),
    case(
        "too much data",
        PAIR,
        RejectCode.ZIP_TOO_LARGE,
        limits=ZipLimits(max_total_bytes=2 * len(PDF) - 1),
    ),
    case(
        "too much data counting nested",
        archive({"in.zip": NESTED}),
        RejectCode.ZIP_TOO_LARGE,
        "in.zip",
        limits=ZipLimits(max_total_bytes=600),
    ),
    case(
        "a ZIP in a ZIP in a ZIP",
        archive({"1.zip": archive({"2.zip": NESTED})}),
        RejectCode.ZIP_TOO_DEEP,
        "1.zip/2.zip",
    ),
    case(
        "a ZIP in a ZIP, none allowed",
        with_one("in.zip", NESTED),
        RejectCode.ZIP_TOO_DEEP,
        "in.zip",
        limits=ZipLimits(max_depth=0),
    ),
]


@pytest.mark.parametrize(("data", "limits", "code", "member"), REFUSED)
def test_it_refuses(data, limits, code, member):
    rejected = refusal(data, limits)

    assert rejected.code == code
    assert rejected.member == member
    if member:
        assert member in rejected.detail


# (name, archive, members kept, members dropped)
DROPPED = [
    ("a program", with_one("setup.exe", samples.PE), [], ["setup.exe"]),
    ("a program named .pdf", with_one("x.pdf", samples.EXE), [], ["x.pdf"]),
    ("a Linux program", with_one("viewer", samples.ELF), [], ["viewer"]),
    ("a shell script", with_one("run.sh", samples.SHELL_SCRIPT), [], ["run.sh"]),
    ("a script named .txt", with_one("a.txt", samples.SHELL_SCRIPT), [], ["a.txt"]),
    ("a library named .dll holding a PDF", with_one("x.dll", PDF), [], ["x.dll"]),
    ("autorun", with_one("AUTORUN.INF", b"[autorun]\r\nopen=viewer.exe\r\n"), [], ["AUTORUN.INF"]),
    (
        "a macOS application",
        with_one("Viewer.app/Contents/Info.plist", PNG),
        [],
        ["Viewer.app/Contents/Info.plist"],
    ),
    ("random bytes", with_one("x.bin", samples.random_bytes()), [], ["x.bin"]),
    ("a viewer's settings", with_one("viewer.ini", b"[lang]\nja=1\n"), [], ["viewer.ini"]),
    ("a report as text", with_one("所見.txt", samples.TEXT), [("所見.txt", FileKind.TEXT)], []),
    (
        "a report in Shift_JIS",
        with_one("report.TXT", "所見: 異常なし".encode("cp932")),
        [("report.TXT", FileKind.TEXT)],
        [],
    ),
    ("binary named .txt", with_one("x.txt", b"\x00\x01\x02"), [], ["x.txt"]),
    (
        "a text too long to be a report",
        archive({"referral.pdf": PDF, "log.txt": b"x" * (MiB + 1)}, compression=zipfile.ZIP_STORED),
        [],
        ["log.txt"],
    ),
    (
        "a program posing as macOS metadata",
        with_one("__MACOSX/._a.pdf", samples.EXE),
        [],
        ["__MACOSX/._a.pdf"],
    ),
    (
        "a program in a nested ZIP",
        with_one("in.zip", archive({"a.exe": samples.EXE, "b.pdf": PDF})),
        [("in.zip", FileKind.ZIP), ("in.zip/b.pdf", FileKind.PDF)],
        ["in.zip/a.exe"],
    ),
    (
        "a nested ZIP of programs alone",
        with_one("in.zip", archive({"a.exe": samples.EXE})),
        [],
        ["in.zip/a.exe", "in.zip"],
    ),
]


@pytest.mark.parametrize(
    ("data", "kept", "dropped"),
    [pytest.param(data, kept, dropped, id=name) for name, data, kept, dropped in DROPPED],
)
def test_it_drops_programs_and_files_of_no_kind_we_keep(data, kept, dropped):
    inspection = inspect(data)

    assert [(m.name, m.kind) for m in inspection.members] == [
        ("referral.pdf", FileKind.PDF),
        *kept,
    ]
    assert list(inspection.dropped) == dropped


def test_it_accepts_a_zip_in_a_zip_within_the_limits():
    limits = ZipLimits(max_members=3, max_total_bytes=3 * len(PDF) + 600)
    data = archive({"a.pdf": PDF, "in.zip": archive({"b.pdf": PDF})})

    members = inspect(data, limits).members

    assert [member.name for member in members] == ["a.pdf", "in.zip", "in.zip/b.pdf"]


class TestBombs:
    """Zeros deflate about 1000:1; the archives are written in chunks to a temporary file."""

    @pytest.fixture(scope="class")
    @classmethod
    def bomb(cls, tmp_path_factory):
        path = tmp_path_factory.mktemp("bomb") / "bomb.zip"
        return samples.zeros_archive(path, size=50 * MiB).read_bytes()  # about 50 KiB

    def test_it_refuses_a_member_declaring_an_extreme_ratio(self, bomb):
        rejected = refusal(bomb)

        assert (rejected.code, rejected.member) == (RejectCode.ZIP_BOMB, "zeros.pdf")

    def test_it_catches_a_directory_hiding_the_ratio_while_decompressing(self, bomb):
        liar = samples.with_declared_size(bomb, 1000)  # 1000 bytes: an ordinary ratio

        rejected = refusal(liar)

        assert (rejected.code, rejected.member) == (RejectCode.ZIP_BOMB, "zeros.pdf")

    def test_it_catches_a_directory_hiding_the_total_while_decompressing(self, bomb):
        liar = samples.with_declared_size(bomb, 1000)
        limits = ZipLimits(max_ratio=10**6, max_total_bytes=4 * MiB)

        rejected = refusal(liar, limits)

        assert (rejected.code, rejected.member) == (RejectCode.ZIP_TOO_LARGE, "zeros.pdf")

    def test_it_refuses_a_declared_total_over_the_limit(self, bomb):
        rejected = refusal(bomb, ZipLimits(max_ratio=10**6, max_total_bytes=40 * MiB))

        assert rejected.code == RejectCode.ZIP_TOO_LARGE

    def test_it_leaves_small_members_alone_whatever_their_ratio(self):
        padded = PDF.replace(b"%%EOF", bytes(500_000) + b"%%EOF")  # compresses ~500:1

        assert inspect(archive({"a.pdf": padded})).members[0].size == len(padded)
