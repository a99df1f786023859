"""What management commands create is the owner's only (SPEC §11.13), whatever the umask of the
shell that runs them: `make run` and cron jobs call manage.py from ordinary shells (umask 022)."""

import os
import subprocess
import sys

import pytest
from django.conf import settings

pytestmark = pytest.mark.sqlite  # an installation of its own, on an SQLite file


def test_manage_py_creates_media_and_the_database_file_for_the_owner_only(tmp_path):
    env = os.environ | {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "MEDIA_ROOT": str(tmp_path / "media"),
        "DEMO_MODE": "true",
    }
    subprocess.run(
        [sys.executable, "manage.py", "sweep_uploads", "-v0"],
        cwd=settings.BASE_DIR,
        env=env,
        check=True,
        capture_output=True,
        preexec_fn=lambda: os.umask(0o022),
    )
    modes = {p.name: p.stat().st_mode & 0o777 for p in tmp_path.iterdir()}
    assert modes == {"media": 0o700, "db.sqlite3": 0o600}
    assert (tmp_path / "media" / ".upload-tmp").stat().st_mode & 0o777 == 0o700
