"""Request counting that holds under concurrency: the API throttle, the invalid-bearer-token
throttle (per IP) and the password-reset throttle share one primitive, `hit`.

With Redis the count is one MULTI/EXEC of `SET key 0 EX window NX` + `INCR key`: atomic, so
16 threads racing cannot all read "99" and all pass (DRF's default throttle reads a list,
appends and writes it back, which admitted twice its rate in the wild). The window starts at
a key's first hit. Without Redis (development) the database cache's add + incr is used.

If the cache cannot be reached the throttle fails open — requests are served, not refused
— and says so in the log: a sick Redis degrades protection, it never takes the API down.
After one failure the throttle skips the cache for a while (portal/redis_guard.py), so a
frozen Redis costs a request at most one timeout.
"""
from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from rest_framework import exceptions, throttling

from portal import redis_guard

logger = logging.getLogger("portal.throttling")

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """"100/minute" → (100, 60). The unit's first letter counts, as in DRF."""
    count, _, period = rate.partition("/")
    return int(count), _UNITS[period.strip()[0].lower()]


@dataclass(frozen=True)
class Hit:
    allowed: bool
    count: int
    wait: float  # seconds until the window ends (0 when allowed)


def _key(scope: str, ident: str) -> str:
    return f"throttle:{scope}:{hashlib.sha256(ident.encode()).hexdigest()[:32]}"


def hit(scope: str, ident: str, limit: int, window: int) -> Hit:
    """Count one event for (scope, ident) in its window; allowed while count <= limit."""
    key = _key(scope, ident)
    if redis_guard.cache_is_skipped():
        logger.warning("throttle %s unavailable (cache skipped): allowing the request", scope)
        return Hit(True, 0, 0)
    try:
        backend = caches["default"]
        if isinstance(backend, RedisCache):
            count, ttl = _redis_hit(backend, key, window)
        else:
            backend.add(key, 0, timeout=window)
            count, ttl = backend.incr(key), window
    except Exception as exc:  # noqa: BLE001 - any cache failure: serve, and say so
        logger.warning("throttle %s unavailable (%s): allowing the request", scope,
                       type(exc).__name__)
        redis_guard.mark_down(f"throttle {scope}", exc)
        return Hit(True, 0, 0)
    allowed = count <= limit
    return Hit(allowed, count, 0 if allowed else max(ttl, 1))


def _redis_hit(backend: RedisCache, key: str, window: int,
               read: str | None = None) -> tuple:
    """The hit's count and window left; with `read`, that cache key's raw value too (as a
    third item), in the same MULTI/EXEC: one round trip."""
    full_key = backend.make_and_validate_key(key)
    client = backend._cache.get_client(full_key, write=True)
    with client.pipeline(transaction=True) as pipe:
        pipe.set(full_key, 0, ex=window, nx=True)
        pipe.incr(full_key)
        pipe.ttl(full_key)
        if read is not None:
            pipe.get(backend.make_and_validate_key(read))
        _, count, ttl, *value = pipe.execute()
    return int(count), int(ttl), *value


def hit_and_read(scope: str, ident: str, limit: int, window: int,
                 read: str) -> tuple[Hit, object | None]:
    """`hit(...)` and the cached value of `read` (None when absent or the cache is failing):
    with Redis, one round trip for both; the same fail-open rules as `hit`."""
    backend = caches["default"]
    if not isinstance(backend, RedisCache) or redis_guard.cache_is_skipped():
        return hit(scope, ident, limit, window), redis_guard.cache_get("report cache", read)
    try:
        count, ttl, raw = _redis_hit(backend, _key(scope, ident), window, read)
        value = None if raw is None else backend._cache._serializer.loads(raw)
    except Exception as exc:  # noqa: BLE001 - any cache failure: serve, and say so
        logger.warning("throttle %s unavailable (%s): allowing the request", scope,
                       type(exc).__name__)
        redis_guard.mark_down(f"throttle {scope}", exc)
        return Hit(True, 0, 0), None
    allowed = count <= limit
    return Hit(allowed, count, 0 if allowed else max(ttl, 1)), value


@dataclass
class DeferredHit:
    """The API throttle's hit of a request whose view reads the cache first thing (a cached
    JSON report): counted in the same Redis round trip as that read (`read`), or on its own
    when the response is finalised without one (`settle`). The view computes nothing costly
    before the read, and nothing at all once the hit says no."""

    ident: str
    limit: int
    window: int
    result: Hit | None = None

    def read(self, key: str) -> object | None:
        """The cached value of `key`; raises Throttled (429) when over the limit."""
        if self.result is not None:
            return redis_guard.cache_get("report cache", key)
        self.result, value = hit_and_read("api", self.ident, self.limit, self.window, key)
        self._raise_if_over()
        return value

    def settle(self) -> None:
        """Count the hit if no read did; raises Throttled when over the limit."""
        if self.result is None:
            self.result = hit("api", self.ident, self.limit, self.window)
            self._raise_if_over()

    def _raise_if_over(self) -> None:
        if not self.result.allowed:
            logger.info("API throttle: %s over %s", self.ident, settings.API_THROTTLE_RATE)
            raise exceptions.Throttled(wait=self.result.wait)


def settle_before_error(request, exc: Exception) -> Exception:
    """For a view's `handle_exception`: a request whose deferred hit no read counted (it
    failed first: an invalid parameter, an unknown object) is counted now; the error to
    answer is Throttled (429) when that count is over the limit, else `exc`."""
    deferred = getattr(request, "deferred_throttle", None)
    if deferred is not None:
        try:
            deferred.settle()
        except exceptions.Throttled as throttled:
            return throttled
    return exc


def client_ip(request) -> str:
    """The peer address (REMOTE_ADDR: a client cannot forge it, unlike X-Forwarded-For);
    0.0.0.0 for requests made in process without one (force_login in tests)."""
    return request.META.get("REMOTE_ADDR", "") or "0.0.0.0"


class AtomicUserRateThrottle(throttling.BaseThrottle):
    """The API's per-user (or per-IP for anonymous) limit, `API_THROTTLE_RATE`."""

    def __init__(self) -> None:
        self.limit, self.window = parse_rate(settings.API_THROTTLE_RATE)
        self._wait = 0.0

    def allow_request(self, request, view) -> bool:
        user = getattr(request, "user", None)
        ident = f"user:{user.pk}" if user is not None and user.is_authenticated else \
            f"ip:{client_ip(request)}"
        defers = getattr(view, "throttle_with_cache_read", None)
        if defers is not None and defers(request):
            request.deferred_throttle = DeferredHit(ident, self.limit, self.window)
            return True
        result = hit("api", ident, self.limit, self.window)
        if not result.allowed:
            self._wait = result.wait
            logger.info("API throttle: %s over %s", ident, settings.API_THROTTLE_RATE)
        return result.allowed

    def wait(self) -> float | None:
        return self._wait or None
