"""DurableFileSystemStorage: a saved file and its directory entries are synced to the disk."""

import os
from pathlib import Path

import pytest
from django.core.files.base import ContentFile

from opiniondesk.core import storage as storage_module
from opiniondesk.core.storage import DurableFileSystemStorage


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs Linux's /proc")
def test_save_syncs_the_file_and_every_directory_up_to_the_root(tmp_path, monkeypatch):
    synced = []
    real_fsync = os.fsync

    def fsync(fd):
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    monkeypatch.setattr(storage_module.os, "fsync", fsync)
    storage = DurableFileSystemStorage(location=tmp_path)
    name = storage.save("cases/17/scan", ContentFile(b"%PDF-1.7\n%%EOF\n"))
    path = tmp_path / name
    assert path.read_bytes() == b"%PDF-1.7\n%%EOF\n"
    assert synced == [
        str(path),
        str(tmp_path / "cases" / "17"),
        str(tmp_path / "cases"),
        str(tmp_path),
    ]


def test_the_site_stores_files_durably():
    from django.core.files.storage import default_storage

    assert isinstance(default_storage, DurableFileSystemStorage)
