"""The catalog kept in memory between requests, replaced whenever an admin edits it.

Building the eligibility catalog costs 4 queries, the largest part of an eligibility check's own
work (bench/README.md), yet the catalog changes only when someone edits it. Each process keeps
what it last built together with the catalog version it was built for. The version lives in
Django's cache (the "catalog" alias), and every save or delete of a Department, Disease,
ConsultHours or ExtraDocument replaces it once its transaction commits (bulk operations and
QuerySet.update() send no signal: call bump_catalog_version() after them).
"""

import uuid
from collections.abc import Callable
from typing import Any, cast

from django.apps import AppConfig
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache
from django.db import connection, transaction
from django.db.models.signals import post_delete, post_migrate, post_save

VERSION_KEY = "catalog:version"
# settings.CACHES["catalog"]: Redis when REDIS_URL is set, otherwise each process's own memory.
CACHE_ALIAS = "catalog"
# Redis (REDIS_URL) is shared by every server process, so a new version there reaches them all at
# once and needs no expiry. The embedded local-memory cache belongs to one process: a bump made by
# the process that served the admin's edit is not seen by the other workers. There the version
# expires after LOCAL_VERSION_TTL seconds and each process then rebuilds, so an edit shows at once
# in the process that made it and within that time in the others. A check against the database on
# every request would be exact, but would cost a connection and a query per check, a good part of
# what the cache saves (and MAX(Department.updated_at) would miss edits of diseases and deletions).
LOCAL_VERSION_TTL = 5

_built: dict[str, tuple[str, object]] = {}


def catalog_cached[T](name: str, build: Callable[[], T]) -> T:
    """`build()`'s value for the current catalog version; built again after any catalog edit.

    The value is shared between requests and threads: it must be immutable.
    """
    if connection.in_atomic_block:
        # Inside a transaction the catalog may hold edits that are not committed yet, or that a
        # rollback will undo: read it afresh, and keep nothing.
        return build()
    version = catalog_version()
    built = _built.get(name)
    if built is not None and built[0] == version:
        return cast(T, built[1])
    value = build()
    _built[name] = (version, value)
    return value


def catalog_version() -> str:
    cache = caches[CACHE_ALIAS]
    version = cache.get(VERSION_KEY)
    if version is None:
        version = uuid.uuid4().hex
        if not cache.add(VERSION_KEY, version, timeout=_version_timeout()):
            version = cache.get(VERSION_KEY) or version  # another request set it first
    return str(version)


def bump_catalog_version() -> None:
    """Make every process build the catalog again (at once, or within LOCAL_VERSION_TTL)."""
    caches[CACHE_ALIAS].set(VERSION_KEY, uuid.uuid4().hex, timeout=_version_timeout())


def _version_timeout() -> int | None:
    return LOCAL_VERSION_TTL if isinstance(caches[CACHE_ALIAS], LocMemCache) else None


def _bump_on_commit(**kwargs: Any) -> None:
    # After the commit, so that no request can rebuild from the rows as they were before it.
    transaction.on_commit(bump_catalog_version, using=kwargs.get("using"))


def connect_signals(app: AppConfig) -> None:
    """Called by the catalog's AppConfig.ready()."""
    for name in ("Department", "Disease", "ConsultHours", "ExtraDocument"):
        model = app.get_model(name)
        post_save.connect(_bump_on_commit, sender=model, dispatch_uid=f"catalog-save-{name}")
        post_delete.connect(_bump_on_commit, sender=model, dispatch_uid=f"catalog-delete-{name}")
    # migrate and flush (between transactional tests) change rows without post_save or post_delete.
    post_migrate.connect(_bump_on_commit, sender=app, dispatch_uid="catalog-migrate")
