"""One environment never syncs twice at once: a lock in the shared cache that expires.

The holder's pulse (sync/pulse.py) refreshes the expiry every few seconds, so a live sync
keeps its lock however long it runs, and a killed one's lock dies with its run: the lock lives
exactly as long as a run may go without a heartbeat (`SYNC_STALE_HEARTBEAT_SECONDS`), so when
the run is seen dead its lock is gone too and nothing waits on a lock of a dead run.
"""
from __future__ import annotations

import logging
import math
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.conf import settings
from django.core.cache import cache

from sync.cache_errors import CACHE_ERRORS

logger = logging.getLogger("sync.locks")


def lock_ttl() -> int:
    """Seconds a lock outlives its holder's last refresh: the stale-heartbeat threshold."""
    return max(1, math.ceil(float(getattr(settings, "SYNC_STALE_HEARTBEAT_SECONDS", 45))))


class EnvironmentLock:
    """A held lock on one environment's sync."""

    def __init__(self, environment_id: int) -> None:
        self.key = f"sync:lock:env:{environment_id}"
        self.owner = uuid.uuid4().hex

    def acquire(self) -> bool:
        return bool(cache.add(self.key, self.owner, timeout=lock_ttl()))

    def refresh(self) -> None:
        """Extend the expiry; re-take the lock if it expired and nobody else took it."""
        if not cache.touch(self.key, timeout=lock_ttl()):
            cache.add(self.key, self.owner, timeout=lock_ttl())

    def take_over(self) -> None:
        """Hold the lock whoever held it (its holder is known dead: sync/dead_runs.py)."""
        cache.set(self.key, self.owner, timeout=lock_ttl())

    def release(self) -> None:
        # Only our own lock: if ours expired and another run holds it now, leave it alone.
        try:
            if cache.get(self.key) == self.owner:
                cache.delete(self.key)
        except CACHE_ERRORS as exc:
            # The cache is gone: so is the lock, or it expires within its TTL.
            logger.warning("sync lock %s not released: cache unavailable (%s)", self.key,
                           type(exc).__name__)


@contextmanager
def environment_lock(
        environment_id: int, take_over: Callable[[EnvironmentLock], bool] | None = None,
) -> Iterator[EnvironmentLock | None]:
    """Yield the held lock, or None when another run holds it (the caller skips).
    `take_over(lock)`, when the lock is held, may take it over and says whether it did."""
    lock = EnvironmentLock(environment_id)
    if not lock.acquire() and (take_over is None or not take_over(lock)):
        yield None
        return
    try:
        yield lock
    finally:
        lock.release()
