"""Which failures mean the shared cache / broker (Redis) is gone, as opposed to a bug.

A sync holds its lock and spends its request budget in the cache: when Redis stops answering
mid-run, the run ends `failed` with UNAVAILABLE (and a warning in the log, no traceback), the
environment's other streams wait for the next run, and that run converges from the cursors
saved with every page.
"""
from __future__ import annotations

UNAVAILABLE = "cache or broker unavailable"

try:
    from redis.exceptions import RedisError
except ImportError:  # pragma: no cover - redis is a dependency; without it nothing matches
    CACHE_ERRORS: tuple[type[BaseException], ...] = ()
else:
    CACHE_ERRORS = (RedisError,)


def is_cache_error(exc: BaseException) -> bool:
    """Whether `exc`, or an exception it was raised from, is the cache failing."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if CACHE_ERRORS and isinstance(current, CACHE_ERRORS):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False
