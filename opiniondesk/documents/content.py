"""Check an uploaded file by its content, never its name (issue 3, item 4).

`inspect_upload` reads the file once in 1 MiB chunks (size, SHA-256, first and last bytes),
or, when given the `Digest` the server computed while storing the upload, only its first and
last bytes (the size is measured again and must match, or the file is hashed as usual);
it decides the kind from the bytes alone, then has the library that reads that kind verify it:
Pillow (JPEG, PNG), pillow_heif (HEIC), pydicom (DICOM), zipfile (ZIP, whose members are
inspected the same way, within `ZipLimits`), pikepdf (PDF: no scripts, actions or embedded
files, see `pdfcheck`). A file that is also another kind of file (`polyglot`) is refused.
In a ZIP, programs and files of no kind we keep are dropped, not refused: an imaging CD
carries its viewer (issue 15); `Inspection.dropped` names them. A refusal raises
`ContentRejected` with a stable code; the UI words it. Pure: no Django, settings or clock;
limits come in as arguments.
"""

import copy
import hashlib
import io
import tempfile
import warnings
import zipfile
from dataclasses import dataclass
from enum import StrEnum
from typing import IO, BinaryIO, cast

import pillow_heif
import pydicom
from PIL import Image
from pydicom.filereader import read_dataset
from pydicom.uid import DeflatedExplicitVRLittleEndian

from opiniondesk.documents import polyglot, zipcheck
from opiniondesk.documents.formats import (
    AVIF_BRANDS,
    CHUNK,
    HEIF_BRANDS,
    PNG_SIGNATURE,
    CappedReader,
    ReadLimitExceeded,
    beyond_file_meta,
    check_png_chunks,
    dicom_problem,
    ftyp_brands,
    heif_header,
    is_plain_text,
)
from opiniondesk.documents.pdfcheck import PdfProblem, pdf_problem

__all__ = [
    "DEFAULT_MAX_IMAGE_PIXELS",
    "ContentRejected",
    "Digest",
    "FileKind",
    "Inspection",
    "Member",
    "RejectCode",
    "ZipLimits",
    "content_type",
    "inspect_upload",
    "is_inline_viewable",
]

MiB = 1024 * 1024
DEFAULT_MAX_IMAGE_PIXELS = 89_478_485  # Pillow's own default (about 0.25 GiB of RGB)

_HEAD = 4096  # room for a PDF header anywhere in the first 1024 bytes, DICM, an ftyp box
_TAIL = 2048  # %%EOF must be this close to the end
_HEIF_MAX_META_BYTES = 16 * MiB
_DICOM_MAX_READ_BYTES = 8 * MiB  # what pydicom may read; larger values are skipped by seeking
_DICOM_DEFER_BYTES = 64 * 1024
_TEXT_MAX_BYTES = 1 * MiB  # a report as text; a longer .txt is dropped from a ZIP

# Programs and scripts, refused even when a PDF header or a DICOM marker follows
# (a DICOM preamble can hold a Windows executable's header: CVE-2019-11687).
_EXECUTABLE_PREFIXES = (
    b"MZ",  # Windows
    b"\x7fELF",  # Linux
    b"#!",  # scripts
    b"\xfe\xed\xfa\xce",  # Mach-O, both byte orders, 32 and 64 bit
    b"\xfe\xed\xfa\xcf",
    b"\xce\xfa\xed\xfe",
    b"\xcf\xfa\xed\xfe",
    b"\xca\xfe\xba\xbe",  # Mach-O universal binary, Java class
)


class FileKind(StrEnum):
    PDF = "pdf"
    JPEG = "jpeg"
    PNG = "png"
    HEIC = "heic"
    DICOM = "dicom"
    ZIP = "zip"
    TEXT = "text"  # only inside a ZIP: a report as a .txt file
    # Never found by `inspect_upload`: stored only by `services.document_add_fhir`, after the
    # caller has read the FHIR document (an eReferral bundle) it holds.
    FHIR_JSON = "fhir_json"


class RejectCode(StrEnum):
    """Why a file is refused. Stable: the UI and the API map them to words."""

    EMPTY = "EMPTY"
    TOO_LARGE = "TOO_LARGE"
    UNSUPPORTED_TYPE = "UNSUPPORTED_TYPE"
    CORRUPT = "CORRUPT"
    IMAGE_TOO_LARGE = "IMAGE_TOO_LARGE"  # more pixels than allowed: a decompression bomb
    ZIP_EMPTY = "ZIP_EMPTY"
    ZIP_TOO_MANY_MEMBERS = "ZIP_TOO_MANY_MEMBERS"
    ZIP_TOO_LARGE = "ZIP_TOO_LARGE"
    ZIP_BOMB = "ZIP_BOMB"
    ZIP_UNSAFE_PATH = "ZIP_UNSAFE_PATH"
    ZIP_SYMLINK = "ZIP_SYMLINK"
    ZIP_ENCRYPTED = "ZIP_ENCRYPTED"
    ZIP_TOO_DEEP = "ZIP_TOO_DEEP"
    ZIP_MEMBER_UNSUPPORTED = "ZIP_MEMBER_UNSUPPORTED"
    ZIP_NOTHING_KEPT = "ZIP_NOTHING_KEPT"  # only programs and files of no kind we keep
    POLYGLOT = "POLYGLOT"  # also another kind of file: a photo that unzips
    PDF_ACTIVE_CONTENT = "PDF_ACTIVE_CONTENT"  # scripts, actions, embedded files
    PDF_ENCRYPTED = "PDF_ENCRYPTED"
    PDF_UNREADABLE = "PDF_UNREADABLE"


# A member's own refusal, seen from the archive that holds it.
_MEMBER_CODES = {
    RejectCode.EMPTY: RejectCode.ZIP_MEMBER_UNSUPPORTED,
    RejectCode.UNSUPPORTED_TYPE: RejectCode.ZIP_MEMBER_UNSUPPORTED,
}


class ContentRejected(Exception):
    """The file is refused. `detail` is a short English note for developers and logs;
    `member` names the ZIP member at fault ("inner.zip/scan.exe"), if any."""

    def __init__(self, code: RejectCode, detail: str, *, member: str | None = None) -> None:
        super().__init__(f"{code}: {detail}")
        self.code, self.detail, self.member = code, detail, member

    def within(self, member: str) -> "ContentRejected":
        """The same refusal, about a member of a ZIP."""
        code = _MEMBER_CODES.get(self.code, self.code)
        return ContentRejected(code, f"{member}: {self.detail}", member=member)


class _NotKept(ContentRejected):
    """A program, or content of no kind we keep: refused alone, dropped from a ZIP."""

    def __init__(self, detail: str) -> None:
        super().__init__(RejectCode.UNSUPPORTED_TYPE, detail)


@dataclass(frozen=True)
class ZipLimits:
    """Limits for one upload, nested archives included (they share one budget)."""

    max_members: int = 2000
    max_total_bytes: int = 2 * 1024 * MiB  # as decompressed; a nested ZIP's members add to it
    max_ratio: int = 200  # uncompressed / compressed size of one member...
    ratio_floor_bytes: int = 1 * MiB  # ...once it is larger than this
    max_depth: int = 1  # a ZIP inside the uploaded ZIP is fine, one inside that is not
    max_directory_bytes: int = 4 * MiB  # the central directory, which zipfile reads at once


@dataclass(frozen=True)
class Member:
    name: str  # path inside the archive; nested members as "inner.zip/scan.pdf"
    kind: FileKind
    size: int


@dataclass(frozen=True)
class Digest:
    """Size and SHA-256 (hex) of a file's bytes, computed by the server as it stored them.

    Only ever built from bytes the server itself wrote (see documents.uploads); a hash or size
    a client sends is never one of these.
    """

    size: int
    sha256: str


@dataclass(frozen=True)
class Inspection:
    kind: FileKind
    size: int
    sha256: str  # hex digest
    members: tuple[Member, ...] = ()  # ZIP only
    dropped: tuple[str, ...] = ()  # ZIP only: members left out (programs, other files)


_CONTENT_TYPES = {
    FileKind.PDF: "application/pdf",
    FileKind.JPEG: "image/jpeg",
    FileKind.PNG: "image/png",
    FileKind.HEIC: "image/heic",
    FileKind.DICOM: "application/dicom",
    FileKind.ZIP: "application/zip",
    FileKind.FHIR_JSON: "application/fhir+json",
    FileKind.TEXT: "text/plain",
}
_INLINE = frozenset({FileKind.PDF, FileKind.JPEG, FileKind.PNG})


def content_type(kind: FileKind) -> str:
    """The MIME type to serve a file of this kind with."""
    return _CONTENT_TYPES[kind]


def is_inline_viewable(kind: FileKind) -> bool:
    """Whether browsers show this kind inline (the others are downloaded)."""
    return kind in _INLINE


def inspect_upload(
    fileobj: IO[bytes],
    *,
    max_bytes: int,
    zip_limits: ZipLimits,
    max_image_pixels: int = DEFAULT_MAX_IMAGE_PIXELS,
    digest: Digest | None = None,
) -> Inspection:
    """Size, SHA-256 and kind of a binary, seekable file, or `ContentRejected`.

    Memory stays bounded whatever the file's size: it is read in 1 MiB chunks, and ZIP
    members are decompressed as streams into temporary files. The file is left at offset 0.

    `digest`, when given, is the size and SHA-256 of these very bytes as the server computed
    them while storing the upload: the file is then not read a second time to hash it. Its size
    is measured again (by seeking to its end); if it differs, the digest is ignored and the
    file is hashed as without one. Every check on the content is made either way.
    """
    try:
        sample, sha256 = _scan(fileobj, max_bytes, digest)
        checker = _Checker(zip_limits, max_image_pixels)
        kind, members = checker.examine(fileobj, sample, depth=0, prefix="")
    finally:
        fileobj.seek(0)
    dropped = tuple(checker.dropped)
    return Inspection(kind, sample.size, sha256, members=members, dropped=dropped)


class _Sample:
    """Size, first and last bytes of a stream fed to it chunk by chunk."""

    def __init__(self) -> None:
        self.size, self.head, self.tail = 0, b"", b""

    def feed(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if len(self.head) < _HEAD:
            self.head += chunk[: _HEAD - len(self.head)]
        self.tail = chunk[-_TAIL:] if len(chunk) >= _TAIL else (self.tail + chunk)[-_TAIL:]

    @classmethod
    def of_ends(cls, fileobj: IO[bytes], size: int) -> "_Sample":
        """The same sample, from a file of known size, reading only its first and last bytes."""
        sample = cls()
        fileobj.seek(0)
        sample.size, sample.head = size, fileobj.read(_HEAD)
        fileobj.seek(max(size - _TAIL, 0))
        sample.tail = fileobj.read(_TAIL)
        return sample


def _scan(fileobj: IO[bytes], max_bytes: int, digest: Digest | None) -> tuple[_Sample, str]:
    if digest is not None:
        # The file's real size, not a declared one; a digest of other bytes is not used.
        fileobj.seek(0, io.SEEK_END)
        size = fileobj.tell()
        if size == digest.size:
            _check_size(size, max_bytes)
            return _Sample.of_ends(fileobj, size), digest.sha256
    # Count what is read: a declared size (Content-Length, UploadedFile.size) can lie.
    fileobj.seek(0)
    sha256, sample = hashlib.sha256(), _Sample()
    while chunk := fileobj.read(CHUNK):
        sample.feed(chunk)
        if sample.size > max_bytes:
            raise ContentRejected(RejectCode.TOO_LARGE, f"larger than {max_bytes} bytes")
        sha256.update(chunk)
    _check_size(sample.size, max_bytes)
    return sample, sha256.hexdigest()


def _check_size(size: int, max_bytes: int) -> None:
    if size > max_bytes:
        raise ContentRejected(RejectCode.TOO_LARGE, f"larger than {max_bytes} bytes")
    if size == 0:
        raise ContentRejected(RejectCode.EMPTY, "the file has no bytes")


def _detect(head: bytes, tail: bytes) -> FileKind:
    """The kind, from magic bytes at fixed places; the order settles polyglots."""
    if head.startswith(_EXECUTABLE_PREFIXES):
        raise _NotKept("a program or script")
    if head[128:132] == b"DICM":
        return FileKind.DICOM
    if head.startswith(PNG_SIGNATURE):
        return FileKind.PNG
    if head.startswith(b"\xff\xd8\xff"):
        return FileKind.JPEG
    if head.startswith(b"PK\x03\x04"):
        return FileKind.ZIP
    if head.startswith(b"PK\x05\x06"):  # the end record alone: an archive with no entries
        raise ContentRejected(RejectCode.ZIP_EMPTY, "the ZIP archive has no entries")
    if brands := ftyp_brands(head):
        return _heif_kind(brands)
    # PDF readers accept the header anywhere in the first 1024 bytes.
    if b"%PDF-" in head[:1024]:
        if b"%%EOF" not in tail:
            raise ContentRejected(RejectCode.CORRUPT, "PDF without %%EOF at its end: truncated?")
        return FileKind.PDF
    raise _NotKept("the content is not PDF, JPEG, PNG, HEIC, DICOM or ZIP")


def _heif_kind(brands: list[str]) -> FileKind:
    if AVIF_BRANDS.intersection(brands):
        raise ContentRejected(RejectCode.UNSUPPORTED_TYPE, "AVIF images are not accepted")
    if brands[0] not in HEIF_BRANDS:
        raise ContentRejected(
            RejectCode.UNSUPPORTED_TYPE, f"ISO media file of brand {brands[0]!r}, not HEIF"
        )
    return FileKind.HEIC


class _Checker:
    """Verifies one upload; holds the ZIP budget its nested archives share."""

    def __init__(self, limits: ZipLimits, max_image_pixels: int) -> None:
        self.limits, self.max_image_pixels = limits, max_image_pixels
        self.members_left, self.bytes_left = limits.max_members, limits.max_total_bytes
        self.dropped: list[str] = []

    def examine(
        self, fp: IO[bytes], sample: _Sample, *, depth: int, prefix: str
    ) -> tuple[FileKind, tuple[Member, ...]]:
        """`depth` counts the archives around `fp`: 0 for the upload itself."""
        kind = _detect(sample.head, sample.tail)
        if kind is FileKind.ZIP:
            if depth > self.limits.max_depth:
                detail = f"a ZIP nested more than {self.limits.max_depth} level(s) deep"
                raise ContentRejected(RejectCode.ZIP_TOO_DEEP, detail)
            if found := polyglot.zip_polyglot(fp, sample.size):
                raise ContentRejected(RejectCode.POLYGLOT, f"ZIP that is also {found}")
            return kind, self._zip(fp, sample.size, depth=depth, prefix=prefix)
        if kind in (FileKind.JPEG, FileKind.PNG):
            self._verify_image(fp, kind)
        elif kind is FileKind.HEIC:
            self._verify_heic(fp, sample.size)
        elif kind is FileKind.DICOM:
            _verify_dicom(fp, sample.size)
        _check_polyglot(fp, kind, sample)
        if kind is FileKind.PDF:  # its header and %%EOF were checked by _detect
            _verify_pdf(fp)
        return kind, ()

    def _check_pixels(self, width: int, height: int) -> None:
        if width * height > self.max_image_pixels:
            detail = f"{width}x{height} pixels, more than {self.max_image_pixels}"
            raise ContentRejected(RejectCode.IMAGE_TOO_LARGE, detail)

    def _verify_image(self, fp: IO[bytes], kind: FileKind) -> None:
        image_format = kind.upper()
        fp.seek(0)
        try:
            # Pillow warns before it refuses; both are a refusal here. (catch_warnings is
            # process-wide before Python 3.14, which at worst makes another thread stricter.)
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                with Image.open(fp, formats=[image_format]) as image:
                    self._check_pixels(*image.size)
                    if kind is FileKind.JPEG:
                        # JPEG has no checksums, and Pillow's verify() does nothing for it:
                        # decoding at 1/8 scale (cheap in memory) finds truncated data.
                        image.draft(None, (1, 1))
                        image.load()
            if kind is FileKind.PNG:
                check_png_chunks(fp)
        except ContentRejected:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise ContentRejected(RejectCode.IMAGE_TOO_LARGE, str(exc)) from exc
        except Exception as exc:  # whatever a decoder raises on bad data
            raise ContentRejected(RejectCode.CORRUPT, f"{image_format}: {exc}") from exc

    def _verify_heic(self, fp: IO[bytes], size: int) -> None:
        try:
            header = heif_header(fp, size, max_meta_bytes=_HEIF_MAX_META_BYTES)
            width, height = pillow_heif.open_heif(io.BytesIO(header)).size
        except Exception as exc:
            raise ContentRejected(RejectCode.CORRUPT, f"HEIC: {exc}") from exc
        self._check_pixels(width, height)

    def _zip(self, fp: IO[bytes], size: int, *, depth: int, prefix: str) -> tuple[Member, ...]:
        try:
            entries, directory_bytes = zipcheck.directory_totals(fp, size)
            self._check_count(entries, directory_bytes)
            fp.seek(0)
            archive = zipfile.ZipFile(fp)
        except ContentRejected:
            raise
        except Exception as exc:
            raise ContentRejected(RejectCode.CORRUPT, f"ZIP: {exc}") from exc
        with archive:
            infos = archive.infolist()
            self._check_count(len(infos), directory_bytes)
            self.members_left -= len(infos)
            files = self._check_entries(infos, prefix)
            if overlapping := zipcheck.first_overlap(infos, archive.start_dir):
                path = prefix + zipcheck.display_name(overlapping)
                raise _rejected(RejectCode.ZIP_BOMB, path, "its data overlaps the next entry")
            members: list[Member] = []
            dropped_before = len(self.dropped)
            for info in files:
                members += self._member(archive, info, depth=depth, prefix=prefix)
        if not members and len(self.dropped) > dropped_before:
            detail = "only programs and files of no kind we keep"
            raise ContentRejected(RejectCode.ZIP_NOTHING_KEPT, detail)
        return tuple(members)

    def _check_count(self, entries: int, directory_bytes: int) -> None:
        if entries > self.members_left or directory_bytes > self.limits.max_directory_bytes:
            detail = f"{entries} entries ({directory_bytes} bytes of directory)"
            raise ContentRejected(RejectCode.ZIP_TOO_MANY_MEMBERS, detail)

    def _check_entries(self, infos: list[zipfile.ZipInfo], prefix: str) -> list[zipfile.ZipInfo]:
        """Everything the directory tells, before anything is decompressed."""
        for info in infos:
            name = zipcheck.display_name(info)
            path = prefix + name
            reason = zipcheck.unsafe_path_reason(info.orig_filename)
            if reason or (reason := zipcheck.unsafe_path_reason(name)):
                raise _rejected(RejectCode.ZIP_UNSAFE_PATH, path, reason)
            if zipcheck.is_symlink(info):
                raise _rejected(RejectCode.ZIP_SYMLINK, path, "a symbolic link")
            if zipcheck.is_encrypted(info):
                raise _rejected(RejectCode.ZIP_ENCRYPTED, path, "encrypted")
            if info.is_dir() and info.file_size:  # extractors would drop the data unseen
                raise _rejected(RejectCode.CORRUPT, path, "a folder entry holding data")
        files = [info for info in infos if not info.is_dir()]
        if not files:
            raise ContentRejected(RejectCode.ZIP_EMPTY, "the ZIP archive holds no files")
        for info in files:
            self._check_declared(info, prefix + zipcheck.display_name(info))
        declared = sum(info.file_size for info in files)
        if declared > self.bytes_left:
            detail = f"{declared} bytes uncompressed, more than {self.bytes_left} left"
            raise ContentRejected(RejectCode.ZIP_TOO_LARGE, detail)
        return files

    def _check_declared(self, info: zipfile.ZipInfo, path: str) -> None:
        # bzip2 and LZMA are decompressed by zipfile without an output limit: a few KiB of
        # input could fill the memory before a single byte is counted.
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            detail = f"compression method {info.compress_type} (only stored and deflate)"
            raise _rejected(RejectCode.ZIP_MEMBER_UNSUPPORTED, path, detail)
        if self._ratio_exceeded(info.file_size, info.compress_size):
            detail = f"declares {info.file_size} bytes from {info.compress_size}"
            raise _rejected(RejectCode.ZIP_BOMB, path, detail)

    def _ratio_exceeded(self, size: int, compressed: int) -> bool:
        limits = self.limits
        return size > limits.ratio_floor_bytes and size > limits.max_ratio * max(compressed, 1)

    def _member(
        self, archive: zipfile.ZipFile, info: zipfile.ZipInfo, *, depth: int, prefix: str
    ) -> list[Member]:
        name = zipcheck.display_name(info)
        path = prefix + name
        if zipcheck.is_program_name(name):  # the viewer of an imaging CD: not even unpacked
            self.dropped.append(path)
            return []
        # Headers can lie, and zipfile stops at the declared size (then fails the CRC): let it
        # run past, so that what really comes out is counted against the budget. The margin
        # keeps zipfile's stop (and its CRC error) beyond the next chunk that could cross it.
        unbounded = copy.copy(info)
        unbounded.file_size = self.bytes_left + 2 * CHUNK
        try:
            stream = archive.open(unbounded)
        except Exception as exc:
            raise _rejected(RejectCode.CORRUPT, path, str(exc)) from exc
        with stream, tempfile.SpooledTemporaryFile(max_size=CHUNK) as spool:
            sample = self._copy(stream, spool, info, path)
            if zipcheck.is_os_metadata(name, sample.head):
                return []
            try:
                kind, nested = self.examine(spool, sample, depth=depth + 1, prefix=f"{path}/")
            except _NotKept:
                if _is_text_report(name, spool, sample.head):
                    return [Member(name=path, kind=FileKind.TEXT, size=sample.size)]
                self.dropped.append(path)
                return []
            except ContentRejected as exc:
                if exc.code is RejectCode.ZIP_NOTHING_KEPT and exc.member is None:
                    self.dropped.append(path)  # a ZIP in the ZIP, of programs alone
                    return []
                if exc.member is not None:  # already named, deeper down
                    raise
                raise exc.within(path) from exc
        return [Member(name=path, kind=kind, size=sample.size), *nested]

    def _copy(
        self, stream: IO[bytes], spool: IO[bytes], info: zipfile.ZipInfo, path: str
    ) -> _Sample:
        sample = _Sample()
        try:
            while chunk := stream.read(CHUNK):
                sample.feed(chunk)
                self.bytes_left -= len(chunk)
                if self.bytes_left < 0:
                    raise _rejected(RejectCode.ZIP_TOO_LARGE, path, "over the total size limit")
                if self._ratio_exceeded(sample.size, info.compress_size):
                    raise _rejected(RejectCode.ZIP_BOMB, path, f"{sample.size} bytes and more")
                spool.write(chunk)
        except ContentRejected:
            raise
        except Exception as exc:  # bad CRC, truncated or invalid deflate data
            raise _rejected(RejectCode.CORRUPT, path, str(exc)) from exc
        if sample.size == 0:
            raise _rejected(RejectCode.ZIP_MEMBER_UNSUPPORTED, path, "an empty file")
        if sample.size != info.file_size:
            detail = f"{sample.size} bytes where the directory says {info.file_size}"
            raise _rejected(RejectCode.CORRUPT, path, detail)
        spool.seek(0)
        return sample


def _is_text_report(name: str, fp: IO[bytes], head: bytes) -> bool:
    """A .txt file of plain text (a report on an imaging CD), not a script."""
    if not name.lower().endswith(".txt") or head.startswith(_EXECUTABLE_PREFIXES):
        return False
    return is_plain_text(fp, max_bytes=_TEXT_MAX_BYTES)


def _rejected(code: RejectCode, path: str, detail: str) -> ContentRejected:
    return ContentRejected(code, f"{path}: {detail}", member=path)


def _check_polyglot(fp: IO[bytes], kind: FileKind, sample: _Sample) -> None:
    try:
        found = _other_kind(fp, kind, sample)
    except ValueError as exc:  # markers Pillow got past but that lead nowhere
        raise ContentRejected(RejectCode.CORRUPT, f"{kind}: {exc}") from exc
    if found:
        raise ContentRejected(RejectCode.POLYGLOT, f"{kind} that is also {found}")


def _other_kind(fp: IO[bytes], kind: FileKind, sample: _Sample) -> str | None:
    size = sample.size
    if kind is FileKind.JPEG:
        return polyglot.image_polyglot(fp, size, polyglot.jpeg_layout(fp, size))
    if kind is FileKind.PNG:
        return polyglot.image_polyglot(fp, size, polyglot.png_layout(fp, size))
    if kind is FileKind.PDF:
        return polyglot.pdf_polyglot(fp, size, sample.head, sample.tail)
    # A DICOM preamble is 128 bytes for other software: a TIFF header at most.
    if kind is FileKind.DICOM and (found := polyglot.foreign_container(sample.head[:128])):
        return f"{found} in the DICOM preamble"
    return "a ZIP end record" if polyglot.zip_end_near_end(fp, size) else None


_PDF_CODES = {
    PdfProblem.ACTIVE: RejectCode.PDF_ACTIVE_CONTENT,
    PdfProblem.ENCRYPTED: RejectCode.PDF_ENCRYPTED,
    PdfProblem.UNREADABLE: RejectCode.PDF_UNREADABLE,
}


def _verify_pdf(fp: IO[bytes]) -> None:
    if found := pdf_problem(fp):
        problem, detail = found
        raise ContentRejected(_PDF_CODES[problem], f"PDF: {detail}")


def _verify_dicom(fp: IO[bytes], size: int) -> None:
    # The whole data set is read, pixel data included (not stop_before_pixels): values over
    # _DICOM_DEFER_BYTES are skipped by seeking, and their declared extent shows truncation.
    reader = cast(BinaryIO, CappedReader(fp, limit=_DICOM_MAX_READ_BYTES))
    try:
        _check_dicom_meta(reader)
        reader.seek(0)
        dataset = pydicom.dcmread(reader, defer_size=_DICOM_DEFER_BYTES)
    except ContentRejected:
        raise
    except ReadLimitExceeded as exc:
        detail = f"DICOM header larger than {_DICOM_MAX_READ_BYTES} bytes"
        raise ContentRejected(RejectCode.UNSUPPORTED_TYPE, detail) from exc
    except Exception as exc:
        raise ContentRejected(RejectCode.CORRUPT, f"DICOM: {exc}") from exc
    if problem := dicom_problem(dataset, size):
        raise ContentRejected(RejectCode.CORRUPT, f"DICOM: {problem}")


def _check_dicom_meta(reader: BinaryIO) -> None:
    # Read the file meta group alone first: pydicom inflates a deflated data set wholly in
    # memory, so that transfer syntax is refused before dcmread sees it.
    reader.seek(132)
    meta = read_dataset(reader, False, True, stop_when=beyond_file_meta)
    syntax, sop_class = meta.get("TransferSyntaxUID"), meta.get("MediaStorageSOPClassUID")
    if not syntax or not sop_class:
        detail = "DICOM file meta without transfer syntax or SOP class"
        raise ContentRejected(RejectCode.CORRUPT, detail)
    if syntax == DeflatedExplicitVRLittleEndian:
        detail = "deflated DICOM transfer syntax is not accepted"
        raise ContentRejected(RejectCode.UNSUPPORTED_TYPE, detail)
