"""Local file storage that has each file on the disk before it says the file is saved.

Django's FileSystemStorage leaves a new file in the page cache, where a power cut or a crash of
the machine in the next half minute loses it, while the database row that points to it was
committed (and synced). A referral letter the patient was told we received must not vanish, so
`save` returns only after the file's bytes and its directory entries are on the disk (fsync).
Object storage (STORAGE_BUCKET) is durable once its PUT returns and needs none of this.
"""

import os
from pathlib import Path
from typing import Any

from django.core.files.storage import FileSystemStorage


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
