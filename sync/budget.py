"""A per-token request budget shared by every process through the cache.

Each request takes a numbered ticket with `cache.add` (atomic on Redis and on the database
cache), in time buckets of a twelfth of the window. A ticket is granted only if the tickets
of the current bucket and of the MARGIN + 12 before it stay within the limit: any window of
`window` seconds lies inside 13 consecutive buckets, so no such window holds more than
`limit` tickets however many workers share the token, and the extra bucket absorbs the delay
between taking a ticket and the request reaching the upstream (which counts arrivals).
The steady rate is therefore limit × 12/14 per window (about 77 of 90 a minute).

On Redis the ticket is one atomic script (`_TAKE`): a counter per bucket, read for the 13
buckets before and taken if there is room, in one round trip — several tickets at once when
requests follow each other fast and the window has four times that room, so a back-fill
with a large budget does not pay a round trip per page; the numbered-slot protocol above,
five round trips a request, serves the other caches (the database cache of the demo).
"""
from __future__ import annotations

import hashlib
import random
import threading
import time
from collections.abc import Callable
from typing import Any

from django.core.cache import cache

BUCKETS_PER_WINDOW = 12
MARGIN_BUCKETS = 1


def token_key(token: str) -> str:
    """A stable, non-reversible name for a token (cache keys must never contain secrets)."""
    return hashlib.sha256(token.encode()).hexdigest()[:24]


# KEYS: the current bucket's counter, then the counters of the buckets before it; ARGV: the
# limit, the counter's time to live, the tickets wanted. Takes them when the window has room
# for four times as many (else one); returns how many it took (0: no room).
_TAKE = """
local counts = redis.call('MGET', unpack(KEYS))
local used = 0
for i = 1, #counts do used = used + (tonumber(counts[i]) or 0) end
local room = tonumber(ARGV[1]) - used
if room <= 0 then return 0 end
local n = 1
if room >= 4 * tonumber(ARGV[3]) then n = tonumber(ARGV[3]) end
redis.call('INCRBY', KEYS[1], n)
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[2]))
return n
"""
# Tickets taken at once at most, when requests follow each other within a bucket.
MAX_TICKETS = 16


def _redis_script() -> Any | None:
    """The ticket script on a connection of its own to the cache's Redis (one round trip a
    take, no pool checkout), None when the cache is something else."""
    from django.core.cache import caches
    from django.core.cache.backends.redis import RedisCache

    backend = caches["default"]
    if not isinstance(backend, RedisCache):
        return None
    pool = backend._cache.get_client(write=True).connection_pool
    client = type(backend._cache.get_client(write=True))(connection_pool=pool,
                                                        single_connection_client=True)
    return client.register_script(_TAKE)


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
        self._script = _redis_script()
        self._spare_lock = threading.Lock()
        self._spare = (-1, 0)  # (bucket, tickets taken there and not used yet)
        self._want = 1

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

    def _take_redis(self, bucket: int, span: int) -> bool:
        """A ticket in `bucket` if it and the `span` before hold room: one kept from the last
        round trip in this bucket, else one round trip, which takes several when requests
        follow each other fast and the window has plenty of room (what is left when the
        bucket ends is not used: a request is always sent in the bucket it counts in)."""
        with self._spare_lock:
            if self._spare[0] == bucket and self._spare[1] > 0:
                self._spare = (bucket, self._spare[1] - 1)
                return True
            self._want = min(MAX_TICKETS, self._want * 2) if self._spare[0] == bucket \
                else max(1, self._want // 2)
            keys = [cache.make_key(f"{self.prefix}:{b}:count")
                    for b in range(bucket, bucket - span - 1, -1)]
            taken = int(self._script(keys=keys, args=[self.limit, self._ttl(), self._want]))
            self._spare = (bucket, max(0, taken - 1))
            return taken > 0

    def _take_slots(self, bucket: int, span: int) -> bool:
        """The numbered-slot protocol (caches without scripts)."""
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
        return self._take(bucket, self.limit - previous)

    def acquire(self, on_wait: Callable[[float], None] | None = None) -> float:
        """Block until a request may be sent; returns the seconds waited."""
        waited = 0.0
        span = BUCKETS_PER_WINDOW + MARGIN_BUCKETS
        take = self._take_slots if self._script is None else self._take_redis
        while True:
            now = self.clock()
            bucket = int(now // self.bucket_seconds)
            if take(bucket, span):
                self.waited += waited
                return waited
            # Jitter spreads workers that wake together over the next bucket.
            pause = (bucket + 1) * self.bucket_seconds - now + random.uniform(0, 0.05)
            if on_wait is not None:
                on_wait(pause)
            self.sleep(pause)
            waited += pause
