"""Django's Redis cache with one connection pool per worker process.

Django keeps a cache object per request context (`caches` is a context-local handler), and its
RedisCache builds its client, with a new connection pool, inside that object: under ASGI every
request opened a new connection to Redis for each cache it touched (the session, the rate
limits, the catalog) and dropped it at the end. redis-py's pools are thread-safe and reset
themselves in a forked child, so the client is kept once per process, for the same servers
and the same OPTIONS.
"""

import threading
from typing import Any

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from django.utils.functional import cached_property

__all__ = ["SharedPoolRedisCache"]

_clients: dict[tuple[tuple[str, ...], int], tuple[Any, RedisCacheClient]] = {}
_lock = threading.Lock()


class SharedPoolRedisCache(RedisCache):
    @cached_property
    def _cache(self) -> RedisCacheClient:
        # The OPTIONS dict of the settings is the same object for the process's life. It is
        # kept with its client, so its id is never reused by other OPTIONS (a test's).
        key = (tuple(self._servers), id(self._options))
        with _lock:
            if key not in _clients:
                _clients[key] = (self._options, self._class(self._servers, **self._options))
            return _clients[key][1]
