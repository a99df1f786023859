"""/healthz: 200 when the database, the cache, the storage and the task queue are fine, 503 naming
the part that is not — against a real broken database setting, a cache on a closed port, a
bucket refusing the credentials and a real task row left waiting — and never an error text,
a host name, a cookie or a cacheable answer."""

import json
import os
import socket
import time
from datetime import timedelta
from unittest import mock

import pytest
from django.db import OperationalError, connection, connections
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from opiniondesk.core import health
from opiniondesk.documents.tasks import sweep_upload_spool


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(client, path="/healthz"):
    response = client.get(path)
    assert response["Content-Type"] == "application/json"
    assert "no-store" in response["Cache-Control"]
    assert not response.cookies, "a health probe must not set a cookie"
    return response, json.loads(response.content)


def _statuses(body):
    return {name: part["status"] for name, part in body["checks"].items()}


@pytest.mark.django_db
def test_healthy(client):
    response, body = _get(client)
    assert response.status_code == 200
    assert body["status"] == "ok"
    assert _statuses(body) == dict.fromkeys(("database", "cache", "storage", "tasks"), "ok")
    tasks = body["checks"]["tasks"]
    assert set(tasks) == {"status", "ms", "ready", "running", "oldest_ready_seconds"}
    assert tasks["oldest_ready_seconds"] < 60


@pytest.mark.django_db
def test_the_web_probe_checks_what_a_web_worker_needs(client):
    response, body = _get(client, "/healthz/web")
    assert response.status_code == 200
    assert set(body["checks"]) == {"database", "cache", "storage"}


@pytest.mark.django_db
def test_it_answers_a_probe_over_plain_http_from_any_address(client, settings):
    settings.SECURE_SSL_REDIRECT = True  # production: every other page redirects to HTTPS
    response, _body = _get(client)
    assert response.status_code == 200
    assert client.get("/departments/").status_code == 301


@pytest.mark.django_db
def test_only_get_and_head(client):
    assert client.post("/healthz").status_code == 405
    assert client.head("/healthz").status_code == 200


def test_database_down_is_a_503_naming_the_database(
    client, django_db_setup, django_db_blocker, caplog
):
    """PostgreSQL: the default connection pointed at a port nobody listens on. SQLite (the test
    database lives in memory and would be lost with its connection): the driver's cursor fails
    as it does when the file cannot be read. After the test database exists (django_db_setup):
    before it, Django's connection would open the app's own file (var/db.sqlite3) and keep it."""
    with django_db_blocker.unblock():
        if connection.vendor == "sqlite":
            failing = OperationalError("disk I/O error")
            with mock.patch.object(
                type(connections["default"]), "create_cursor", side_effect=failing
            ):
                response, body = _get(client)
        else:
            saved = {
                "HOST": connection.settings_dict["HOST"],
                "PORT": connection.settings_dict["PORT"],
            }
            connection.close()
            connection.settings_dict.update(HOST="127.0.0.1", PORT=str(_closed_port()))
            try:
                response, body = _get(client)
            finally:
                connection.close()
                connection.settings_dict.update(saved)
    assert response.status_code == 503
    assert body["status"] == "fail"
    statuses = _statuses(body)
    assert statuses["database"] == "fail" and statuses["tasks"] == "fail"
    assert statuses["storage"] == "ok"
    # The cache is the database's table unless Redis holds it.
    assert statuses["cache"] == ("fail" if "DatabaseCache" in _cache_backend() else "ok")
    assert "I/O" not in response.content.decode() and "127.0.0.1" not in response.content.decode()
    assert "Health check failed: database" in caplog.text  # the reason is in the log


def _cache_backend():
    from django.conf import settings

    return str(settings.CACHES["default"]["BACKEND"])


@pytest.mark.django_db
def test_a_cache_on_a_closed_port_is_a_503_naming_the_cache(client, settings):
    port = _closed_port()
    settings.CACHES = {
        **settings.CACHES,
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/0",
        },
    }
    started = time.monotonic()
    response, body = _get(client)
    assert time.monotonic() - started < 5
    assert response.status_code == 503
    assert _statuses(body) == {
        "database": "ok",
        "cache": "fail",
        "storage": "ok",
        "tasks": "ok",
    }
    text = response.content.decode()
    assert str(port) not in text and "127.0.0.1" not in text and "Error" not in text


@pytest.mark.django_db
def test_a_missing_media_directory_is_a_503_naming_the_storage(client, settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "opiniondesk.core.storage.DurableFileSystemStorage",
            "OPTIONS": {"location": tmp_path / "gone", "base_url": None},
        },
    }
    response, body = _get(client)
    assert response.status_code == 503
    assert _statuses(body)["storage"] == "fail"
    assert str(tmp_path) not in response.content.decode()


@pytest.mark.django_db
def test_the_bucket_is_checked_with_the_apps_credentials(client, settings, s3_storage):
    response, body = _get(client, "/healthz/web")
    assert response.status_code == 200, body
    options = settings.STORAGES["default"]["OPTIONS"]
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {**settings.STORAGES["default"], "OPTIONS": {**options, "secret_key": "wrong"}},
    }
    response, body = _get(client, "/healthz/web")
    assert response.status_code == 503
    assert _statuses(body)["storage"] == "fail"
    assert options["endpoint_url"].split("//")[1] not in response.content.decode()
    assert s3_storage.keys() == [], "the probe writes nothing"


def _queued_task(enqueued_ago: timedelta) -> DBTaskResult:
    sweep_upload_spool.enqueue()  # a real task of the project, as the sweep queues it
    row = DBTaskResult.objects.latest("enqueued_at")
    DBTaskResult.objects.filter(pk=row.pk).update(enqueued_at=timezone.now() - enqueued_ago)
    return row


@pytest.mark.django_db
def test_a_task_waiting_too_long_is_a_503_naming_the_tasks(client, settings):
    settings.HEALTHZ_TASK_MAX_AGE_SECONDS = 600
    _queued_task(timedelta(minutes=5))
    response, body = _get(client)
    assert response.status_code == 200
    assert 290 <= body["checks"]["tasks"]["oldest_ready_seconds"] <= 310

    _queued_task(timedelta(minutes=30))
    response, body = _get(client)
    assert response.status_code == 503
    assert _statuses(body) == {"database": "ok", "cache": "ok", "storage": "ok", "tasks": "fail"}
    assert body["checks"]["tasks"]["oldest_ready_seconds"] >= 1800
    assert body["checks"]["tasks"]["ready"] >= 2
    # A web worker is still fit to serve: the load balancer's probe says so.
    assert client.get("/healthz/web").status_code == 200


@pytest.mark.django_db
def test_a_task_deferred_to_later_is_not_a_backlog_but_its_time_come_is(settings):
    now = timezone.now()
    sweep_upload_spool.using(run_after=now + timedelta(hours=1)).enqueue()
    backlog = health.task_backlog(now)
    assert backlog["oldest_ready_seconds"] == 0
    assert health.task_backlog(now + timedelta(hours=2))["oldest_ready_seconds"] == 3600


@pytest.mark.django_db
def test_too_many_due_tasks_is_a_fail(client, settings):
    settings.HEALTHZ_TASK_MAX_READY = 2
    for _ in range(3):
        sweep_upload_spool.enqueue()
    response, body = _get(client)
    assert response.status_code == 503
    assert body["checks"]["tasks"]["ready"] >= 3


@pytest.mark.django_db
def test_running_tasks_are_counted(client):
    row = _queued_task(timedelta(seconds=1))
    DBTaskResult.objects.filter(pk=row.pk).update(status="RUNNING", started_at=timezone.now())
    _response, body = _get(client)
    assert body["checks"]["tasks"]["running"] >= 1


@pytest.mark.django_db
def test_it_is_cheap(client, django_assert_max_num_queries):
    """A probe's cost in queries; its time is not asserted here (a loaded CI machine is no
    clock): the load test (bench/load.py) sees what probes cost under load."""
    client.get("/healthz")  # warm: the connection, the URL resolver
    # SELECT 1, the task backlog, and the cache's set and get (with the database's cache table:
    # its count, read, write and savepoint; with Redis none of these).
    with django_assert_max_num_queries(8):
        assert client.get("/healthz").status_code == 200


@pytest.fixture
def redis_url():
    url = os.environ.get("REDIS_URL_FOR_TESTS", "")
    if not url:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but REDIS_URL_FOR_TESTS is not set")
        pytest.skip("REDIS_URL_FOR_TESTS is not set: the Redis cache is not exercised")
    return url


@pytest.mark.django_db
def test_healthy_with_the_cache_in_redis(client, settings, redis_url):
    settings.CACHES = {
        **settings.CACHES,
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis_url,
        },
    }
    response, body = _get(client, "/healthz/web")
    assert response.status_code == 200
    assert _statuses(body)["cache"] == "ok"
