"""The settings read from the environment, and the Redis-backed engines really work."""

import asyncio
import contextlib
import importlib
import os
import shutil
import socket
import subprocess
import time
import uuid

import pytest
from django.core.exceptions import ImproperlyConfigured

REDIS_URL = os.environ.get("REDIS_URL_FOR_TESTS", "")


def _load_settings(monkeypatch, **env):
    for key in (
        "DATABASE_URL",
        "REDIS_URL",
        "STORAGE_BUCKET",
        "EMAIL_HOST",
        "SECRET_KEY",
        "DEBUG",
        "DEMO_MODE",
        "TASK_BACKEND",
        "WEBRTC_ICE_SERVERS",
        "WEBRTC_STUN_URLS",
        "WEBRTC_TURN_URLS",
        "WEBRTC_TURN_SECRET",
        "WEBRTC_TURN_TTL_SECONDS",
        "TRUSTED_PROXY",
        "PUBLIC_API_RATE",
        "DATABASE_POOL",
        "DATABASE_POOL_MAX",
        "DATABASE_CONNECT_TIMEOUT",
        "REDIS_CONNECT_TIMEOUT",
        "REDIS_TIMEOUT",
        "STORAGE_CONNECT_TIMEOUT",
        "STORAGE_READ_TIMEOUT",
    ):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    spec = importlib.util.find_spec("config.settings")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_it_refuses_to_start_without_a_secret_key_in_production(monkeypatch):
    with pytest.raises(ImproperlyConfigured, match="SECRET_KEY"):
        _load_settings(monkeypatch)


def test_it_defaults_to_the_embedded_setup(monkeypatch):
    s = _load_settings(monkeypatch, DEMO_MODE="true")
    assert s.DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3"
    # The rate limits' counts: shared by every worker process, in the database.
    assert s.CACHES["default"]["BACKEND"] == "django.core.cache.backends.db.DatabaseCache"
    assert s.CACHES["default"]["LOCATION"] == "opiniondesk_cache"  # core.CacheEntry's table
    assert s.CACHES["catalog"]["BACKEND"].endswith("LocMemCache")
    assert s.CHANNEL_LAYERS["default"]["BACKEND"] == "channels.layers.InMemoryChannelLayer"
    assert s.TASKS["default"]["BACKEND"] == "django_tasks_db.DatabaseBackend"
    assert s.STORAGES["default"]["BACKEND"] == "opiniondesk.core.storage.DurableFileSystemStorage"
    assert s.MAILERS["default"]["BACKEND"].endswith("console.EmailBackend")
    assert s.SESSION_COOKIE_SECURE is False


def test_it_scales_out_with_environment_variables(monkeypatch):
    s = _load_settings(
        monkeypatch,
        SECRET_KEY="k",
        DATABASE_URL="postgres://od:pw@db.internal:5432/opiniondesk",
        REDIS_URL="redis://cache.internal:6379/0",
        STORAGE_BUCKET="records",
        STORAGE_ENDPOINT_URL="http://s3.internal:8333",
        EMAIL_HOST="smtp.internal",
        HOSPITAL_INVOICE_NUMBER="T1234567890123",
    )
    assert s.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
    assert s.DATABASES["default"]["HOST"] == "db.internal"
    assert s.CACHES["default"]["LOCATION"] == "redis://cache.internal:6379/0"
    assert s.CACHES["catalog"]["LOCATION"] == "redis://cache.internal:6379/0"
    assert s.CHANNEL_LAYERS["default"]["BACKEND"] == "channels_redis.core.RedisChannelLayer"
    assert s.STORAGES["default"]["OPTIONS"]["bucket_name"] == "records"
    assert s.STORAGES["default"]["OPTIONS"]["default_acl"] == "private"
    assert s.MAILERS["default"]["BACKEND"].endswith("smtp.EmailBackend")
    assert s.MAILERS["default"]["OPTIONS"]["host"] == "smtp.internal"
    assert s.HOSPITAL["invoice_number"] == "T1234567890123"
    # Production: HTTPS only.
    assert s.SESSION_COOKIE_SECURE and s.CSRF_COOKIE_SECURE and s.SECURE_HSTS_SECONDS > 0
    assert "pool" not in s.DATABASES["default"].get("OPTIONS", {})  # only when asked for


def test_it_pools_postgresql_connections_when_asked(monkeypatch):
    s = _load_settings(
        monkeypatch,
        SECRET_KEY="k",
        DATABASE_URL="postgres://od:pw@db.internal:5432/opiniondesk",
        DATABASE_POOL="true",
        DATABASE_POOL_MAX="12",
    )
    assert s.DATABASES["default"]["OPTIONS"]["pool"] == {
        "min_size": 2,
        "max_size": 12,
        "timeout": 10,
    }
    assert s.DATABASES["default"]["CONN_MAX_AGE"] == 0
    # SQLite has nothing to pool: the option is ignored there.
    embedded = _load_settings(monkeypatch, DEMO_MODE="true", DATABASE_POOL="true")
    assert "pool" not in embedded.DATABASES["default"].get("OPTIONS", {})


def test_nothing_waits_forever_for_a_service_that_does_not_answer(monkeypatch):
    """Bounded waits on every remote service (defaults: libpq and redis-py wait forever for a
    silent host, botocore 60 s a try), so a request and /healthz fail in seconds instead."""
    from opiniondesk.core.storage import PrivateS3Storage

    scaled = {
        "SECRET_KEY": "k",
        "DATABASE_URL": "postgres://od:pw@db.internal:5432/opiniondesk",
        "REDIS_URL": "redis://cache.internal:6379/0",
        "STORAGE_BUCKET": "records",
        "STORAGE_ENDPOINT_URL": "http://s3.internal:8333",
    }
    s = _load_settings(monkeypatch, **scaled)
    assert s.DATABASES["default"]["OPTIONS"]["connect_timeout"] == 5
    cache = s.CACHES["default"]["OPTIONS"]
    assert (cache["socket_connect_timeout"], cache["socket_timeout"]) == (2, 5)
    (host,) = s.CHANNEL_LAYERS["default"]["CONFIG"]["hosts"]
    # The layer's reads block on purpose (BZPOPMIN for up to 5 s): only its connect is bounded.
    assert host["socket_connect_timeout"] == 2 and "socket_timeout" not in host
    storage = PrivateS3Storage(**s.STORAGES["default"]["OPTIONS"])
    config = storage.connection.meta.client.meta.config
    assert (config.connect_timeout, config.read_timeout) == (5, 30)
    assert config.max_pool_connections == 50

    tuned = _load_settings(
        monkeypatch,
        **scaled,
        DATABASE_CONNECT_TIMEOUT="3",
        REDIS_CONNECT_TIMEOUT="1",
        REDIS_TIMEOUT="2",
        STORAGE_CONNECT_TIMEOUT="4",
        STORAGE_READ_TIMEOUT="60",
        STORAGE_MAX_CONNECTIONS="80",
    )
    assert tuned.DATABASES["default"]["OPTIONS"]["connect_timeout"] == 3
    assert tuned.CACHES["default"]["OPTIONS"]["socket_timeout"] == 2
    config = PrivateS3Storage(**tuned.STORAGES["default"]["OPTIONS"]).connection.meta.client
    assert (config.meta.config.connect_timeout, config.meta.config.read_timeout) == (4, 60)
    assert config.meta.config.max_pool_connections == 80
    with pytest.raises(ImproperlyConfigured, match="REDIS_TIMEOUT"):
        _load_settings(monkeypatch, **scaled, REDIS_TIMEOUT="5s")


@pytest.mark.parametrize(
    "name,value",
    [
        ("DEBUG", "maybe"),
        ("DATABASE_CONN_MAX_AGE", "x"),
        ("DATABASE_POOL", "sometimes"),
        ("TASK_BACKEND", "celery"),
        ("PUBLIC_API_RATE", "60 per minute"),
        ("TRUSTED_PROXY", "nginx"),
    ],
)
def test_it_refuses_bad_values_with_a_clear_message(monkeypatch, name, value):
    with pytest.raises(ImproperlyConfigured, match=name):
        _load_settings(monkeypatch, SECRET_KEY="k", **{name: value})


def test_it_believes_x_forwarded_proto_only_behind_a_trusted_proxy(monkeypatch):
    assert not hasattr(_load_settings(monkeypatch, SECRET_KEY="k"), "SECURE_PROXY_SSL_HEADER")
    s = _load_settings(monkeypatch, SECRET_KEY="k", TRUSTED_PROXY="true")
    assert s.SECURE_PROXY_SSL_HEADER == ("HTTP_X_FORWARDED_PROTO", "https")


def test_it_reads_the_ice_servers(monkeypatch):
    s = _load_settings(
        monkeypatch,
        SECRET_KEY="k",
        WEBRTC_STUN_URLS="stun:stun.hospital.example.jp:3478",
        WEBRTC_TURN_URLS="turn:turn.hospital.example.jp:3478?transport=udp,"
        "turns:turn.hospital.example.jp:443?transport=tcp",
        WEBRTC_TURN_SECRET="s" * 32,
        WEBRTC_TURN_TTL_SECONDS="1800",
    )
    assert s.WEBRTC_STUN_URLS == ["stun:stun.hospital.example.jp:3478"]
    assert s.WEBRTC_TURN_URLS == [
        "turn:turn.hospital.example.jp:3478?transport=udp",
        "turns:turn.hospital.example.jp:443?transport=tcp",
    ]
    assert (s.WEBRTC_TURN_SECRET, s.WEBRTC_TURN_TTL_SECONDS) == ("s" * 32, 1800)
    assert _load_settings(monkeypatch, SECRET_KEY="k").WEBRTC_TURN_URLS == []


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"WEBRTC_TURN_URLS": "turn:turn.example.jp"}, "WEBRTC_TURN_SECRET must be set"),
        ({"WEBRTC_ICE_SERVERS": '[{"urls": "turn:t.example.jp"}]'}, "no longer read"),
        ({"WEBRTC_TURN_TTL_SECONDS": "0"}, "WEBRTC_TURN_TTL_SECONDS must be between"),
    ],
)
def test_it_refuses_to_start_with_bad_ice_settings(monkeypatch, env, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        _load_settings(monkeypatch, SECRET_KEY="k", **env)


@pytest.fixture
def redis_url():
    if not REDIS_URL:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but REDIS_URL_FOR_TESTS is not set")
        pytest.skip("REDIS_URL_FOR_TESTS is not set: the Redis engines are not exercised")
    return REDIS_URL


def test_it_caches_in_redis(redis_url):
    from django.core.cache.backends.redis import RedisCache

    cache = RedisCache(redis_url, {})
    key = f"opiniondesk-test-{uuid.uuid4().hex}"  # runs side by side share the server
    cache.set(key, {"yen": 44000}, timeout=30)
    assert cache.get(key) == {"yen": 44000}
    cache.delete(key)


def test_requests_in_threads_of_their_own_share_one_redis_connection(monkeypatch, redis_url):
    """Django makes a cache object per request context; under ASGI each request has a thread
    of its own. With the settings' backend they all use one pool: twenty requests one after
    the other hold one connection to Redis, not twenty."""
    import threading

    from django.utils.module_loading import import_string
    from redis import Redis

    s = _load_settings(monkeypatch, SECRET_KEY="k", REDIS_URL=redis_url)
    backend = import_string(s.CACHES["default"]["BACKEND"])
    name = f"opiniondesk-test-{uuid.uuid4().hex[:12]}"  # runs side by side share the server
    options = s.CACHES["default"]["OPTIONS"] | {"client_name": name}
    kept = []  # as the handler keeps each context's cache object while its request runs

    def request(n: int) -> None:
        cache = backend(redis_url, {"OPTIONS": options})
        cache.set(f"{name}-{n}", n, timeout=30)
        assert cache.get(f"{name}-{n}") == n
        cache.delete(f"{name}-{n}")
        kept.append(cache)

    for n in range(20):
        thread = threading.Thread(target=request, args=(n,))
        thread.start()
        thread.join()
    assert len(kept) == 20
    with Redis.from_url(redis_url) as admin:
        ours = [c for c in admin.client_list() if c.get("name") == name]
    assert len(ours) == 1


def test_it_relays_channel_messages_through_redis(redis_url):
    from asgiref.sync import async_to_sync
    from channels_redis.core import RedisChannelLayer

    async def round_trip():
        # Its own prefix: flush() removes only this run's keys.
        layer = RedisChannelLayer(hosts=[redis_url], prefix=f"test-{uuid.uuid4().hex}")
        channel = await layer.new_channel()
        await layer.send(channel, {"type": "room.ping", "n": 1})
        received = await layer.receive(channel)
        await layer.flush()
        return received

    assert async_to_sync(round_trip)() == {"type": "room.ping", "n": 1}


@pytest.fixture
def own_redis():
    """A Redis server of this test's own on a free port, that the test may kill and restart."""
    server = shutil.which("redis-server")
    if not server:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but redis-server is not installed")
        pytest.skip("redis-server is not installed")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [
        server,
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
    ]

    def start():
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as probe, contextlib.suppress(OSError):
                probe.connect(("127.0.0.1", port))
                return process
            time.sleep(0.05)
        process.kill()
        pytest.fail("redis-server did not start")

    running = {"process": start()}

    def restart():
        running["process"].kill()  # SIGKILL: as a crash, nothing saved
        running["process"].wait()
        running["process"] = start()

    yield f"redis://127.0.0.1:{port}/0", restart
    running["process"].kill()
    running["process"].wait()


def test_the_channel_layer_and_the_cache_outlive_a_redis_restart(monkeypatch, own_redis):
    """A video room's connection waits on the channel layer (a blocking read on a pooled
    connection) while Redis crashes and comes back: the read reconnects and the next message
    arrives, as does the cache's next command, instead of an error for each broken connection."""
    from channels_redis.core import RedisChannelLayer
    from django.utils.module_loading import import_string

    url, restart = own_redis
    s = _load_settings(monkeypatch, SECRET_KEY="k", REDIS_URL=url)
    cache_settings = s.CACHES["default"]
    cache = import_string(cache_settings["BACKEND"])(url, {"OPTIONS": cache_settings["OPTIONS"]})
    cache.set("k", 1)

    async def scenario():
        layer = RedisChannelLayer(**s.CHANNEL_LAYERS["default"]["CONFIG"])
        channel = await layer.new_channel()
        await layer.send(channel, {"type": "room.state", "n": 1})
        assert (await layer.receive(channel))["n"] == 1
        waiting = asyncio.ensure_future(layer.receive(channel))
        await asyncio.sleep(0.3)  # blocked in Redis
        await asyncio.to_thread(restart)
        await layer.send(channel, {"type": "room.state", "n": 2})
        return await asyncio.wait_for(waiting, timeout=20)

    assert asyncio.run(scenario())["n"] == 2
    assert cache.get("k") is None  # gone with the crash (Redis is a cache here), no error
    cache.set("k", 2)
    assert cache.get("k") == 2
