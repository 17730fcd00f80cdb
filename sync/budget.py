"""A per-token request budget shared by every process through the cache.

Each request takes a numbered ticket with `cache.add` (atomic on Redis and on the database
cache), in time buckets of a twelfth of the window. A ticket is granted only if the tickets
of the current bucket and of the MARGIN + 12 before it stay within the limit: any window of
`window` seconds lies inside 13 consecutive buckets, so no such window holds more than
`limit` tickets however many workers share the token, and the extra bucket absorbs the delay
between taking a ticket and the request reaching the upstream (which counts arrivals).
The steady rate is therefore limit × 12/14 per window (about 77 of 90 a minute).
"""
from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Callable

from django.core.cache import cache

BUCKETS_PER_WINDOW = 12
MARGIN_BUCKETS = 1


def token_key(token: str) -> str:
    """A stable, non-reversible name for a token (cache keys must never contain secrets)."""
    return hashlib.sha256(token.encode()).hexdigest()[:24]


class RequestBudget:
    """At most `limit` requests per `window` seconds for one token, across processes."""

    def __init__(self, token: str, limit: int, window: float = 60.0, *,
                 clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        if limit < 1:
            raise ValueError("the request budget must allow at least one request")
        self.prefix = f"sync:budget:{token_key(token)}"
        self.limit = limit
        self.bucket_seconds = window / BUCKETS_PER_WINDOW
        self.clock, self.sleep = clock, sleep
        self._closed: dict[int, int] = {}
        self.waited = 0.0

    def _slot(self, bucket: int, n: int) -> str:
        return f"{self.prefix}:{bucket}:{n}"

    def _ttl(self) -> int:
        return int(self.bucket_seconds * (BUCKETS_PER_WINDOW + MARGIN_BUCKETS + 2)) + 5

    def _issued(self, bucket: int) -> int:
        """Tickets issued in a bucket: slots are taken contiguously from 0."""
        if bucket in self._closed:
            return self._closed[bucket]
        n = cache.get(f"{self.prefix}:{bucket}:n") or 0
        while True:
            keys = [self._slot(bucket, i) for i in range(n, n + 8)]
            found = cache.get_many(keys)
            for i, key in zip(range(n, n + 8), keys, strict=True):
                if key not in found:
                    return i
            n += 8

    def _take(self, bucket: int, room: int) -> bool:
        n = cache.get(f"{self.prefix}:{bucket}:n") or 0
        while n < room:
            if cache.add(self._slot(bucket, n), 1, timeout=self._ttl()):
                cache.set(f"{self.prefix}:{bucket}:n", n + 1, timeout=self._ttl())
                return True
            n += 1
        return False

    def acquire(self, on_wait: Callable[[float], None] | None = None) -> float:
        """Block until a request may be sent; returns the seconds waited."""
        waited = 0.0
        while True:
            now = self.clock()
            bucket = int(now // self.bucket_seconds)
            span = BUCKETS_PER_WINDOW + MARGIN_BUCKETS
            for old in [b for b in self._closed if b < bucket - span]:
                del self._closed[old]
            previous = 0
            for b in range(bucket - span, bucket):
                count = self._issued(b)
                # The bucket just ended may still get a ticket from a worker that read the
                # clock before it ended: count it again next time, only older ones are closed.
                if b < bucket - 1:
                    self._closed[b] = count
                previous += count
            if self._take(bucket, self.limit - previous):
                self.waited += waited
                return waited
            # Jitter spreads workers that wake together over the next bucket.
            pause = (bucket + 1) * self.bucket_seconds - now + random.uniform(0, 0.05)
            if on_wait is not None:
                on_wait(pause)
            self.sleep(pause)
            waited += pause
