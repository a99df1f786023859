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


@pytest.fixture
def watch(handler):
    """A watch on `handler`'s connection, opened."""
    handler["default"].ensure_connection()
    return Watch(handler, "default")


@pytest.mark.sqlite  # the watch is for the in-memory SQLite test database
@pytest.mark.django_db(transaction=True)
def test_the_watch_says_once_that_django_opened_another_connection(handler, watch):
    assert not watch.replaced()
    BaseDatabaseWrapper.close(handler["default"])  # a close SQLite's wrapper refuses here
    assert still_there(handler["default"])  # a new driver's connection, the same database
    assert watch.replaced()
    assert not watch.replaced()


@pytest.mark.sqlite
@pytest.mark.django_db(transaction=True)
def test_the_watch_says_once_that_django_dropped_its_connection(handler, watch):
    del handler["default"]
    assert still_there(handler["default"])  # a new wrapper, the same database
    assert watch.replaced()
    assert not watch.replaced()


@pytest.mark.sqlite
@pytest.mark.django_db(transaction=True)
def test_the_watch_says_where_django_opened_another_connection(handler, watch):
    del handler["default"]
    handler["default"].ensure_connection()  # conftest.py: remember_where_opened
    assert watch.replaced()
    report = watch.describe()
    assert repr(watch.name) in report and "on file ''" in report  # in memory
    assert "test_the_watch_says_where_django_opened_another_connection" in report


@pytest.mark.sqlite
@pytest.mark.django_db(transaction=True)
def test_the_watch_puts_the_session_s_connection_back_when_django_opened_an_empty_database(
    handler, watch
):
    first = handler["default"]
    stray = handler.create_connection("default")
    stray.settings_dict = {**stray.settings_dict, "NAME": memory_database().settings_dict["NAME"]}
    handler["default"] = stray
    assert watch.replaced()
    assert not still_there(handler["default"])  # "no such table" from here on
    assert watch.recover()
    assert handler["default"] is first
    assert still_there(handler["default"])
    BaseDatabaseWrapper.close(stray)


@pytest.mark.sqlite
@pytest.mark.django_db(transaction=True)
def test_the_watch_leaves_a_reopened_connection_that_finds_the_test_database(handler, watch):
    del handler["default"]
    assert watch.replaced()
    assert not watch.recover()
    assert still_there(handler["default"])


def test_a_connection_to_the_app_s_own_file_is_refused_and_closed(tmp_path, django_db_blocker):
    from django.db.backends.signals import connection_created

    from opiniondesk.testing.memory_db import refuse_the_app_file

    name = str(tmp_path / "db.sqlite3")
    own = ConnectionHandler({"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": name}})
    other = ConnectionHandler(
        {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(tmp_path / "x.db")}}
    )
    receiver = refuse_the_app_file(name)
    connection_created.connect(receiver)
    try:
        with django_db_blocker.unblock():
            with pytest.raises(RuntimeError, match="app's own database"):
                own["default"].ensure_connection()
            assert own["default"].connection is None  # nothing stays open on that file
            other["default"].ensure_connection()  # another file is no business of the guard
            other["default"].close()
    finally:
        connection_created.disconnect(receiver)


@pytest.mark.sqlite
def test_the_session_refuses_the_app_s_own_file():
    """conftest.py connects the guard on SQLite for the whole session (a strong reference: a
    weakly held closure would be collected at once and guard nothing)."""
    import weakref

    from django.conf import settings
    from django.db.backends.signals import connection_created

    (receiver,) = [
        held
        for (uid, __), held, *__ in connection_created.receivers
        if uid == "opiniondesk-test-app-file"
    ]
    assert not isinstance(receiver, weakref.ReferenceType)
    app_file = str(settings.BASE_DIR / "var" / "db.sqlite3")  # config/settings.py's default
    opened = SimpleNamespace(
        vendor="sqlite", settings_dict={"NAME": app_file}, connection=sqlite3.connect(":memory:")
    )
    with pytest.raises(RuntimeError, match="app's own database"):
        receiver(None, opened)
    assert opened.connection is None
