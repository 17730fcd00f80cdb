"""Sessions read from Redis, written to the database: one query less on every page.

Every signed-in request read its session row before anything else (a quarter of a kept
dashboard's database time). With Redis configured, `SESSION_ENGINE` is this module: Django's
`cached_db` store (the database stays the record, so a flushed Redis logs nobody out), its
cache calls made through the Redis guard (`portal/redis_guard.py`). A frozen or dead Redis is
then a cache miss after at most one timeout per interval, never a wait on every request and
never a 500 on sign-in or sign-out; stock `cached_db` would wait on every request and raise
on sign-out.

A session is kept in the cache for at most `SESSION_CACHE_SECONDS` (5 minutes), not its whole
age: a write the guard had to skip while Redis was down (a sign-out's delete, say) leaves a
cached copy that the database no longer agrees with, and that copy lives no longer than this.
Who the user is and whether they may still sign in is read from the database on every
request either way (the user row and its password hash), so a deactivated user or a changed
password takes effect at once. Without Redis (`make demo`, tests without REDIS_URL) sessions
stay in the database alone: a database cache would only add a query.
"""
from __future__ import annotations

from django.conf import settings
from django.contrib.sessions.backends.cached_db import SessionStore as CachedDbStore

from portal import redis_guard

WHAT = "session cache"


def cache_seconds() -> int:
    return int(getattr(settings, "SESSION_CACHE_SECONDS", 300))


class GuardedCache:
    """The few cache calls `cached_db` makes, each through the guard (a failure is a miss)."""

    def get(self, key: str) -> object | None:
        return redis_guard.cache_get(WHAT, key)

    def set(self, key: str, value: object, timeout: float | None) -> None:
        ttl = cache_seconds() if timeout is None else min(timeout, cache_seconds())
        redis_guard.cache_set(WHAT, key, value, ttl)

    def delete(self, key: str) -> None:
        redis_guard.cache_delete(WHAT, key)

    def __contains__(self, key: str) -> bool:
        return self.get(key) is not None


class SessionStore(CachedDbStore):
    def __init__(self, session_key: str | None = None) -> None:
        super().__init__(session_key)
        self._cache = GuardedCache()
