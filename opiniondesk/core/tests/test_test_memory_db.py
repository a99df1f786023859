"""The in-memory SQLite test database lives as long as the session, whatever happens to the
connections to it (opiniondesk/testing/memory_db.py)."""

import sqlite3
import uuid
from types import SimpleNamespace

import pytest
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.utils import ConnectionHandler

from opiniondesk.testing.memory_db import Watch, kept_alive


def memory_database() -> SimpleNamespace:
    """What kept_alive reads of Django's connection, for a database of this test's own."""
    name = f"file:memorydb_{uuid.uuid4().hex}?mode=memory&cache=shared"
    return SimpleNamespace(
        vendor="sqlite", is_in_memory_db=lambda: True, settings_dict={"NAME": name}
    )


def tables(name: str) -> list[str]:
    reopened = sqlite3.connect(name, uri=True)
    try:
        return [row[0] for row in reopened.execute("SELECT name FROM sqlite_master")]
    finally:
        reopened.close()


def test_sqlite_frees_a_shared_memory_database_with_its_last_connection():
    database = memory_database()
    name = database.settings_dict["NAME"]
    only = sqlite3.connect(name, uri=True)
    only.execute("CREATE TABLE kept (id INTEGER)")
    only.close()
    assert tables(name) == []  # a new, empty database: "no such table" from here on


def test_kept_alive_the_database_outlives_every_other_connection():
    database = memory_database()
    name = database.settings_dict["NAME"]
    with kept_alive(database) as anchor:
        assert anchor is not None
        only = sqlite3.connect(name, uri=True)
        only.execute("CREATE TABLE kept (id INTEGER)")
        only.commit()
        only.close()
        assert tables(name) == ["kept"]
    assert tables(name) == []  # freed once the session lets it go


def test_kept_alive_does_nothing_on_another_database():
    with kept_alive(SimpleNamespace(vendor="postgresql")) as anchor:
        assert anchor is None


def still_there(wrapper) -> bool:  # type: ignore[no-untyped-def]
    with wrapper.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM sqlite_master WHERE name = 'accounts_user'")
        return bool(cursor.fetchone()[0] == 1)


@pytest.fixture
def handler():
    """Django's connections of this test's own (as `django.db.connections`, to the same test
    database), so that the session's are left alone."""
    own = ConnectionHandler()
    yield own
    for wrapper in own.all(initialized_only=True):
        BaseDatabaseWrapper.close(wrapper)


@pytest.mark.sqlite  # the watch is for the in-memory SQLite test database
@pytest.mark.django_db(transaction=True)
def test_the_watch_says_once_that_django_opened_another_connection(handler):
    handler["default"].ensure_connection()
    watch = Watch(handler, "default")
    assert not watch.replaced()
    BaseDatabaseWrapper.close(handler["default"])  # a close SQLite's wrapper refuses here
    assert still_there(handler["default"])  # a new driver's connection, the same database
    assert watch.replaced()
    assert not watch.replaced()


@pytest.mark.sqlite
@pytest.mark.django_db(transaction=True)
def test_the_watch_says_once_that_django_dropped_its_connection(handler):
    handler["default"].ensure_connection()
    watch = Watch(handler, "default")
    del handler["default"]
    assert still_there(handler["default"])  # a new wrapper, the same database
    assert watch.replaced()
    assert not watch.replaced()
