"""Uploaded files that are hashed while they are received (issue #3, item 4).

The form parser (`documents.formdata`) hands each uploaded file's bytes, as they arrive, to a
`MemoryHashing` (a request no larger than FILE_UPLOAD_MAX_MEMORY_SIZE: the file stays in memory)
or a `TemporaryHashing` (a temporary file in FILE_UPLOAD_TEMP_DIR, which settings put on
MEDIA_ROOT's filesystem so that storing the file is a rename), and feeds the same bytes to
SHA-256 and a byte count. The resulting `Digest` travels with the uploaded file, so
`content.inspect_upload` need not read a large file a second time to hash it. The digest is the
server's own, of the bytes it wrote: nothing a client sends is taken as a hash or a size.

For a file on disk:
- SHA-256 runs in a helper thread of its own, a few chunks behind the parser. Hashing is the
  slowest step of an upload (about 1.3 GB/s on one core here), and hashlib releases the GIL while
  it works, so the parser and the disk go on meanwhile. At most HASH_AHEAD_BYTES wait for it.
- Every WRITEBACK_BYTES, the kernel is asked to start writing what was received so far to the
  disk (posix_fadvise DONTNEED starts write-back without waiting for it), so that the fsync
  when the document is stored (core.storage) has little left to wait for.
Memory per upload stays bounded whatever the file's size (bench/upload.md).
"""

import collections
import hashlib
import io
import logging
import os
import time
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime, timedelta

from django.conf import settings
from django.core.files.uploadedfile import (
    InMemoryUploadedFile,
    TemporaryUploadedFile,
    UploadedFile,
)
from django.utils import timezone

from opiniondesk.core.storage import stored_files
from opiniondesk.documents.content import Digest

__all__ = [
    "HASH_AHEAD_BYTES",
    "WRITEBACK_BYTES",
    "HashedInMemoryUploadedFile",
    "HashedTemporaryUploadedFile",
    "MemoryHashing",
    "TemporaryHashing",
    "server_digest",
]

logger = logging.getLogger(__name__)

HASH_AHEAD_BYTES = 16 * 1024 * 1024  # handed to the hashing thread and not yet hashed, at most
WRITEBACK_BYTES = 16 * 1024 * 1024

Chunk = bytes | memoryview


class HashedTemporaryUploadedFile(TemporaryUploadedFile):
    """A file uploaded to a temporary file, with the digest of what was written to it."""

    digest: Digest | None = None


class HashedInMemoryUploadedFile(InMemoryUploadedFile):
    """A small file uploaded into memory, with the digest of its bytes."""

    digest: Digest | None = None


def server_digest(uploaded: UploadedFile) -> Digest | None:
    """The digest computed while `uploaded` was received, or None for any other file object."""
    if isinstance(uploaded, HashedTemporaryUploadedFile | HashedInMemoryUploadedFile):
        return uploaded.digest
    return None


class _BackgroundSHA256:
    """SHA-256 of chunks fed in order, computed in a thread of its own, a few chunks behind.

    The chunks must not change until hashed (bytes, or views of bytes). The thread ends when the
    hash is read or when this object is dropped (an interrupted upload): ThreadPoolExecutor's
    worker exits once its executor is garbage.
    """

    def __init__(self) -> None:
        self._sha256 = hashlib.sha256()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="upload-sha256")
        self._pending: collections.deque[tuple[Future[None], int]] = collections.deque()
        self._pending_bytes = 0

    def update(self, chunk: Chunk) -> None:
        # One worker, first in first out: the chunks are hashed in the order given.
        self._pending.append((self._executor.submit(self._sha256.update, chunk), len(chunk)))
        self._pending_bytes += len(chunk)
        while self._pending_bytes > HASH_AHEAD_BYTES:
            self._wait_oldest()

    def hexdigest(self) -> str:
        while self._pending:
            self._wait_oldest()
        self._executor.shutdown()
        return self._sha256.hexdigest()

    def _wait_oldest(self) -> None:
        future, size = self._pending.popleft()
        future.result()
        self._pending_bytes -= size


class MemoryHashing:
    """Receives one small file into memory, hashing it."""

    def __init__(
        self,
        file_name: str,
        content_type: str,
        charset: bytes | None,
        content_type_extra: dict[str, bytes],
    ) -> None:
        self.buffer = io.BytesIO()
        self.sha256 = hashlib.sha256()
        self.file = HashedInMemoryUploadedFile(
            file=self.buffer,
            field_name=None,
            name=file_name,
            content_type=content_type,
            size=0,
            charset=charset,
            content_type_extra=content_type_extra,
        )

    def write(self, chunk: Chunk) -> None:
        self.buffer.write(chunk)
        self.sha256.update(chunk)

    def complete(self) -> HashedInMemoryUploadedFile:
        size = self.buffer.tell()
        self.buffer.seek(0)
        self.file.size = size
        self.file.digest = Digest(size=size, sha256=self.sha256.hexdigest())
        return self.file


class TemporaryHashing:
    """Receives one file into a temporary file, hashing it in a helper thread."""

    def __init__(
        self,
        file_name: str,
        content_type: str,
        charset: bytes | None,
        content_type_extra: dict[str, bytes],
    ) -> None:
        if settings.FILE_UPLOAD_TEMP_DIR:
            os.makedirs(settings.FILE_UPLOAD_TEMP_DIR, mode=0o700, exist_ok=True)
        self.file = HashedTemporaryUploadedFile(
            file_name, content_type, 0, charset, content_type_extra
        )
        self.sha256 = _BackgroundSHA256()
        self.written = self.written_back = 0

    def write(self, chunk: Chunk) -> None:
        self.file.write(chunk)
        self.sha256.update(chunk)
        self.written += len(chunk)
        if self.written - self.written_back >= WRITEBACK_BYTES:
            self._start_writeback()

    def complete(self) -> HashedTemporaryUploadedFile:
        self.file.flush()
        self.file.seek(0)
        self.file.size = self.written
        self.file.digest = Digest(size=self.written, sha256=self.sha256.hexdigest())
        return self.file

    def _start_writeback(self) -> None:
        if hasattr(os, "posix_fadvise"):
            self.file.flush()
            os.posix_fadvise(
                self.file.fileno(),
                self.written_back,
                self.written - self.written_back,
                os.POSIX_FADV_DONTNEED,
            )
        self.written_back = self.written


def remove_stale_upload_files(max_age_hours: int | None = None) -> int:
    """Remove spooled upload and request-body files older than UPLOAD_TEMP_MAX_AGE_HOURS (an
    interrupted upload leaves its temporary file behind); returns how many were removed.

    Only regular files directly in FILE_UPLOAD_TEMP_DIR, never a directory or a link's target.
    Without FILE_UPLOAD_TEMP_DIR (the system's temporary directory) nothing of ours to sweep.
    """
    spool = settings.FILE_UPLOAD_TEMP_DIR
    if not spool:
        return 0
    hours = settings.UPLOAD_TEMP_MAX_AGE_HOURS if max_age_hours is None else max_age_hours
    cutoff = time.time() - hours * 3600
    removed = 0
    try:
        entries = list(os.scandir(spool))
    except FileNotFoundError:
        return 0
    for entry in entries:
        try:
            if entry.is_file(follow_symlinks=False) and entry.stat().st_mtime < cutoff:
                os.unlink(entry.path)
                removed += 1
        except FileNotFoundError:
            continue  # its request finished and removed it meanwhile
    return removed


def remove_orphan_files(max_age_hours: int | None = None) -> int:
    """Remove the document files that no document points to, older than
    UPLOAD_TEMP_MAX_AGE_HOURS; returns how many were removed.

    A failed upload removes its own file (documents.services), but not when the process was
    killed between storing the file and committing its row, nor when a caller's transaction
    was rolled back after the service returned. The age keeps a file whose row is still being
    committed. Only under `cases/`, where documents are stored."""
    from opiniondesk.documents.models import Document

    storage = Document._meta.get_field("file").storage  # type: ignore[attr-defined]
    hours = settings.UPLOAD_TEMP_MAX_AGE_HOURS if max_age_hours is None else max_age_hours
    cutoff = timezone.now() - timedelta(hours=hours)
    removed = 0
    batch: list[tuple[str, datetime]] = []

    def sweep() -> int:
        names = [name for name, _ in batch]
        kept = set(Document.objects.filter(file__in=names).values_list("file", flat=True))
        count = 0
        for name, modified in batch:
            if name not in kept and modified <= cutoff:
                storage.delete(name)
                logger.warning("removed %s: a stored file no document points to", name)
                count += 1
        batch.clear()
        return count

    for entry in stored_files(storage, "cases"):
        batch.append(entry)
        if len(batch) >= 500:
            removed += sweep()
    return removed + sweep()
