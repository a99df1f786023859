"""Backups: one generation is a directory of the database, the documents, the audit checkpoints
and a manifest (README "Backups").

A generation `BACKUP_DIR/<id>/` holds
- `database.sqlite3` (SQLite's online backup API: a consistent copy while the site runs) or
  `database.pgdump` (`pg_dump -Fc`, a consistent snapshot of a PostgreSQL database);
- `media/`: the documents' files, from the local storage (not the upload spool) or, with
  STORAGE_BUCKET, every object of the bucket (under the storage's prefix), each read as a stream
  and written here under its name, so that the manifest holds its SHA-256 like any file;
- `audit-checkpoints/`: the audit log's external checkpoints, when AUDIT_CHECKPOINT_DIR is set;
- `manifest.json`, written last (atomically): the generation is complete only with it. It names
  every other file with its size and SHA-256, the migrations applied and the code's version.

`restore` checks the manifest first, refuses an installation that already has users or cases
(or a bucket that already holds objects), copies the documents into the storage this
installation has (the media directory or the bucket, whichever the generation came from),
replaces the database, and then verifies: the audit log
(`manage.py verify_audit_log`) and every document against the SHA-256 in its row.
"""

import contextlib
import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files import File
from django.core.files.storage import FileSystemStorage, default_storage
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder

from opiniondesk.core.storage import PrivateS3Storage, expect_sha256, fsync_path, stored_files

MANIFEST = "manifest.json"
MANIFEST_FORMAT = 1
SQLITE_FILE = "database.sqlite3"
PGDUMP_FILE = "database.pgdump"
MEDIA_DIR = "media"
CHECKPOINTS_DIR = "audit-checkpoints"
CHUNK = 1024 * 1024


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why, for the operator."""


# --- helpers -------------------------------------------------------------------------------------


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def private_dir(path: Path) -> Path:
    """Create `path` (and its parents) readable by the owner only."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.chmod(0o700)
    return path


def _copy_private(source: Path, target: Path) -> None:
    private_dir(target.parent)
    shutil.copyfile(source, target)
    target.chmod(0o600)


def _files_under(root: Path, *, skip: tuple[str, ...] = ()) -> Iterator[Path]:
    """Every regular file under `root`, sorted, skipping top-level entries named in `skip`."""
    for directory, dirnames, filenames in os.walk(root):
        here = Path(directory)
        if here == root:
            dirnames[:] = [name for name in dirnames if name not in skip]
        dirnames.sort()
        for name in sorted(filenames):
            path = here / name
            if path.is_file() and not path.is_symlink():
                yield path


def local_media_root() -> Path | None:
    """The local document storage's directory; None with object storage (STORAGE_BUCKET)."""
    if isinstance(default_storage, FileSystemStorage):
        return Path(default_storage.location)
    return None


def object_names() -> Iterator[str]:
    """The names (in the storage: without its prefix) of every object of the document bucket."""
    storage = default_storage
    if not isinstance(storage, PrivateS3Storage):
        raise BackupError(f"Backups of a {type(storage).__name__} storage are not supported.")
    for name, _modified in stored_files(storage, ""):
        yield name


def _inside(root: Path, name: str) -> Path:
    """`root/name`, refused when the name would leave `root` (an object key is anything)."""
    target = (root / name).resolve()
    if root.resolve() not in target.parents or ".." in Path(name).parts:
        raise BackupError(f"The object {name!r} has a name that cannot be a file.")
    return root / name


def _copy_objects(target_root: Path) -> int:
    """Every object of the bucket into `target_root`, streamed (a chunk in memory at a time)."""
    count = 0
    for name in object_names():
        target = _inside(target_root, name)
        private_dir(target.parent)
        with default_storage.open(name, "rb") as source, target.open("wb") as out:
            while chunk := source.read(CHUNK):
                out.write(chunk)
        target.chmod(0o600)
        count += 1
    return count


def _restore_objects(source: Path, manifest: dict[str, Any]) -> int:
    """The generation's media files into the empty bucket, each checked against the manifest's
    SHA-256 as it is sent (core.storage: a mismatch keeps nothing)."""
    listed = {entry["path"]: entry["sha256"] for entry in manifest["files"]}
    count = 0
    for path in _files_under(source):
        name = path.relative_to(source).as_posix()
        with path.open("rb") as handle:
            content = expect_sha256(File(handle, name=name), listed[f"{MEDIA_DIR}/{name}"])
            saved = default_storage.save(name, content)
        if saved != name:
            raise BackupError(f"{name} was stored as {saved}: the bucket was not empty.")
        count += 1
    return count


def _upload_spool_name(media: Path) -> str | None:
    spool = settings.FILE_UPLOAD_TEMP_DIR
    if spool and Path(spool).parent == media:
        return Path(spool).name
    return None


def checkpoint_dir() -> Path | None:
    configured = getattr(settings, "AUDIT_CHECKPOINT_DIR", None)
    return Path(configured) if configured else None


def audit_key_ids() -> list[str]:
    # The signing key's id (audit.keys.key_id) is above core: an `AUDIT_KEY_IDS` setting names
    # it until the backup moves to a layer that may ask the audit app. Never the keys.
    ids = getattr(settings, "AUDIT_KEY_IDS", None)
    return [str(key_id) for key_id in ids] if ids else []


def _code_version() -> dict[str, str]:
    version: dict[str, str] = {}
    with contextlib.suppress(Exception):
        from importlib.metadata import version as package_version

        version["app"] = package_version("opiniondesk")
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"],  # noqa: S607
            cwd=settings.BASE_DIR,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        if commit:
            version["git_commit"] = commit
    return version


def _migrations() -> list[list[str]]:
    recorder = MigrationRecorder(connection)
    if not recorder.has_table():
        return []
    return sorted([app, name] for app, name in recorder.applied_migrations())


def _libpq_keywords() -> frozenset[str]:
    from psycopg import pq

    return frozenset(d.keyword.decode() for d in pq.Conninfo.get_defaults())


def pg_connection_arguments(settings_dict: dict[str, Any]) -> tuple[list[str], dict[str, str]]:
    """pg_dump/pg_restore's `--dbname`: one libpq connection string with everything the app
    connects with (host, port, user, database and DATABASE_URL's options such as sslmode,
    sslrootcert or connect_timeout), so a backup goes over the same TLS; the password through
    the environment (PGPASSWORD), never on the command line. Options of Django or psycopg that
    libpq does not know (pool, isolation_level, …) are left out."""
    from psycopg.conninfo import make_conninfo

    keywords = _libpq_keywords()
    params: dict[str, Any] = {
        key: value
        for key, value in (settings_dict.get("OPTIONS") or {}).items()
        if key in keywords and value not in (None, "")
    }
    for key, setting in (("dbname", "NAME"), ("user", "USER"), ("host", "HOST"), ("port", "PORT")):
        if settings_dict.get(setting):
            params[key] = settings_dict[setting]
    password = settings_dict.get("PASSWORD") or params.get("password")
    params.pop("password", None)
    env = dict(os.environ)
    if password:
        env["PGPASSWORD"] = str(password)
    return ["--dbname", make_conninfo("", **params)], env


# --- backup --------------------------------------------------------------------------------------


@dataclass
class Generation:
    path: Path
    manifest: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.path.name


def generations(backup_dir: Path) -> tuple[list[Generation], list[Path]]:
    """The complete generations (oldest first) and the incomplete ones (no manifest)."""
    complete, incomplete = [], []
    if backup_dir.is_dir():
        for path in sorted(p for p in backup_dir.iterdir() if p.is_dir()):
            if (path / MANIFEST).is_file():
                complete.append(Generation(path))
            else:
                incomplete.append(path)
    return complete, incomplete


def _new_generation_id(backup_dir: Path) -> str:
    # Microseconds: ids sort in the order the generations were made, and are never reused.
    base = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    candidate, n = base, 1
    while (backup_dir / candidate).exists():
        n += 1
        candidate = f"{base}-{n:03d}"
    return candidate


def _dump_database(target_dir: Path) -> str:
    connection.ensure_connection()
    if connection.vendor == "sqlite":
        target = target_dir / SQLITE_FILE
        destination = sqlite3.connect(target)
        try:
            # The online backup API copies a consistent snapshot while others keep writing.
            connection.connection.backup(destination)
        finally:
            destination.close()
        target.chmod(0o600)
        return SQLITE_FILE
    if connection.vendor == "postgresql":
        target = target_dir / PGDUMP_FILE
        args, env = pg_connection_arguments(connection.settings_dict)
        result = subprocess.run(  # noqa: S603
            ["pg_dump", "--format=custom", "--no-owner", "--file", str(target), *args],  # noqa: S607
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise BackupError(f"pg_dump failed: {result.stderr.strip()}")
        target.chmod(0o600)
        return PGDUMP_FILE
    raise BackupError(f"Backups of a {connection.vendor} database are not supported.")


def _write_manifest(gen_dir: Path, manifest: dict[str, Any]) -> None:
    temporary = gen_dir / (MANIFEST + ".tmp")
    temporary.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    temporary.chmod(0o600)
    fsync_path(temporary)
    temporary.replace(gen_dir / MANIFEST)
    fsync_path(gen_dir, directory=True)


def _file_entries(gen_dir: Path) -> list[dict[str, Any]]:
    return [
        {
            "path": path.relative_to(gen_dir).as_posix(),
            "size": path.stat().st_size,
            "sha256": sha256_file(path),
        }
        for path in _files_under(gen_dir)
        if path.name not in {MANIFEST, MANIFEST + ".tmp"}
    ]


def create_generation(backup_dir: Path) -> Generation:
    """Write one complete generation into `backup_dir`; the manifest last."""
    old_umask = os.umask(0o077)
    try:
        private_dir(backup_dir)
        gen_dir = private_dir(backup_dir / _new_generation_id(backup_dir))
        started = datetime.now(UTC)
        database_file = _dump_database(gen_dir)

        media = local_media_root()
        documents: dict[str, Any]
        if media is None:
            storage = default_storage
            documents = {
                "storage": "object",
                "bucket": getattr(storage, "bucket_name", ""),
                "prefix": getattr(storage, "location", ""),
                "files": _copy_objects(gen_dir / MEDIA_DIR),
            }
        else:
            spool = _upload_spool_name(media)
            count = 0
            if media.is_dir():
                for source in _files_under(media, skip=(spool,) if spool else ()):
                    _copy_private(source, gen_dir / MEDIA_DIR / source.relative_to(media))
                    count += 1
            documents = {"storage": "local", "files": count}

        checkpoints = checkpoint_dir()
        audit: dict[str, Any] = {"key_ids": audit_key_ids(), "checkpoints": 0}
        if checkpoints is not None and checkpoints.is_dir():
            for source in _files_under(checkpoints):
                target = gen_dir / CHECKPOINTS_DIR / source.relative_to(checkpoints)
                _copy_private(source, target)
                audit["checkpoints"] += 1

        for path in _files_under(gen_dir):
            fsync_path(path)
        manifest = {
            "format": MANIFEST_FORMAT,
            "generation": gen_dir.name,
            "started_at": started.isoformat(),
            "finished_at": datetime.now(UTC).isoformat(),
            "version": _code_version(),
            "database": {"vendor": connection.vendor, "file": database_file},
            "migrations": _migrations(),
            "documents": documents,
            "audit": audit,
            "files": _file_entries(gen_dir),
        }
        _write_manifest(gen_dir, manifest)
        return Generation(gen_dir, manifest)
    finally:
        os.umask(old_umask)


def rotate(backup_dir: Path, keep: int) -> list[str]:
    """Delete the oldest complete generations beyond `keep`; returns their ids. Incomplete ones
    (a backup that died, or one still running) are left for the operator."""
    if keep < 1:
        raise BackupError("BACKUP_KEEP must be at least 1.")
    complete, _incomplete = generations(backup_dir)
    removed = []
    for generation in complete[: max(0, len(complete) - keep)]:
        shutil.rmtree(generation.path)
        removed.append(generation.id)
    return removed


def copy_offline(generation: Generation, target_root: Path) -> Generation:
    """Copy a complete generation to another target (a mounted disk), verified, manifest last."""
    manifest = read_manifest(generation.path)
    old_umask = os.umask(0o077)
    try:
        private_dir(target_root)
        target = target_root / generation.id
        if (target / MANIFEST).exists():
            raise BackupError(f"{target} already holds generation {generation.id}.")
        private_dir(target)
        for entry in manifest["files"]:
            _copy_private(generation.path / entry["path"], target / entry["path"])
            fsync_path(target / entry["path"])
        problems = check_files(target, manifest)
        if problems:
            raise BackupError("The offline copy differs: " + "; ".join(problems))
        _write_manifest(target, manifest)
        return Generation(target, manifest)
    finally:
        os.umask(old_umask)


# --- restore -------------------------------------------------------------------------------------


def read_manifest(gen_dir: Path) -> dict[str, Any]:
    path = gen_dir / MANIFEST
    if not path.is_file():
        raise BackupError(f"{gen_dir} has no {MANIFEST}: the generation is incomplete.")
    try:
        manifest = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise BackupError(f"{path} cannot be read: {exc}") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != MANIFEST_FORMAT:
        raise BackupError(f"{path} is not a manifest this version understands.")
    return manifest


def check_files(gen_dir: Path, manifest: dict[str, Any]) -> list[str]:
    """Every file in the manifest present with its size and SHA-256, and no others."""
    problems = []
    listed = set()
    for entry in manifest["files"]:
        listed.add(entry["path"])
        path = gen_dir / entry["path"]
        if not path.is_file():
            problems.append(f"{entry['path']} is missing")
        elif path.stat().st_size != entry["size"]:
            problems.append(f"{entry['path']} has the wrong size")
        elif sha256_file(path) != entry["sha256"]:
            problems.append(f"{entry['path']} does not match its SHA-256")
    for path in _files_under(gen_dir):
        name = path.relative_to(gen_dir).as_posix()
        if name != MANIFEST and name not in listed:
            problems.append(f"{name} is not in the manifest")
    return problems


def resolve_generation(name: str, backup_dir: Path) -> Path:
    """A generation by id (in BACKUP_DIR) or by path (e.g. on the offline disk)."""
    path = Path(name)
    if path.is_dir():
        return path
    if (backup_dir / name).is_dir():
        return backup_dir / name
    raise BackupError(f"No generation {name!r} in {backup_dir} and no such directory.")


def installation_in_use() -> list[str]:
    """What makes this installation not empty: its users and cases."""
    from opiniondesk.accounts.models import User
    from opiniondesk.cases.models import Case

    tables = set(connection.introspection.table_names())
    found = []
    for model, label in ((User, "users"), (Case, "cases")):
        if model._meta.db_table in tables and model.objects.exists():
            found.append(label)
    return found


def _restore_database(gen_dir: Path, manifest: dict[str, Any]) -> None:
    database = manifest["database"]
    if database["vendor"] != connection.vendor:
        raise BackupError(
            f"The generation holds a {database['vendor']} database; this installation uses "
            f"{connection.vendor}."
        )
    source = gen_dir / database["file"]
    connection.ensure_connection()
    if connection.vendor == "sqlite":
        origin = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        try:
            origin.backup(connection.connection)
        finally:
            origin.close()
        return
    args, env = pg_connection_arguments(connection.settings_dict)
    connection.close()
    result = subprocess.run(  # noqa: S603
        [  # noqa: S607
            "pg_restore",
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            *args,
            str(source),
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise BackupError(f"pg_restore failed: {result.stderr.strip()}")


def _restore_tree(source: Path, target: Path) -> int:
    count = 0
    if source.is_dir():
        for path in _files_under(source):
            _copy_private(path, target / path.relative_to(source))
            fsync_path(target / path.relative_to(source))
            count += 1
    return count


def check_documents() -> tuple[int, list[str]]:
    """Every document's file against the size and SHA-256 in its row."""
    from opiniondesk.documents.models import Document

    problems, count = [], 0
    rows = Document.objects.order_by("pk").values_list("pk", "file", "sha256")
    for pk, name, expected in rows.iterator():
        count += 1
        digest = hashlib.sha256()
        try:
            with default_storage.open(name, "rb") as handle:
                while chunk := handle.read(CHUNK):
                    digest.update(chunk)
        except OSError:
            problems.append(f"document {pk}: its file {name} is missing")
            continue
        if digest.hexdigest() != expected:
            problems.append(f"document {pk}: {name} does not match the SHA-256 in its row")
    return count, problems


@dataclass
class RestoreReport:
    generation: str
    documents: int = 0
    checkpoints: int = 0
    document_problems: list[str] = field(default_factory=list)
    audit_ok: bool = False
    audit_output: str = ""
    unapplied_migrations: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.audit_ok and not self.document_problems


def restore_generation(gen_dir: Path) -> RestoreReport:
    manifest = read_manifest(gen_dir)
    problems = check_files(gen_dir, manifest)
    if problems:
        raise BackupError("The generation is damaged, nothing restored: " + "; ".join(problems))
    in_use = installation_in_use()
    if local_media_root() is None and next(object_names(), None) is not None:
        in_use.append("objects in its bucket")
    if in_use:
        raise BackupError(
            "This installation is not empty (it has " + " and ".join(in_use) + "); a generation "
            "is restored only into an empty one (a new database, an empty media directory or "
            "bucket)."
        )
    report = RestoreReport(manifest["generation"])
    old_umask = os.umask(0o077)
    try:
        # The files first: until the database is in place nothing points to them. Into this
        # installation's storage, whichever the generation's documents came from.
        media = local_media_root()
        if media is not None:
            report.documents = _restore_tree(gen_dir / MEDIA_DIR, media)
        else:
            report.documents = _restore_objects(gen_dir / MEDIA_DIR, manifest)
        checkpoints = checkpoint_dir()
        if checkpoints is not None:
            report.checkpoints = _restore_tree(gen_dir / CHECKPOINTS_DIR, checkpoints)
        _restore_database(gen_dir, manifest)
    finally:
        os.umask(old_umask)

    recorder = MigrationRecorder(connection)
    from django.db.migrations.loader import MigrationLoader

    loader = MigrationLoader(connection, ignore_no_migrations=True)
    applied = set(recorder.applied_migrations())
    report.unapplied_migrations = sorted(
        f"{app}.{name}" for app, name in loader.graph.leaf_nodes() if (app, name) not in applied
    )
    _count, report.document_problems = check_documents()

    out = io.StringIO()
    try:
        call_command("verify_audit_log", stdout=out, stderr=out)
        report.audit_ok = True
    except CommandError as exc:
        out.write(str(exc))
    report.audit_output = out.getvalue().strip()
    return report
