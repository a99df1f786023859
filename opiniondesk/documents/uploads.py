"""Upload handlers that hash each file while the multipart parser hands it over (issue #3, item 4).

Django's multipart parser passes every uploaded file to the upload handlers chunk by chunk. These
handlers store the chunks as Django's own do (small files in memory, the others in a temporary
file in FILE_UPLOAD_TEMP_DIR, which settings put on MEDIA_ROOT's filesystem so that storing the
file is a rename), and feed the same chunks to SHA-256 and a byte count. The resulting `Digest`
travels with the uploaded file, so `content.inspect_upload` need not read a large file a second
time to hash it. The digest is the server's own, of the bytes it wrote: nothing a client sends
is taken as a hash or a size.

Chunks are 256 KiB (Django's default is 64 KiB): fewer trips through the parser's Python loop,
while every buffer stays small (larger chunks measured slower: bench/upload.md). Memory per
upload stays bounded whatever the file's size.
"""

import hashlib
import os
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import (
    InMemoryUploadedFile,
    TemporaryUploadedFile,
    UploadedFile,
)
from django.core.files.uploadhandler import (
    FileUploadHandler,
    MemoryFileUploadHandler,
    TemporaryFileUploadHandler,
)

from opiniondesk.documents.content import Digest

__all__ = [
    "CHUNK_SIZE",
    "HashedInMemoryUploadedFile",
    "HashedTemporaryUploadedFile",
    "HashingMemoryFileUploadHandler",
    "HashingTemporaryFileUploadHandler",
    "server_digest",
]

CHUNK_SIZE = 256 * 1024


class HashedTemporaryUploadedFile(TemporaryUploadedFile):
    """A file uploaded to a temporary file, with the digest of what was written to it."""

    digest: Digest | None = None


class HashedInMemoryUploadedFile(InMemoryUploadedFile):
    """A small file uploaded into memory, with the digest of its bytes."""

    digest: Digest | None = None


def server_digest(uploaded: UploadedFile) -> Digest | None:
    """The digest these handlers computed for `uploaded`, or None for any other file object."""
    if isinstance(uploaded, HashedTemporaryUploadedFile | HashedInMemoryUploadedFile):
        return uploaded.digest
    return None


class _Hashing:
    """The running SHA-256 and byte count of the file being received."""

    def _start_hash(self) -> None:
        self._sha256 = hashlib.sha256()
        self._received = 0

    def _hash(self, chunk: bytes) -> None:
        self._sha256.update(chunk)
        self._received += len(chunk)

    def _digest(self, file_size: int) -> Digest | None:
        # The parser counts the bytes it handed over; both counts must agree.
        if self._received != file_size:
            return None
        return Digest(size=file_size, sha256=self._sha256.hexdigest())


class HashingMemoryFileUploadHandler(_Hashing, MemoryFileUploadHandler):
    """Django's MemoryFileUploadHandler (files up to FILE_UPLOAD_MAX_MEMORY_SIZE), hashing."""

    chunk_size = CHUNK_SIZE

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        self._start_hash()
        super().new_file(*args, **kwargs)  # raises StopFutureHandlers when it takes the file

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        if not self.activated:
            return raw_data  # for the next handler
        self.file.write(raw_data)
        self._hash(raw_data)
        return None

    def file_complete(self, file_size: int) -> HashedInMemoryUploadedFile | None:
        if not self.activated:
            return None
        self.file.seek(0)
        uploaded = HashedInMemoryUploadedFile(
            file=self.file,
            field_name=self.field_name,
            name=self.file_name,
            content_type=self.content_type,
            size=file_size,
            charset=self.charset,
            content_type_extra=self.content_type_extra,
        )
        uploaded.digest = self._digest(file_size)
        return uploaded


class HashingTemporaryFileUploadHandler(_Hashing, TemporaryFileUploadHandler):
    """Django's TemporaryFileUploadHandler, hashing; creates FILE_UPLOAD_TEMP_DIR if missing."""

    chunk_size = CHUNK_SIZE

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        # The base class's bookkeeping, without the plain temporary file it would create.
        FileUploadHandler.new_file(self, *args, **kwargs)
        if settings.FILE_UPLOAD_TEMP_DIR:
            os.makedirs(settings.FILE_UPLOAD_TEMP_DIR, mode=0o700, exist_ok=True)
        self._start_hash()
        self.file = HashedTemporaryUploadedFile(
            self.file_name, self.content_type, 0, self.charset, self.content_type_extra
        )

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        self.file.write(raw_data)
        self._hash(raw_data)

    def file_complete(self, file_size: int) -> HashedTemporaryUploadedFile:
        self.file.seek(0)
        self.file.size = file_size
        self.file.digest = self._digest(file_size)
        return self.file
