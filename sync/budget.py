"""A per-token request budget shared by every process through the cache.

Each request takes a numbered ticket with `cache.add` (atomic on Redis and on the database
cache), in time buckets of a 120th of the window (half a second of a minute). A ticket is
granted only if the tickets of the current bucket and of the MARGIN + 120 before it stay
within the limit: any window of `window` seconds lies inside 121 consecutive buckets, so no
such window holds more than `limit` tickets however many workers share the token, and the
extra bucket absorbs the delay between taking a ticket and the request reaching the upstream
(which counts arrivals). The steady rate is therefore limit × 120/122 per window (about 88.5
of 90 a minute). With twelfths it was limit × 12/14 (77 of 90): a back-fill could never use
90 % of its budget; with sixtieths 60/62 (87 of 90), and a busy hour's back-fill got 84–87 %
of what the webhook rounds and refreshes left it, 87–91 % with 120ths and the rounds' smaller
headroom (`sync.webhooks.serving.MIN_RESERVE`; `bench/backfill_pace.py --days 10
--calls-per-day 20000 --factor 3 --webhooks --at 14:00`, three pairs side by side). A budget's
first ticket counts every bucket of the window: their first slots are read in one round trip
(`_issued_many`; one a bucket before, 65 round trips and 7 ms, `bench/budget_cost.py`), then
nothing more per request: closed buckets are remembered.

A worker must not hold a slot other tokens need while one token's budget is spent: with
`max_wait` set (Celery tasks, `sync/tasks.py`), a wait longer than that raises
`BudgetExhausted` naming when the budget has room again, and the task re-queues itself with
that countdown instead of sleeping. `manage.py sync` keeps waiting (there is nobody to hand
the slot to).

Talkover's own word counts too: every answer carries `X-RateLimit-Limit`, `-Remaining` and
`-Reset` (`observe`, kept in the cache for every process of the token). A limit lower than
ours becomes ours, and while the upstream says fewer than `UPSTREAM_RESERVE` requests remain
before its reset, nobody asks (a 429 would cost a retry and a wait anyway).

A `share` of the budget (webhook rounds: `sync.webhooks.pacing`) is a budget of its own,
`fraction` of the token's limit, whose tickets are also taken from the whole: the rest is
left to the schedule however many events arrive.

Every request of a sync pays for its ticket and for `observe` on the thread that fetches
pages, which shares the GIL with the threads checking and writing them: 2 to 3 cache round
trips (`bench/budget_cost.py`; 8, then 6, before the budget kept what it knows):

- a bucket's tickets are counted from the slots this budget knows are taken (slots are never
  given back), the shared counter read in the same round trip;
- the shared counter, a hint of where the next free slot is for workers that have none, is
  moved every `COUNTER_EVERY` tickets, not every one;
- the upstream's state is written when it says something new (another limit, another
  window, fewer than `OBSERVE_BELOW` requests left) and read again when this budget's own
  knowledge of it is older than `SHARED_FOR` seconds or that close to the end: another
  worker's answers can only bring the window's end sooner by what it sends meanwhile, which
  the upstream's 429 and its retry would still catch.
"""
from __future__ import annotations

import hashlib
import math
import random
import time
from collections.abc import Callable, Mapping

from django.core.cache import cache

BUCKETS_PER_WINDOW = 120
MARGIN_BUCKETS = 1
# Requests the upstream's `X-RateLimit-Remaining` must exceed before another is sent: other
# workers' requests may be in flight already.
UPSTREAM_RESERVE = 2
# `X-RateLimit-Reset` above this is an epoch time, below it seconds from now.
EPOCH_AFTER = 1_000_000_000
# The upstream's state is shared at once when fewer requests than this remain in its window.
OBSERVE_BELOW = 10
# Seconds a budget trusts what it last read or wrote of the upstream's state.
SHARED_FOR = 1.0
# Tickets between two moves of a bucket's shared counter (it may lag by one less).
COUNTER_EVERY = 4
# Slots of a bucket read in one round trip (most buckets hold fewer tickets).
SLOTS_READ = 8
# What a deferred sync needs of a budget window to move on (`continue_in`): a continuation
# first refreshes the lookback (about 7 requests, not resumable: a smaller part would never
# move it on), then reads pages.
CONTINUATION_TICKETS = 12
# How much of `max_wait` a continuation starts before the window has that room: its start (a
# new budget, its runs' rows, the plan) and its sequential first requests overlap the wait,
# and its first tickets wait inside the budget as any run's may. Not all of it: a task begun a
# moment early would find more than `max_wait` to wait, and be re-queued.
CONTINUATION_LEAD = 0.9


def token_key(token: str) -> str:
    """A stable, non-reversible name for a token (cache keys must never contain secrets)."""
    return hashlib.sha256(token.encode()).hexdigest()[:24]


# The upstream's (limit, remaining, reset at) as its last answer said, or None.
Upstream = tuple[int, int, float] | None


class BudgetExhausted(Exception):
    """The token's budget has no room for longer than the caller would wait."""

    def __init__(self, wait: float) -> None:
        super().__init__(f"the token's request budget is spent for {wait:.1f} s")
        self.wait = wait


class RequestBudget:
    """At most `limit` requests per `window` seconds for one token, across processes."""

    def __init__(self, token: str, limit: int, window: float = 60.0, *,
                 clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], None] = time.sleep,
                 max_wait: float | None = None, parent: RequestBudget | None = None,
                 name: str = "") -> None:
        if limit < 1:
            raise ValueError("the request budget must allow at least one request")
        self.parent = parent
        root = f"sync:budget:{token_key(token)}"
        self.prefix = f"{root}:{name}" if name else root
        self.upstream_key = parent.upstream_key if parent else f"{root}:upstream"
        self.configured = self.limit = limit
        self.bucket_seconds = window / BUCKETS_PER_WINDOW
        self.clock, self.sleep = clock, sleep
        self.max_wait = max_wait
        self._closed: dict[int, int] = {}
        self._next: dict[int, int] = {}  # bucket -> the slot after this budget's last ticket
        self._known: dict[int, int] = {}  # bucket -> slots known taken (from 0, never freed)
        self._shared: tuple[Upstream, float] | None = None  # the upstream's state, and when
        self.waited = 0.0
        self.window = window
        self.token = token
        self.fraction = 1.0

    def share(self, fraction: float, name: str) -> RequestBudget:
        """A budget of `fraction` of this one's limit whose tickets come out of this one too."""
        child = RequestBudget(self.token, max(1, int(self.configured * fraction)), self.window,
                              clock=self.clock, sleep=self.sleep, max_wait=self.max_wait,
                              parent=self, name=name)
        child.fraction = fraction
        return child

    # --- what the upstream says ---------------------------------------------------------

    def observe(self, headers: Mapping[str, str]) -> None:
        """Keep an answer's `X-RateLimit-*` for every process of the token."""
        try:
            limit = int(headers["X-RateLimit-Limit"])
            remaining = int(headers["X-RateLimit-Remaining"])
            reset = float(headers["X-RateLimit-Reset"])
        except (KeyError, TypeError, ValueError):
            return  # absent or unreadable: our own budget alone
        now = self.clock()
        reset_at = reset if reset > EPOCH_AFTER else now + reset
        if limit < 1 or not now - 1 <= reset_at <= now + 24 * 3600:
            return  # nonsense is not a reason to stop
        state = (limit, remaining, reset_at)
        known = self._shared[0] if self._shared is not None else None
        if (known is None or known[0] != limit or abs(known[2] - reset_at) > 1
                or remaining < OBSERVE_BELOW):
            cache.set(self.upstream_key, state, timeout=max(1, math.ceil(reset_at - now)) + 1)
        self._shared = (state, now)

    def _upstream(self) -> Upstream:
        """The upstream's state: this budget's own when recent and far from the end, else the
        cache's (what every worker of the token last wrote)."""
        now = self.clock()
        if self._shared is not None:
            state, at = self._shared
            if 0 <= now - at < SHARED_FOR and (
                    state is None or (state[1] >= OBSERVE_BELOW and state[2] > now)):
                return state
        state = cache.get(self.upstream_key)
        state = state if isinstance(state, tuple) and len(state) == 3 else None
        self._shared = (state, now)
        return state

    def upstream_wait(self, state: Upstream | bool = True) -> float:
        """Seconds until the upstream's window resets when it says too little remains
        (`state`: what `_upstream` just read, or True to read it now)."""
        if state is True:
            state = self._upstream()
        if not isinstance(state, tuple) or state[1] > UPSTREAM_RESERVE:
            return 0.0
        return max(0.0, state[2] - self.clock())

    def _effective_limit(self, state: Upstream | bool = True) -> int:
        """Ours, or the upstream's when lower (its plan), times this share's fraction
        (`state`: as for `upstream_wait`; a share reads its parent's itself)."""
        if self.parent is not None:
            return max(1, int(self.parent._effective_limit() * self.fraction))
        if state is True:
            state = self._upstream()
        return min(self.configured, state[0]) if isinstance(state, tuple) else self.configured

    def _slot(self, bucket: int, n: int) -> str:
        return f"{self.prefix}:{bucket}:{n}"

    def _ttl(self) -> int:
        return int(self.bucket_seconds * (BUCKETS_PER_WINDOW + MARGIN_BUCKETS + 2)) + 5

    def _issued(self, bucket: int) -> int:
        """Tickets issued in a bucket: slots are taken contiguously from 0 and never given
        back, so the count starts at what this budget knows taken, and the shared counter,
        read with the first slots, lets it skip ahead."""
        if bucket in self._closed:
            return self._closed[bucket]
        return self._issued_many([bucket])[bucket]

    def _issued_many(self, buckets: list[int]) -> dict[int, int]:
        """`_issued` of several buckets, their first `SLOTS_READ` slots read in one round trip
        (a bucket holding more is read on from there): a budget's first ticket counts every
        bucket of the window, and every run and webhook round makes a budget."""
        counts: dict[int, int] = {}
        first = True
        pending = {b: self._known.get(b, 0) for b in buckets}
        while pending:
            keys = {b: [self._slot(b, i) for i in range(n, n + SLOTS_READ)]
                    for b, n in pending.items()}
            counters = {b: f"{self.prefix}:{b}:n" for b in pending} if first else {}
            found = cache.get_many([*counters.values(), *(k for ks in keys.values()
                                                          for k in ks)])
            left = {}
            for b, n in pending.items():
                free = next((i for i, key in enumerate(keys[b]) if key not in found), None)
                if free is not None:
                    self._know(b, n + free)
                    counts[b] = n + free
                else:
                    left[b] = max(n + SLOTS_READ, found.get(counters[b]) or 0) if first \
                        else n + SLOTS_READ
            pending, first = left, False
        return counts

    def _know(self, bucket: int, taken: int) -> None:
        """Remember that `taken` slots of `bucket` are taken (only the window's buckets)."""
        if bucket not in self._known:
            for old in [b for b in self._known if b < bucket - BUCKETS_PER_WINDOW - 2]:
                del self._known[old]
        if taken > self._known.get(bucket, 0):
            self._known[bucket] = taken

    def _take(self, bucket: int, room: int) -> bool:
        """Take the bucket's next free slot below `room`. Slots fill from 0 without gaps, so
        the one after this budget's own last ticket in the bucket is where the next free slot
        starts at the earliest: tried first, it saves reading the shared counter (a round trip
        of every request of a back-fill); once taken by someone else, the counter is read."""
        counter = f"{self.prefix}:{bucket}:n"
        hinted = bucket in self._next
        n = self._next[bucket] if hinted else max(cache.get(counter) or 0,
                                                  self._known.get(bucket, 0))
        while n < room:
            if cache.add(self._slot(bucket, n), 1, timeout=self._ttl()):
                # The counter is a hint for workers without one: it may lag, never lead.
                if not hinted or (n + 1) % COUNTER_EVERY == 0:
                    cache.set(counter, n + 1, timeout=self._ttl())
                self._next = {bucket: n + 1}
                self._know(bucket, n + 1)
                return True
            if hinted:
                hinted, n = False, max(n + 1, cache.get(counter) or 0)
            else:
                n += 1
        return False

    def _counts(self, bucket: int) -> list[int]:
        """Tickets of the MARGIN + BUCKETS_PER_WINDOW buckets before `bucket`, oldest first."""
        span = BUCKETS_PER_WINDOW + MARGIN_BUCKETS
        for old in [b for b in self._closed if b < bucket - span]:
            del self._closed[old]
        read = self._issued_many([b for b in range(bucket - span, bucket)
                                  if b not in self._closed])
        counts = []
        for b in range(bucket - span, bucket):
            count = self._closed[b] if b in self._closed else read[b]
            # The bucket just ended may still get a ticket from a worker that read the
            # clock before it ended: count it again next time, only older ones are closed.
            if b < bucket - 1:
                self._closed[b] = count
            counts.append(count)
        return counts

    def _room_after(self, now: float, bucket: int, held: list[int], need: int = 1) -> float:
        """Seconds until a bucket opens whose window has room for `need` tickets, given
        `held` (the tickets of the buckets before `bucket`, then of `bucket`) and no ticket
        taken after now: old buckets leave the window one by one. Other workers may take
        tickets meanwhile, so the room may come later."""
        ahead = 1
        while ahead < len(held) and sum(held[ahead:]) > self.limit - need:
            ahead += 1
        return (bucket + ahead) * self.bucket_seconds - now

    def room_in(self, need: int = 1) -> float:
        """Seconds until `need` tickets could be taken (0 when they can be now); takes none.
        `need` is at most the limit."""
        state = self._upstream()
        self.limit = self._effective_limit(state)
        need = max(1, min(need, self.limit))
        now = self.clock()
        bucket = int(now // self.bucket_seconds)
        held = [*self._counts(bucket), self._issued(bucket)]
        own = 0.0
        if sum(held) > self.limit - need:
            own = max(0.0, self._room_after(now, bucket, held, need))
        parent = self.parent.room_in(need) if self.parent is not None else 0.0
        return max(own, parent, self.upstream_wait(state))

    def continue_in(self, refused: float = 0.0) -> float:
        """Seconds until a deferred sync may continue: until the window has room for
        `CONTINUATION_TICKETS` (the whole limit when that is smaller), assuming nobody takes
        one meanwhile, and no sooner than `refused` (the wait the refusal named: the upstream's
        reset, say), less `CONTINUATION_LEAD` of `max_wait`. Not at the first free ticket: a
        continuation that starts with one or two requests of room spends them re-reading what
        any run must read first (the hot days' heads, the status listings) and is deferred
        again before it moves on. Not once the whole window is free either: a run takes its
        tickets in a burst (its pages are asked for ahead), and they leave the window in the
        order they were taken, so a continuation begun when the first few have left finds the
        rest leaving as it reads. Waiting for the last one made every cycle a window plus the
        run's own time (22.6 s for a 20-second window, 21.4 s with this rule): a busy hour's
        back-fill used 85 % of its budget, 88 % with it (`bench/backfill_pace.py --days 10
        --calls-per-day 20000 --factor 3 --webhooks --at 14:00`, side by side).

        Less the lead: a continuation spends a moment starting before its first request, and
        reads the lookback's refresh one request after another; begun at the room, it let the
        window's first free tickets go by meanwhile and took the next at its own pace, and each
        run's burst began that much later than the last's: every cycle was a window and 0.8 to
        2.0 s at ×3 (21.0–22.2 s for 20). Started early, it waits for them inside the budget
        (at most `max_wait`: starting sooner than that before the room would only re-queue
        it), and the cycle is 20.4–20.6 s. Side by side, a busy hour's back-fill got 92 % of
        what the rest left it (94.1 % by the rates), 85 % (87.9 %) before."""
        room = max(refused, self.room_in(need=CONTINUATION_TICKETS))  # clamped to the limit
        return max(0.0, room - (self.max_wait or 0.0) * CONTINUATION_LEAD)

    def _await_upstream(self, on_wait: Callable[[float], None] | None
                        ) -> tuple[float, Upstream]:
        """Wait while the upstream says its window is (nearly) spent; (seconds waited, the
        upstream's state as last read)."""
        waited = 0.0
        while (pause := self.upstream_wait(state := self._upstream())) > 0:
            if self.max_wait is not None and pause > self.max_wait:
                self.waited += waited
                raise BudgetExhausted(pause)
            pause += random.uniform(0, 0.05)
            if on_wait is not None:
                on_wait(pause)
            self.sleep(pause)
            waited += pause
        return waited, state

    def acquire(self, on_wait: Callable[[float], None] | None = None) -> float:
        """Block until a request may be sent; returns the seconds waited.

        Raises `BudgetExhausted` instead when `max_wait` is set and the budget has no room
        for longer than that.
        """
        waited, state = self._await_upstream(on_wait)
        self.limit = self._effective_limit(state)
        while True:
            now = self.clock()
            bucket = int(now // self.bucket_seconds)
            counts = self._counts(bucket)
            if self._take(bucket, self.limit - sum(counts)):
                if self.parent is not None:
                    waited += self.parent.acquire(on_wait)
                self.waited += waited
                return waited
            if self.max_wait is not None:
                room = self._room_after(now, bucket, [*counts, self._issued(bucket)])
                if room > self.max_wait:
                    self.waited += waited
                    raise BudgetExhausted(room)
            # Jitter spreads workers that wake together over the next bucket.
            pause = (bucket + 1) * self.bucket_seconds - now + random.uniform(0, 0.05)
            if on_wait is not None:
                on_wait(pause)
            self.sleep(pause)
            waited += pause
