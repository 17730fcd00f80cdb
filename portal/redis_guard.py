"""Optional cache calls (report and page caches, sessions) that degrade, never fail a request.

Every Redis call already gives up within `REDIS_TIMEOUT_SECONDS` (settings). A frozen Redis
would still cost each request that timeout once per call, so after one failure this process
skips optional cache calls for `REDIS_RETRY_AFTER_SECONDS` and then tries again: while Redis
is sick a request waits on it at most once per interval, and each skip is logged once per
interval, not once per request. Locks and request budgets (sync/locks.py, sync/budget.py) are
not optional and do not come here: a sync that loses Redis fails (sync/cache_errors.py).

This module is the only door to the cache for optional reads and writes: `cache_get`,
`cache_set` and `cache_delete` below. No other module imports `django.core.cache` except the
few that must see a failure (locks, budgets, the readiness check) or guard it themselves
(throttles); tests/portal/test_redis_degrade.py keeps that list closed, so a new `cache.get`
elsewhere fails a test instead of answering 500 the day Redis is down. Sessions come here too
(portal/auth/sessions.py): with Redis they are read from it.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger("portal.redis_guard")
T = TypeVar("T")

_lock = threading.Lock()
_down_until = 0.0


def retry_after_seconds() -> float:
    return float(getattr(settings, "REDIS_RETRY_AFTER_SECONDS", 10))


def cache_is_skipped() -> bool:
    """Whether a recent failure says: do not wait on the cache now."""
    return time.monotonic() < _down_until


def mark_down(what: str, exc: BaseException) -> None:
    """Record a cache failure: optional calls are skipped for a while (logged once)."""
    global _down_until
    with _lock:
        first = not cache_is_skipped()
        _down_until = time.monotonic() + retry_after_seconds()
    if first:
        logger.warning("cache unavailable in %s (%s): skipping it for %.0f s", what,
                       type(exc).__name__, retry_after_seconds())


def reset() -> None:
    """Forget failures (tests; a process that knows the cache is back)."""
    global _down_until
    with _lock:
        _down_until = 0.0


def optional(what: str, call: Callable[[], T], fallback: T) -> T:
    """`call()`, or `fallback` when the cache is failing or failed recently."""
    if cache_is_skipped():
        return fallback
    try:
        return call()
    except Exception as exc:  # noqa: BLE001 - any cache failure: degrade, and say so
        mark_down(what, exc)
        return fallback


def cache_get(what: str, key: str) -> object | None:
    """The cached value of `key`, or None when absent or the cache is failing."""
    return optional(what, lambda: cache.get(key), None)


def cache_set(what: str, key: str, value: object, timeout: float) -> None:
    """Cache `value` under `key` for `timeout` seconds if the cache answers; else nothing."""
    optional(what, lambda: cache.set(key, value, timeout), None)


def cache_delete(what: str, key: str) -> None:
    """Delete `key` if the cache answers; else nothing (callers bound what a missed delete
    leaves with a short timeout: portal/auth/sessions.py)."""
    optional(what, lambda: cache.delete(key), None)


def purge_containing(fragment: str) -> int:
    """Delete every cache entry whose key holds `fragment` (e.g. ":org7:", an organisation's
    reports and pages) from Redis or the database cache; returns how many. Not optional: an
    erasure must know whether cached renderings of a number are gone, so a failure raises."""
    from django.core.cache import caches
    from django.core.cache.backends.db import DatabaseCache
    from django.db import connections, router

    backend = caches["default"]
    if isinstance(backend, DatabaseCache):
        db = router.db_for_write(backend.cache_model_class)
        table = connections[db].ops.quote_name(backend._table)
        with connections[db].cursor() as cursor:
            cursor.execute(f"DELETE FROM {table} WHERE cache_key LIKE %s", [f"%{fragment}%"])
            return cursor.rowcount
    redis = getattr(backend, "_cache", None)
    if redis is None or not hasattr(redis, "get_client"):
        return 0  # a per-process memory cache: nothing shared to purge
    client = redis.get_client(write=True)
    deleted, batch = 0, []
    for key in client.scan_iter(match=f"*{fragment}*", count=1000):
        batch.append(key)
        if len(batch) >= 500:
            deleted += client.delete(*batch)
            batch = []
    if batch:
        deleted += client.delete(*batch)
    return deleted
