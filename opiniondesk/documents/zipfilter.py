"""A checked ZIP written again without the members left out of it (issue 15, item 5).

An imaging CD copied into a ZIP carries its viewer program next to the DICOM files. The ZIP
is kept as one document (one upload, one SHA-256, like any other), but the copy we store has
no program in it: `copy_without` writes the members that `content.inspect_upload` kept, and a
ZIP inside the ZIP is written again the same way when something was dropped from it. Members
are streamed through in 1 MiB pieces; names are written as UTF-8 (a Shift_JIS name from
Japanese Windows reads the same afterwards). Pure: no Django, settings or clock.
"""

import shutil
import tempfile
import zipfile
from collections.abc import Set
from typing import IO

from opiniondesk.documents import zipcheck

__all__ = ["copy_without"]

_CHUNK = 1024 * 1024
_FAST = 1  # deflate level: DICOM compresses little better at 6, and takes three times longer


def copy_without(
    source: IO[bytes], target: IO[bytes], dropped: Set[str], *, prefix: str = ""
) -> None:
    """Write to `target` the ZIP `source` less the members whose paths are in `dropped` (paths
    as `Inspection.dropped` gives them: "Viewer/viewer.exe", "inner.zip/setup.exe")."""
    source.seek(0)
    with zipfile.ZipFile(source) as archive, zipfile.ZipFile(target, "w") as out:
        for info in archive.infolist():
            name = zipcheck.display_name(info)
            path = prefix + name
            if info.is_dir() or path in dropped:  # folders come back with their files
                continue
            entry = zipfile.ZipInfo(name, date_time=info.date_time)
            entry.compress_type = info.compress_type
            entry.compress_level = _FAST
            entry.file_size = info.file_size  # ZIP64 is written when the size needs it
            with archive.open(info) as member:
                if any(other.startswith(f"{path}/") for other in dropped):
                    _write_nested(out, entry, member, dropped, prefix=f"{path}/")
                else:
                    _write(out, entry, member)


def _write_nested(
    out: zipfile.ZipFile,
    entry: zipfile.ZipInfo,
    member: IO[bytes],
    dropped: Set[str],
    *,
    prefix: str,
) -> None:
    with (
        tempfile.SpooledTemporaryFile(max_size=_CHUNK) as inner,
        tempfile.SpooledTemporaryFile(max_size=_CHUNK) as filtered,
    ):
        shutil.copyfileobj(member, inner, _CHUNK)
        copy_without(inner, filtered, dropped, prefix=prefix)
        entry.file_size = filtered.tell()
        filtered.seek(0)
        _write(out, entry, filtered)


def _write(out: zipfile.ZipFile, entry: zipfile.ZipInfo, data: IO[bytes]) -> None:
    with out.open(entry, "w") as written:
        shutil.copyfileobj(data, written, _CHUNK)
