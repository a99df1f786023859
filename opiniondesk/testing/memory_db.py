"""The in-memory SQLite test database lives as long as the test session.

Django's test database on SQLite is a shared-cache database in memory
(`file:memorydb_default?mode=memory&cache=shared`): SQLite frees it when the last connection to
it closes, and a connection opened after that finds a new, empty database ("no such table" in
every later test of that worker). Django guards its own connection (it ignores `close()` on an
in-memory database), but not every connection is that one: the ORM under Playwright's sync API
(an event loop in the test's thread) and under uvicorn's threads gets connections of its own, and
twice in CI an xdist worker lost its database near the end of a run. A raw
connection held for the whole session keeps the database whatever happens to the others; the
check after each test says which test dropped Django's connection, if one ever does again.
"""

import asyncio
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


def is_memory_database(connection: Any) -> bool:
    return bool(connection.vendor == "sqlite" and connection.is_in_memory_db())


@contextmanager
def kept_alive(connection: Any) -> Iterator[sqlite3.Connection | None]:
    """An extra connection to `connection`'s in-memory database while active (None on another
    database). It never runs a statement, so it holds no lock."""
    if not is_memory_database(connection):
        yield None
        return
    anchor = sqlite3.connect(connection.settings_dict["NAME"], uri=True, check_same_thread=False)
    try:
        yield anchor
    finally:
        anchor.close()


class Watch:
    """Django's connection of the session's thread (the wrapper in `connections`, not the
    `django.db.connection` proxy) and the driver's connection under it. `replaced()` says once
    that Django has since dropped that wrapper (a new one in `connections`) or made it open
    another driver's connection. Outside an event loop only: under one (Playwright's sync API in
    the test's thread) `connections` gives that context's own wrapper."""

    def __init__(self, connections: Any, alias: str) -> None:
        self.connections, self.alias = connections, alias
        self.wrapper = connections[alias]
        self.driver = self.wrapper.connection

    def replaced(self) -> bool:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            wrapper = self.connections[self.alias]
        else:
            wrapper = self.wrapper
        if wrapper is self.wrapper and wrapper.connection is self.driver:
            return False
        self.wrapper, self.driver = wrapper, wrapper.connection
        return True
