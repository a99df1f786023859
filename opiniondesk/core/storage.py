"""Local file storage that has each file on the disk before it says the file is saved.

Django's FileSystemStorage leaves a new file in the page cache, where a power cut or a crash of
the machine in the next half minute loses it, while the database row that points to it was
committed (and synced). A referral letter the patient was told we received must not vanish, so
`save` returns only after the file's bytes and its directory entries are on the disk (fsync).
Object storage (STORAGE_BUCKET) is durable once its PUT returns and needs none of this; its own
class below bounds the memory of uploads and reads and leaves nothing behind a failed upload.
"""

import collections
import contextlib
import hashlib
import os
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError
from django.core.files import File
from django.core.files.storage import FileSystemStorage
from storages.backends.s3 import S3Storage
from storages.utils import clean_name


def fsync_path(path: str | os.PathLike[str], *, directory: bool = False) -> None:
    """Flush a file's (or a directory's) data and metadata to the disk."""
    flags = os.O_RDONLY | (os.O_DIRECTORY if directory else 0)
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class DurableFileSystemStorage(FileSystemStorage):
    """FileSystemStorage whose `save` returns once the file is durable."""

    def _save(self, name: str, content: Any) -> str:
        name = super()._save(name, content)
        path = Path(self.path(name))
        fsync_path(path)
        # The new entry, and any directory made for it, up to the storage's root.
        root = Path(self.location)
        directory = path.parent
        while True:
            fsync_path(directory, directory=True)
            if directory == root or root not in directory.parents:
                break
            directory = directory.parent
        return name


# --- object storage (STORAGE_BUCKET) --------------------------------------------------------------

# An upload of any size holds the parts being sent and the one being read, about 20 MiB
# (bench/s3.py). S3's smallest part is 5 MiB; 8 MiB keeps a 200 MB document to 25 requests.
PART_BYTES = 8 * 1024 * 1024
PARTS_IN_FLIGHT = 2


class ChecksumMismatch(OSError):
    """What was sent to the bucket is not the file that was checked: nothing was kept."""


def expect_sha256(content: Any, sha256: str) -> Any:
    """Mark `content` with the SHA-256 it was checked with: object storage hashes the bytes it
    sends and keeps the object only if they match (and records it as the object's metadata).
    The local storage moves or copies the same file and ignores it."""
    content.expected_sha256 = sha256
    return content


def _read_part(content: Any) -> bytes:
    """Up to PART_BYTES, fewer only at the end. One read in the common case (no second copy);
    a file object that returns short reads is read again until the part is full."""
    part: bytes = content.read(PART_BYTES)
    if len(part) in (0, PART_BYTES):
        return part
    pieces, size = [part], len(part)
    while size < PART_BYTES and (more := content.read(PART_BYTES - size)):
        pieces.append(more)
        size += len(more)
    return b"".join(pieces)


class ObjectStream(File):  # type: ignore[type-arg]
    """An object read front to back as the server sends it: a reader holds one read, never the
    whole object (django-storages' S3File copies the object into memory before the first byte).
    Not seekable; `open()` again starts a new read from the beginning."""

    def __init__(self, storage: "PrivateS3Storage", name: str) -> None:
        super().__init__(None, name)
        self.mode = "rb"
        self._storage = storage
        self._fetch()

    def _fetch(self) -> None:
        storage = self._storage
        key = storage._normalize_name(clean_name(self.name))
        try:
            answer = storage.connection.meta.client.get_object(Bucket=storage.bucket_name, Key=key)
        except ClientError as err:
            if err.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 404:
                raise FileNotFoundError(f"File does not exist: {self.name}") from err
            raise
        self.file = answer["Body"]
        self.size = answer["ContentLength"]
        self.etag = answer.get("ETag", "")

    @property
    def closed(self) -> bool:
        return self.file is None or self.file.closed

    def open(self, mode: str | None = None, *args: Any, **kwargs: Any) -> "ObjectStream":
        if mode not in (None, "rb"):
            raise ValueError("An object is opened for reading only.")
        self.close()
        self._fetch()
        return self

    def close(self) -> None:
        if self.file is not None:
            self.file.close()


class PrivateS3Storage(S3Storage):
    """django-storages' S3 storage for the documents, with the guarantees the local one has:

    - an upload is sent in parts of PART_BYTES, PARTS_IN_FLIGHT at a time while the next is
      read, hashed on the way;
      a file larger than one part is a multipart upload that is completed only when every byte
      was sent and the SHA-256 is the one it was checked with (`expect_sha256`), and aborted on
      any failure (a read error, the server, a cancelled request), so a failed upload leaves no
      object and no parts behind;
    - a read is streamed (`ObjectStream`) rather than copied into memory first.
    Objects are private (default_acl) and never linked to: the views stream them after the
    permission check and the audit row (README "Documents in object storage").
    """

    _connection_lock = threading.Lock()
    _shared_connection: Any = None

    @property
    def connection(self) -> Any:
        """One boto3 connection for the process, not one per thread as django-storages keeps.

        Under ASGI every request runs in a thread of its own, so a connection per thread was a
        new boto3 session and client for every upload, download and health check: loading the
        S3 service model again each time, about half of the S3 work of an upload under load
        (bench/README.md, "Load test"). The client is thread-safe (boto3's guide); the service
        resource around it is used only for its client and to name the bucket, which is how
        django-storages already shares its `bucket` across threads.
        """
        if self._shared_connection is None:
            with self._connection_lock:
                if self._shared_connection is None:
                    self._shared_connection = super().connection
        return self._shared_connection

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state.pop("_shared_connection", None)
        return state

    def _open(self, name: str, mode: str = "rb") -> Any:
        if mode == "rb":
            return ObjectStream(self, name)
        return super()._open(name, mode)

    def _save(self, name: str, content: Any) -> str:
        cleaned = clean_name(name)
        key = self._normalize_name(cleaned)
        params = self._get_write_parameters(key, content)
        expected = getattr(content, "expected_sha256", "")
        client = self.connection.meta.client
        if hasattr(content, "seek"):
            content.seek(0)
        sha256 = hashlib.sha256()
        part = _read_part(content)
        if len(part) < PART_BYTES:  # small: one PUT
            sha256.update(part)
            _verify(expected, sha256)
            client.put_object(
                Bucket=self.bucket_name,
                Key=key,
                Body=part,
                Metadata={"sha256": sha256.hexdigest()},
                **params,
            )
            return cleaned
        metadata = {"sha256": expected} if expected else {}
        upload = client.create_multipart_upload(
            Bucket=self.bucket_name, Key=key, Metadata=metadata, **params
        )
        where = {"Bucket": self.bucket_name, "Key": key, "UploadId": upload["UploadId"]}
        # PARTS_IN_FLIGHT parts are sent at once while the next one is read and hashed: the
        # object store's latency overlaps, and memory stays at PARTS_IN_FLIGHT + 1 parts.
        sender = ThreadPoolExecutor(PARTS_IN_FLIGHT, thread_name_prefix="s3-part")
        sending: collections.deque[Future[dict[str, Any]]] = collections.deque()
        parts: list[dict[str, Any]] = []
        try:
            number = 0
            while part:
                sha256.update(part)
                number += 1
                sending.append(sender.submit(_send_part, client, where, number, part))
                del part  # the sender holds it until it is sent
                while len(sending) >= PARTS_IN_FLIGHT:
                    parts.append(sending.popleft().result())
                part = _read_part(content)
            while sending:
                parts.append(sending.popleft().result())
            _verify(expected, sha256)
            client.complete_multipart_upload(MultipartUpload={"Parts": parts}, **where)
        except BaseException:
            # Whatever stopped it (also a cancelled request), the parts sent so far go.
            for future in sending:
                future.cancel()
            sender.shutdown(wait=True)  # no part may arrive after the abort
            with contextlib.suppress(Exception):
                client.abort_multipart_upload(**where)
            raise
        finally:
            sender.shutdown(wait=False)
        return cleaned


def _send_part(client: Any, where: dict[str, str], number: int, part: bytes) -> dict[str, Any]:
    answer = client.upload_part(PartNumber=number, Body=part, **where)
    return {"ETag": answer["ETag"], "PartNumber": number}


def _verify(expected: str, sha256: "hashlib._Hash") -> None:
    if expected and sha256.hexdigest() != expected:
        raise ChecksumMismatch("the bytes sent differ from the file that was checked")


def stored_files(storage: Any, prefix: str) -> Iterator[tuple[str, datetime]]:
    """(name, last modified) of every file under `prefix` in the storage: a flat, paged listing
    of the bucket (not one request per folder), or a walk of the local directory."""
    prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
    if isinstance(storage, S3Storage):
        root = storage.location.strip("/")
        full = f"{root}/{prefix}" if root else prefix
        pages = storage.connection.meta.client.get_paginator("list_objects_v2")
        for page in pages.paginate(Bucket=storage.bucket_name, Prefix=full):
            for entry in page.get("Contents", ()):
                name = entry["Key"][len(full) - len(prefix) :]
                if not name.endswith("/"):  # a "folder" marker is no file
                    yield name, entry["LastModified"]
        return
    if not isinstance(storage, FileSystemStorage):
        raise NotImplementedError(f"cannot list a {type(storage).__name__}")
    location = Path(storage.location)
    for directory, dirnames, filenames in os.walk(location / prefix):
        dirnames.sort()
        for filename in sorted(filenames):
            path = Path(directory) / filename
            if path.is_file() and not path.is_symlink():
                name = path.relative_to(location).as_posix()
                yield name, storage.get_modified_time(name)
