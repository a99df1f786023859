"""The in-memory SQLite test database lives as long as the test session.

Django's test database on SQLite is a shared-cache database in memory
(`file:memorydb_default?mode=memory&cache=shared`): SQLite frees it when the last connection to
it closes, and a connection opened after that finds a new, empty database ("no such table" in
every later test of that worker). Django guards its own connection (it ignores `close()` on an
in-memory database), but not every connection is that one: the ORM under Playwright's sync API
(an event loop in the test's thread) and under uvicorn's threads gets connections of its own, and
twice in CI an xdist worker lost its database near the end of a run. A raw
connection held for the whole session keeps the database whatever happens to the others.
It happened once more with that connection held: a Django connection of the worker's main
thread had opened the app's own file (var/db.sqlite3, empty) before the test database existed,
and stayed on it (`refuse_the_app_file`). The check after each test says which test made Django
open another connection, to what file and from where, and if that one finds an empty
database, puts the session's own connection back.
"""

import asyncio
import sqlite3
import threading
import traceback
from collections.abc import Callable, Iterator
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


def remember_where_opened(sender: Any, connection: Any, **kwargs: Any) -> None:
    """On each new SQLite connection of the session (`connection_created`): the thread and the
    code that opened it, for the report when the test database is reopened."""
    if connection.vendor == "sqlite":
        connection.test_opened_in = threading.current_thread().name
        connection.test_opened_at = "".join(traceback.format_stack(limit=16)[:-1])


def refuse_the_app_file(name: str) -> Callable[..., None]:
    """A `connection_created` receiver that closes and refuses a connection to the app's own
    SQLite file (`name`, var/db.sqlite3) during the tests. A test that reaches the database
    before the test database exists (a `django_db_blocker.unblock()` without `django_db_setup`,
    run first on its xdist worker) opens that file, and the connection stays on it: Django
    ignores `close()` once the name is the in-memory one, and later tests of the worker found
    no tables."""

    def receiver(sender: Any, connection: Any, **kwargs: Any) -> None:
        if connection.vendor != "sqlite" or str(connection.settings_dict["NAME"]) != name:
            return
        driver, connection.connection = connection.connection, None
        driver.close()
        raise RuntimeError(
            f"a test opened the app's own database {name}: it ran before the test database"
            " existed (ask for django_db_setup, db or transactional_db)"
        )

    return receiver


def finds_tables(wrapper: Any) -> bool:
    """Whether `wrapper`'s database is the migrated one (a lost one is new and empty)."""
    try:
        with wrapper.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM sqlite_master WHERE name = 'django_migrations'")
            return bool(cursor.fetchone()[0] == 1)
    except Exception:  # any failure: it is not the test database
        return False


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
        self.first, self.first_driver = self.wrapper, self.driver
        self.name = self.wrapper.settings_dict["NAME"]

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

    def describe(self) -> str:
        """What Django now uses, and where it was opened."""
        wrapper = self.wrapper
        try:  # the file the driver is on, which can differ from the name in the settings
            files = [row[2] for row in wrapper.connection.execute("PRAGMA database_list")]
        except Exception:  # not connected, or not SQLite's driver
            files = []
        return (
            f"now {wrapper.settings_dict['NAME']!r} (the test database: {self.name!r}),"
            f" on file {files[0] if files else '?'!r} ('' is in memory),"
            f" opened in thread {getattr(wrapper, 'test_opened_in', '?')}:\n"
            f"{getattr(wrapper, 'test_opened_at', '(where: not recorded)')}"
        )

    def recover(self) -> bool:
        """If what Django now uses finds an empty database and the session's first connection
        still finds the test database, put that one back (outside an event loop only). True if
        it did."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass
        else:
            return False
        current = self.connections[self.alias]
        if finds_tables(current):
            return False
        if self.first.connection is not self.first_driver:
            stray, self.first.connection = self.first.connection, self.first_driver
            if stray is not None:
                stray.close()
        if not finds_tables(self.first):
            return False
        self.connections[self.alias] = self.first
        self.wrapper, self.driver = self.first, self.first_driver
        return True
