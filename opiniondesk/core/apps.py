import contextlib
import os
from pathlib import Path
from typing import Any

from django.apps import AppConfig
from django.core import checks
from django.db.backends.signals import connection_created


def private_sqlite_files(sender: Any, connection: Any, **kwargs: Any) -> None:
    """The SQLite file (and its WAL and shared-memory files) are the owner's only: they hold
    patients' data and the sessions of staff who passed MFA."""
    if connection.vendor != "sqlite":
        return
    name = str(connection.settings_dict.get("NAME") or "")
    if not name or name == ":memory:" or name.startswith("file:") or "mode=memory" in name:
        return
    for suffix in ("", "-wal", "-shm"):
        path = Path(name + suffix)
        with contextlib.suppress(OSError):
            if path.exists() and path.stat().st_uid == os.getuid() and path.stat().st_mode & 0o077:
                path.chmod(0o600)


class CoreConfig(AppConfig):
    name = "opiniondesk.core"
    label = "core"

    def ready(self) -> None:
        from django.tasks.signals import task_finished, task_started

        from opiniondesk.core import logs
        from opiniondesk.core.checks import secret_key_check

        connection_created.connect(private_sqlite_files, dispatch_uid="core.private_sqlite_files")
        checks.register(secret_key_check)
        # A task's log records carry its id (core/logs.py).
        task_started.connect(logs.task_started, dispatch_uid="core.logs.task_started")
        task_finished.connect(logs.task_finished, dispatch_uid="core.logs.task_finished")
