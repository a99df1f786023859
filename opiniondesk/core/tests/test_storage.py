"""DurableFileSystemStorage: a saved file and its directory entries are synced to the disk."""

import importlib.util
import os
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import StorageHandler
from storages.backends.s3 import S3Storage

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


def _site_storage(monkeypatch, **env):
    """STORAGES["default"] as config/settings.py makes it from this environment (the test
    settings replace it per test, so `default_storage` would only show the root conftest's)."""
    for key in ("STORAGE_BUCKET", "MEDIA_ROOT"):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    spec = importlib.util.find_spec("config.settings")
    site = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(site)
    return StorageHandler(site.STORAGES)["default"]


def test_the_site_stores_files_durably(tmp_path, monkeypatch):
    storage = _site_storage(monkeypatch, MEDIA_ROOT=str(tmp_path))
    assert isinstance(storage, DurableFileSystemStorage)
    assert Path(storage.location) == tmp_path

    synced = []
    real_fsync = os.fsync

    def fsync(fd):
        synced.append(os.fstat(fd).st_ino)
        real_fsync(fd)

    monkeypatch.setattr(storage_module.os, "fsync", fsync)
    name = storage.save("cases/17/scan", ContentFile(b"%PDF-1.7\n%%EOF\n"))
    assert (tmp_path / name).stat().st_ino in synced


def test_with_a_bucket_the_site_stores_files_in_object_storage(monkeypatch):
    # Object storage has the file once its PUT returns: no local disk to sync.
    storage = _site_storage(monkeypatch, STORAGE_BUCKET="records")
    assert isinstance(storage, S3Storage)
    assert storage.bucket_name == "records"
