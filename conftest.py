"""The test session: its databases (named per run, seeded once), storage, HTTP and browser
plumbing. The personas and builders are in opiniondesk/testing."""

import os
import uuid
import warnings

import pytest

pytest_plugins = [
    "opiniondesk.testing.fixtures",
    "opiniondesk.testing.browser",
    "opiniondesk.testing.stripe",
    "opiniondesk.testing.clock",
]


def pytest_configure(config: pytest.Config) -> None:
    # The in-memory SQLite test database waits for a locked table as the app's file does.
    from django.conf import settings
    from django.db.backends.signals import connection_created

    from opiniondesk.testing.memory_db import refuse_the_app_file, remember_where_opened
    from opiniondesk.testing.sqlite_locks import install

    connection_created.connect(install, dispatch_uid="opiniondesk-test-sqlite-locks")
    connection_created.connect(remember_where_opened, dispatch_uid="opiniondesk-test-opened-at")
    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3":
        # Tests use their database in memory, never the app's own file.
        connection_created.connect(  # weak=False: nothing else holds this closure
            refuse_the_app_file(str(database["NAME"])),
            dispatch_uid="opiniondesk-test-app-file",
            weak=False,
        )


def _run_id(config: pytest.Config) -> str:
    """One id for the whole run, shared by the xdist workers."""
    worker = getattr(config, "workerinput", None)
    if worker is not None:
        return worker["testrunuid"][:8]
    if not hasattr(config, "_opiniondesk_run_id"):
        config._opiniondesk_run_id = uuid.uuid4().hex[:8]
    return config._opiniondesk_run_id


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix, request):
    """PostgreSQL test databases carry the run's id (after the xdist worker's), so two runs on
    one server never use, or drop, each other's database."""
    from django.conf import settings

    for database in settings.DATABASES.values():
        if database["ENGINE"] == "django.db.backends.postgresql":
            test = database.setdefault("TEST", {})
            name = test.get("NAME") or f"test_{database['NAME']}"
            test["NAME"] = f"{name}_{_run_id(request.config)}"


@pytest.fixture(scope="session")
def _audit_keys(tmp_path_factory):
    """The audit log's keys for this run, 0600 in a temporary folder (never var/keys); the test
    runner's flush may empty the audit tables (their database guards allow it only then)."""
    from django.conf import settings

    from opiniondesk.audit.keys import create_keys

    folder = tmp_path_factory.mktemp("audit-keys")
    settings.AUDIT_MAC_KEY_FILE = folder / "audit-mac.key"
    settings.AUDIT_SIGNING_KEY_FILE = folder / "audit-signing.key"
    settings.AUDIT_PUBLIC_KEY_FILE = ""
    settings.AUDIT_ALLOW_FLUSH = True
    create_keys(settings.AUDIT_MAC_KEY_FILE, settings.AUDIT_SIGNING_KEY_FILE)
    return folder


@pytest.fixture(scope="session", autouse=True)
def _public_api_unlimited():
    """Tests call the public API far faster than a client may (the fuzzing: hundreds of calls in
    one test, from one address); the limit's own tests (api/tests/test_throttle.py) set a rate."""
    from django.conf import settings

    settings.PUBLIC_API_RATE = ""


@pytest.fixture(scope="session", autouse=True)
def _channel_layer_outlives_clock_jumps():
    """Tests move the clock (time_machine) by minutes or days. The in-memory channel layer
    drops a message older than its expiry (60 s) when it is next used, and with it the
    channel's group memberships (and a membership older than a day): a consumer with a message
    still queued at the jump would stop hearing its consult (the consumer tests failed so).
    Here both keep for a year."""
    from channels.layers import channel_layers
    from django.conf import settings

    layer, year = settings.CHANNEL_LAYERS["default"], 366 * 86400
    if layer["BACKEND"] == "channels.layers.InMemoryChannelLayer":
        settings.CHANNEL_LAYERS = {
            "default": layer
            | {"CONFIG": layer.get("CONFIG", {}) | {"expiry": year, "group_expiry": year}}
        }
        channel_layers.backends = {}


@pytest.fixture(autouse=True)
def _audit_checkpoint_dir(settings, tmp_path_factory, _audit_keys):
    # Each test's external checkpoints in a folder of its own (created only if it seals).
    settings.AUDIT_CHECKPOINT_DIR = _audit_keys / "checkpoints" / uuid.uuid4().hex


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker, _audit_keys, request):
    """The test database, migrated, with the catalog, fees, policy and personas written once."""
    from django.db import connection, connections

    from opiniondesk.testing.flush import cheap_flush, may_skip_triggers
    from opiniondesk.testing.memory_db import Watch, is_memory_database, kept_alive
    from opiniondesk.testing.seed import seed

    with django_db_blocker.unblock():
        if connection.vendor == "postgresql":
            # The audit tables' guards let the flush of transactional tests through (only here).
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT set_config('opiniondesk.audit_flush', 'on', false), current_database()"
                )
                name = cursor.fetchone()[1]
                cursor.execute(f"ALTER DATABASE \"{name}\" SET opiniondesk.audit_flush = 'on'")
            # With DATABASE_POOL the pool's connections opened before that: new ones read it.
            if connection.settings_dict.get("OPTIONS", {}).get("pool"):
                connection.close_pool()
        seed()
        deletes = may_skip_triggers(connection)
        watch = Watch(connections, "default") if is_memory_database(connection) else None
    with cheap_flush(connection, deletes=deletes), kept_alive(connection):
        request.config.stash[MEMORY_DB_WATCH] = watch
        yield
        request.config.stash[MEMORY_DB_WATCH] = None
    if connection.vendor == "postgresql":
        # The live server's threads keep their connections open, and PostgreSQL refuses to
        # drop a database in use: end them before pytest-django drops this run's database.
        with django_db_blocker.unblock(), connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )


MEMORY_DB_WATCH = pytest.StashKey()


TRANSACTIONAL_FIXTURES = {"transactional_db", "live_server", "django_db_reset_sequences"}


def empties_the_database(item: pytest.Item) -> bool:
    """A transactional test commits, and its teardown flushes every table."""
    marker = item.get_closest_marker("django_db")
    return bool(TRANSACTIONAL_FIXTURES & set(getattr(item, "fixturenames", ()))) or bool(
        marker and marker.kwargs.get("transaction")
    )


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """After a transactional test's flush, the seed is written again, committed, once: else
    every later test on this worker would write it again inside its own rolled-back
    transaction (a fifth of a second each, thousands of times)."""
    from pytest_django.plugin import blocking_manager_key

    yield
    watch = item.config.stash.get(MEMORY_DB_WATCH, None)
    if watch is not None and watch.replaced():
        # The database itself is kept (opiniondesk/testing/memory_db.py); say who did it.
        description = watch.describe()
        with item.config.stash[blocking_manager_key].unblock():
            put_back = watch.recover()
        warnings.warn(
            f"{item.nodeid} made Django reopen the test database: {description}"
            + ("\nIt found no tables: the session's connection was put back." if put_back else ""),
            stacklevel=1,
        )
    # After the session's last test its database is gone (dropped in the `yield` above): the
    # seed would go to the database DATABASE_URL names.
    if nextitem is None or not empties_the_database(item):
        return
    from opiniondesk.testing.seed import ensure_seeded

    with item.config.stash[blocking_manager_key].unblock():
        ensure_seeded()


DATABASE_FIXTURES = {
    "db",
    "transactional_db",
    "django_db_reset_sequences",
    "django_db_serialized_rollback",
}


def uses_database(item: pytest.Item) -> bool:
    return item.get_closest_marker("django_db") is not None or bool(
        DATABASE_FIXTURES & set(getattr(item, "fixturenames", ()))
    )


def pytest_collection_modifyitems(config, items):
    """TESTS_NEEDING_A_DATABASE_ONLY=true (the PostgreSQL half of `make test`): the tests that
    touch no database (pure rules, parsers, templates of text) ran in the SQLite half already and
    would test nothing new on PostgreSQL; they are deselected."""
    if os.environ.get("TESTS_NEEDING_A_DATABASE_ONLY") != "true":
        return
    keep = [item for item in items if uses_database(item)]
    config.hook.pytest_deselected(items=[item for item in items if not uses_database(item)])
    items[:] = keep


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    _skip_sqlite_only(item)
    _postgresql_only(item)


def _skip_sqlite_only(item):
    """A `sqlite` test (an SQLite installation's own file) has a PostgreSQL twin; the PostgreSQL
    half deselects it (Makefile), a run by hand on PostgreSQL skips it."""
    if item.get_closest_marker("sqlite") is None:
        return
    from django.db import connections

    if connections["default"].vendor != "sqlite":
        pytest.skip("this test backs up an SQLite installation; its PostgreSQL twin runs here")


def _postgresql_only(item):
    """A `postgresql` test is skipped on another database, and fails there under CI=true (as a
    missing Chromium or Redis does): CI deselects it on SQLite with -m "not postgresql"."""
    if item.get_closest_marker("postgresql") is None:
        return
    from django.db import connections

    if connections["default"].vendor == "postgresql":
        return
    why = "this test needs PostgreSQL (DATABASE_URL=postgres://…)"
    if os.environ.get("CI") == "true":
        pytest.fail(f'CI=true but {why}; elsewhere deselect it: -m "not postgresql"', pytrace=False)
    pytest.skip(f"{why}: skipped on {connections['default'].vendor}")


@pytest.fixture(scope="session")
def _no_collected_static(tmp_path_factory):
    return tmp_path_factory.mktemp("static")


@pytest.fixture(scope="session")
def _media_folders(tmp_path_factory):
    return tmp_path_factory.mktemp("media")


@pytest.fixture(autouse=True)
def _test_storages(settings, _media_folders, _no_collected_static):
    # The manifest storage needs collectstatic; tests serve static files as they are.
    # Uploaded documents go to a fresh folder per test, never into var/media. Not a numbered
    # tmp_path_factory folder each: finding the next number lists every folder made before
    # (7 ms a test after 3,500 tests).
    media = _media_folders / uuid.uuid4().hex
    media.mkdir()
    settings.STORAGES = {
        "default": {  # what ships: each file synced to the disk when saved
            "BACKEND": "opiniondesk.core.storage.DurableFileSystemStorage",
            "OPTIONS": {"location": media, "base_url": None},
        },
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    # Uploads are spooled on the media's filesystem, as in production (config/settings.py).
    (media / ".upload-tmp").mkdir()
    settings.FILE_UPLOAD_TEMP_DIR = str(media / ".upload-tmp")
    # ServeStatic indexes STATIC_ROOT for every new handler (each test client): after a
    # `make run` has collected var/static, that alone would take a third of the suite's time.
    settings.STATIC_ROOT = _no_collected_static


@pytest.fixture(autouse=True)
def _plain_http(settings):
    # The test servers speak plain HTTP; production HTTPS settings are tested in test_settings.py.
    settings.SECURE_SSL_REDIRECT = False
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    settings.SECURE_HSTS_SECONDS = 0


@pytest.fixture(scope="session")
def _plain_http_live_server():
    # The live server loads its middleware once, when its thread starts and before any test's
    # `settings` fixture applies, so plain HTTP must be allowed before it starts.
    from django.test.utils import override_settings

    with override_settings(SECURE_SSL_REDIRECT=False, SECURE_HSTS_SECONDS=0):
        yield


@pytest.fixture(scope="session")
def live_server(_plain_http_live_server, live_server):
    """pytest-django's live server, started without the production HTTPS redirect."""
    return live_server


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Production hashing is deliberately slow; tests do not test its cost.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
def browser():
    """Headless Debian Chromium through Playwright; skipped (failed under CI=true) without it.
    A Content-Security-Policy violation on any of its pages fails the test."""
    from playwright.sync_api import sync_playwright

    from opiniondesk.testing.browser import chromium_or_skip, csp_watched

    executable = chromium_or_skip()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        with csp_watched(browser) as watched:  # fails the test on a CSP violation
            yield watched
        browser.close()


@pytest.fixture(autouse=True)
def _async_unsafe_for_browser_tests(request, monkeypatch):
    # Playwright's sync API runs an event loop in the test's thread, so Django would refuse the
    # test's own ORM calls. Only browser tests get the escape hatch: elsewhere a blocking call
    # in async code (a consumer's connect) must still raise SynchronousOnlyOperation.
    # Keyed on the fixture name too, as a test module may override `browser`.
    browsers = {"browser", "media_browser"} & set(request.fixturenames)
    if browsers or request.node.get_closest_marker("browser"):
        monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


class _Inbox:
    """What a real SMTP server on loopback received (aiosmtpd)."""

    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):
        import email
        from email import policy

        message = email.message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append(message)
        return "250 Message accepted for delivery"

    def bodies(self) -> list[str]:
        return [m.get_body(preferencelist=("plain",)).get_content() for m in self.messages]


@pytest.fixture
def smtp_inbox(settings):
    """A real SMTP server on 127.0.0.1; the app's default mailer sends to it."""
    import socket

    from aiosmtpd.controller import Controller

    with socket.socket() as probe:  # a free port on loopback
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = _Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": controller.port, "timeout": 10},
        }
    }
    yield inbox
    controller.stop()


@pytest.fixture
def run_tasks(monkeypatch):
    """Run the database task queue once, as `manage.py db_worker --batch` does."""
    from django.core.management import call_command
    from django_tasks_db.management.commands import db_worker

    # The worker drops "old" connections between tasks; inside a test's transaction that would
    # close the very connection holding the test's data (PostgreSQL).
    monkeypatch.setattr(db_worker, "close_old_connections", lambda: None)

    def run() -> None:
        call_command("db_worker", batch=True, queue_name="*", verbosity=0, startup_delay=False)

    return run
