"""The in-memory SQLite test database waits for a lock as the app's database file does.

The app's SQLite file makes a second writer wait its turn (`timeout`, config/settings.py). The
test database is Django's shared-cache database in memory, whose locks are per table and do not
wait: a second connection that needs a locked table fails at once with "database table is
locked". The browser journeys write from two connections at a time (uvicorn's threads: one tab
sends the consent while the device check saves its summary), so here a statement that meets a
lock is tried again until the same timeout. A file database would wait by itself, but costs a
fifth more time in every database test.
"""

import time
from collections.abc import Callable
from typing import Any

from django.db import OperationalError

LOCKED = ("database table is locked", "database schema is locked")
PAUSE = 0.01


def is_locked(error: Exception) -> bool:
    return any(str(error).startswith(message) for message in LOCKED)


def wait_when_locked(timeout: float) -> Callable[..., Any]:
    """An execute wrapper (Django's `connection.execute_wrapper`) that tries a statement again
    while its table is locked by another connection, for up to `timeout` seconds."""

    def wrapper(
        execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any
    ) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            try:
                return execute(sql, params, many, context)
            except OperationalError as error:
                if not is_locked(error) or time.monotonic() >= deadline:
                    raise
            time.sleep(PAUSE)

    wrapper.waits_when_locked = True  # type: ignore[attr-defined]
    return wrapper


def install(sender: Any, connection: Any, **kwargs: Any) -> None:
    """On each new connection to an in-memory SQLite database (`connection_created`)."""
    if connection.vendor != "sqlite" or not connection.is_in_memory_db():
        return
    if any(getattr(w, "waits_when_locked", False) for w in connection.execute_wrappers):
        return
    timeout = float(connection.settings_dict.get("OPTIONS", {}).get("timeout", 5))
    connection.execute_wrappers.append(wait_when_locked(timeout))
