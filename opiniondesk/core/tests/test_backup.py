"""Backups (issue #14 item 4): a generation written by `manage.py backup` is restored by
`manage.py restore` into a fresh installation, which is a separate process here with its own
database file and media directory, as on the day it is needed. Files at rest (item 5)."""

import json
import os
import secrets
import shutil
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection

from opiniondesk.audit.models import AuditAction
from opiniondesk.audit.services import audit_record
from opiniondesk.cases.workflow import Status
from opiniondesk.core.backup import MANIFEST, generations, sha256_file
from opiniondesk.documents.models import Document, DocumentKind
from opiniondesk.documents.tasks import TASK_PATH, schedule_sweep, sweep_upload_spool
from opiniondesk.documents.uploads import remove_stale_upload_files
from opiniondesk.testing.builders import add_document, case_in
from opiniondesk.testing.personas import persona

pytestmark = pytest.mark.django_db(transaction=True)

INSTALLATION_KEY = secrets.token_urlsafe(50)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def backup(backup_dir: Path, *args: str) -> Path:
    call_command("backup", "--dir", str(backup_dir), *args, stdout=open(os.devnull, "w"))  # noqa: SIM115
    complete, _ = generations(backup_dir)
    return complete[-1].path


def activity() -> tuple[Document, Document]:
    case = case_in(Status.SUBMITTED)
    audit_record(
        action=AuditAction.READ, user=persona("coordinator_sato"), case_id=case.pk, obj=case
    )
    referral = case.documents.get(kind=DocumentKind.REFERRAL_LETTER)
    extra = add_document(case, DocumentKind.TEST_DATA, test_data_kind="imaging")
    return referral, extra


def fresh_installation(tmp_path: Path, name: str = "fresh") -> dict[str, str]:
    root = tmp_path / name
    root.mkdir()
    return {
        **os.environ,
        # A production installation refuses a weak key (core.E001): a strong one, made per run.
        "SECRET_KEY": INSTALLATION_KEY,
        "DEMO_MODE": "false",
        "DEBUG": "false",
        "DATABASE_URL": f"sqlite:///{root / 'db.sqlite3'}",
        "MEDIA_ROOT": str(root / "media"),
        "BACKUP_DIR": str(root / "backups"),
        # The audit log's keys and its external checkpoints live outside the installation:
        # the restored one uses the same ones (that is how a rollback is noticed).
        "AUDIT_MAC_KEY_FILE": str(settings.AUDIT_MAC_KEY_FILE),
        "AUDIT_SIGNING_KEY_FILE": str(settings.AUDIT_SIGNING_KEY_FILE),
        "AUDIT_CHECKPOINT_DIR": str(settings.AUDIT_CHECKPOINT_DIR),
    }


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.sqlite
def test_backup_writes_a_complete_private_generation(tmp_path):
    referral, extra = activity()
    gen = backup(tmp_path / "backups")

    manifest = json.loads((gen / MANIFEST).read_text())
    assert manifest["generation"] == gen.name
    assert manifest["database"] == {"vendor": "sqlite", "file": "database.sqlite3"}
    assert ["documents", "0001_initial"] in manifest["migrations"]
    listed = {entry["path"]: entry for entry in manifest["files"]}
    for document in (referral, extra):
        entry = listed[f"media/{document.file.name}"]
        assert entry["sha256"] == document.sha256
        assert entry["size"] == document.size
    for name, entry in listed.items():
        assert sha256_file(gen / name) == entry["sha256"]
        assert mode(gen / name) == 0o600
    assert not any(".upload-tmp" in name for name in listed)
    # The database copy is a consistent SQLite database holding the case.
    with sqlite3.connect(gen / "database.sqlite3") as copy:
        (count,) = copy.execute(
            "SELECT count(*) FROM documents_document WHERE id IN (?, ?)", (referral.pk, extra.pk)
        ).fetchone()
    assert count == 2
    assert mode(tmp_path / "backups") == 0o700
    assert mode(gen) == 0o700
    assert mode(gen / "media") == 0o700


@pytest.mark.sqlite
def test_restore_into_a_fresh_installation_and_verify(tmp_path):
    referral, extra = activity()
    gen = backup(tmp_path / "backups")
    env = fresh_installation(tmp_path)

    result = manage(env, "restore", str(gen))

    assert result.returncode == 0, result.stderr + result.stdout
    assert "Audit log intact" in result.stdout
    assert "every file matches the SHA-256 in its row" in result.stdout
    root = tmp_path / "fresh"
    with sqlite3.connect(root / "db.sqlite3") as restored:
        rows = restored.execute(
            "SELECT file, sha256 FROM documents_document WHERE id IN (?, ?) ORDER BY id",
            (referral.pk, extra.pk),
        ).fetchall()
    assert rows == sorted(
        [(referral.file.name, referral.sha256), (extra.file.name, extra.sha256)],
        key=lambda row: row[0] != referral.file.name,
    )
    for name, sha in rows:
        assert sha256_file(root / "media" / name) == sha
        assert mode(root / "media" / name) == 0o600
        assert mode((root / "media" / name).parent) == 0o700
    # The new installation's database file is the owner's only, whatever the umask.
    assert mode(root / "db.sqlite3") == 0o600

    # Restoring again refuses: the installation has users and cases now.
    again = manage(env, "restore", str(gen))
    assert again.returncode != 0
    assert "not empty" in again.stderr


@pytest.mark.sqlite
def test_restore_drill_backup_more_activity_restore(tmp_path):
    """Backup → more activity (sealed: a later checkpoint is written outside the database) →
    restore: the later activity is gone and verify says the log was rolled back to the
    backup's checkpoint; `--accept-restore` records it and verify is clean again."""
    from opiniondesk.audit.sealer import seal

    before, _ = activity()
    seal(lag=0)
    gen = backup(tmp_path / "backups")
    later_case = case_in(Status.SUBMITTED)
    audit_record(action=AuditAction.READ, user=persona("coordinator_sato"), case_id=later_case.pk)
    seal(lag=0)
    env = fresh_installation(tmp_path)

    result = manage(env, "restore", str(gen))

    audit_line = next(line for line in result.stdout.splitlines() if line.startswith("Audit log:"))
    assert "rolled back to checkpoint" in audit_line, result.stdout + result.stderr
    assert result.returncode != 0  # a restore of an older backup is reported, never silent
    with sqlite3.connect(tmp_path / "fresh" / "db.sqlite3") as restored:
        ids = {row[0] for row in restored.execute("SELECT id FROM cases_case")}
    assert before.case_id in ids
    assert later_case.pk not in ids
    accepted = manage(env, "verify_audit_log", "--accept-restore")
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    verify = manage(env, "verify_audit_log")
    assert verify.returncode == 0 and "rolled back" not in verify.stdout, verify.stdout


def test_a_damaged_generation_is_refused(tmp_path):
    referral, _ = activity()
    gen = backup(tmp_path / "backups")
    damaged = gen / "media" / referral.file.name
    data = bytearray(damaged.read_bytes())
    data[len(data) // 2] ^= 0xFF
    damaged.write_bytes(bytes(data))
    env = fresh_installation(tmp_path)

    result = manage(env, "restore", str(gen))

    assert result.returncode != 0
    assert f"media/{referral.file.name} does not match its SHA-256" in result.stderr
    assert "nothing restored" in result.stderr
    media = tmp_path / "fresh" / "media"
    assert [p for p in media.rglob("*") if p.is_file()] == []
    assert (
        not Path(env["DATABASE_URL"].removeprefix("sqlite:///")).exists()
        or not sqlite3.connect(env["DATABASE_URL"].removeprefix("sqlite:///"))
        .execute("SELECT name FROM sqlite_master WHERE name = 'cases_case'")
        .fetchall()
    )


def test_an_incomplete_generation_is_refused(tmp_path):
    gen = backup(tmp_path / "backups")
    (gen / MANIFEST).unlink()
    with pytest.raises(CommandError, match="incomplete"):
        call_command("restore", str(gen))


def test_restore_refuses_an_installation_in_use(tmp_path):
    activity()
    gen = backup(tmp_path / "backups")
    users_before = connection.cursor().execute("SELECT count(*) FROM accounts_user").fetchone()
    with pytest.raises(CommandError, match="not empty"):
        call_command("restore", gen.name, "--dir", str(tmp_path / "backups"))
    assert (
        connection.cursor().execute("SELECT count(*) FROM accounts_user").fetchone() == users_before
    )


def test_generations_rotate_and_the_offline_copy_is_verified(tmp_path):
    backups = tmp_path / "backups"
    made = [backup(backups, "--keep", "2").name for _ in range(3)]
    (backups / "19990101T000000.000000Z").mkdir()  # a backup that died: no manifest, left alone
    offline = tmp_path / "disk"
    newest = backup(backups, "--keep", "2", "--offline", str(offline))

    complete, incomplete = generations(backups)
    assert [g.id for g in complete] == [made[2], newest.name]
    assert [p.name for p in incomplete] == ["19990101T000000.000000Z"]
    copy = offline / newest.name
    assert (copy / MANIFEST).read_text() == (newest / MANIFEST).read_text()
    for entry in json.loads((copy / MANIFEST).read_text())["files"]:
        assert sha256_file(copy / entry["path"]) == entry["sha256"]
    assert mode(offline) == 0o700


def test_documents_are_stored_private():
    document = add_document(case_in(Status.SUBMITTED), DocumentKind.TEST_DATA)
    path = Path(document.file.path)
    assert mode(path) == 0o600
    assert mode(path.parent) == 0o700


@pytest.mark.real_clock  # a spooled file's age is its modification time
def test_stale_upload_files_are_swept_and_the_sweep_stays_queued():
    spool = Path(settings.FILE_UPLOAD_TEMP_DIR)
    old, fresh = spool / "old.upload", spool / "fresh.upload"
    old.write_bytes(b"interrupted upload")
    fresh.write_bytes(b"upload in progress")
    (spool / "a-directory").mkdir()
    two_days_ago = time.time() - 2 * 86400
    os.utime(old, (two_days_ago, two_days_ago))
    os.utime(spool / "a-directory", (two_days_ago, two_days_ago))

    assert remove_stale_upload_files() == 1
    assert not old.exists()
    assert fresh.exists()
    assert (spool / "a-directory").is_dir()

    from django_tasks_db.models import DBTaskResult

    DBTaskResult.objects.filter(task_path=TASK_PATH).delete()
    assert schedule_sweep() is True
    assert schedule_sweep() is False  # one waiting run at a time
    old.write_bytes(b"another")
    os.utime(old, (two_days_ago, two_days_ago))
    assert sweep_upload_spool.call() == 1
    assert not old.exists()
    assert DBTaskResult.objects.filter(task_path=TASK_PATH, status="READY").count() == 1


@pytest.mark.postgresql
def test_postgresql_backup_and_restore_with_pg_dump(tmp_path):
    if shutil.which("pg_dump") is None or shutil.which("pg_restore") is None:
        pytest.fail("pg_dump and pg_restore are needed for the PostgreSQL backup")
    referral, _ = activity()
    gen = backup(tmp_path / "backups")
    manifest = json.loads((gen / MANIFEST).read_text())
    assert manifest["database"] == {"vendor": "postgresql", "file": "database.pgdump"}

    fresh_name = f"{connection.settings_dict['NAME']}_restore"[:63]
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{fresh_name}"')
        cursor.execute(f'CREATE DATABASE "{fresh_name}"')
    try:
        params = connection.settings_dict
        env = fresh_installation(tmp_path)
        env["DATABASE_URL"] = (
            f"postgres://{params['USER']}:{params['PASSWORD']}@{params['HOST'] or 'localhost'}:"
            f"{params['PORT'] or 5432}/{fresh_name}"
        )
        result = manage(env, "restore", str(gen))
        assert result.returncode == 0, result.stderr + result.stdout
        assert "every file matches the SHA-256 in its row" in result.stdout
        assert sha256_file(tmp_path / "fresh" / "media" / referral.file.name) == referral.sha256
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{fresh_name}" WITH (FORCE)')


@pytest.mark.sqlite
def test_the_bucket_is_backed_up_and_restored_into_a_bucket(s3_storage, tmp_path):
    """With STORAGE_BUCKET: every object in the generation with its SHA-256 in the manifest,
    and the restore drill puts them into a new installation's (empty) bucket."""
    import hashlib
    import uuid

    activity()
    documents = {d.file.name: d.sha256 for d in Document.objects.all()}
    assert sorted(documents) == s3_storage.keys() and len(documents) >= 2
    gen = backup(tmp_path / "backups")

    manifest = json.loads((gen / MANIFEST).read_text())
    assert manifest["documents"] == {
        "storage": "object",
        "bucket": s3_storage.server.bucket,
        "prefix": s3_storage.prefix,
        "files": len(documents),
    }
    listed = {entry["path"]: entry["sha256"] for entry in manifest["files"]}
    assert {path: sha for path, sha in listed.items() if path.startswith("media/")} == {
        f"media/{name}": sha for name, sha in documents.items()
    }

    server = s3_storage.server
    bucket = f"restore-{uuid.uuid4().hex[:12]}"
    server.client().create_bucket(Bucket=bucket)
    env = fresh_installation(tmp_path) | server.env() | {"STORAGE_BUCKET": bucket}
    result = manage(env, "restore", str(gen))
    assert result.returncode == 0, result.stderr + result.stdout
    assert f"{len(documents)} document files" in result.stdout
    assert "every file matches the SHA-256 in its row" in result.stdout
    client = server.client()
    restored = {}
    for entry in client.list_objects_v2(Bucket=bucket)["Contents"]:
        body = client.get_object(Bucket=bucket, Key=entry["Key"])["Body"].read()
        restored[entry["Key"]] = hashlib.sha256(body).hexdigest()
    assert restored == documents

    # A bucket that holds objects is not restored into (a second installation on the same one).
    again = manage(
        fresh_installation(tmp_path, "second") | server.env() | {"STORAGE_BUCKET": bucket},
        "restore",
        str(gen),
    )
    assert again.returncode != 0 and "objects in its bucket" in again.stderr
