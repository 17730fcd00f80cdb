"""When the next webhook round may start: paced by what the last one cost.

Webhook rounds may spend a share of the token's budget (`SYNC_WEBHOOK_BUDGET_SHARE`, 40 %
by default; `RequestBudget.share` enforces it request by request). Rather than start a round
that would then wait inside the budget, the next round starts when the share has refilled
what the last one spent: `requests / steady rate` after it began, never sooner than
`MIN_ROUND_SECONDS`. Coalescing is therefore adaptive: a quiet environment's round runs a
second or two after its event; a busy one's rounds each cost more (more calls named, more
to read), so they start further apart and each serves more events, and the share holds
however many events arrive. The mark lives in the cache, shared by every worker.
"""
from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Protocol

from django.conf import settings
from django.core.cache import cache

from portal.models import Environment
from sync.budget import BUCKETS_PER_WINDOW, MARGIN_BUCKETS


class _Run(Protocol):
    requests: int


class RoundOutcome(Protocol):
    """What `record` reads of a `sync.engine.SyncOutcome` (the engine imports this module)."""

    runs: Sequence[_Run]
    deferred: float | None


MIN_ROUND_SECONDS = 1.0
# A task sleeps at most this long for its round; a longer wait re-queues it with a countdown.
MAX_SLEEP = 5.0


def webhook_share() -> float:
    """The share of a token's budget webhook rounds may spend (SYNC_WEBHOOK_BUDGET_SHARE)."""
    return float(getattr(settings, "SYNC_WEBHOOK_BUDGET_SHARE", 0.4))


def _key(env_id: int) -> str:
    return f"sync:hook:next:{env_id}"


def steady_rate(env: Environment) -> float:
    """Requests a second the webhooks' share of the token's budget sustains."""
    window = float(getattr(settings, "SYNC_BUDGET_WINDOW", 60.0))
    share = max(1.0, env.requests_per_minute * webhook_share())
    return share * BUCKETS_PER_WINDOW / (BUCKETS_PER_WINDOW + MARGIN_BUCKETS + 1) / window


def gap(env: Environment, requests: int) -> float:
    """Seconds from a round's start to the next's, for a round that made `requests`."""
    return max(MIN_ROUND_SECONDS, requests / steady_rate(env))


def ran(env: Environment, started: float, requests: int, starved: bool = False) -> float:
    """Record a round (started at `started`, epoch): the next may start at the time returned.
    Its requests count towards what the rounds spend (`spent`); a round the budget left
    short (`starved`) makes the back-fill leave more free for one budget window from then
    (`sync.webhooks.serving.split`). Counted as a whole budget in its window's spending, it
    kept the whole share free for two windows and more (the larger of two windows' is read),
    and the history got 83.5 % of what the rest left."""
    at = started + gap(env, requests)
    cache.set(_key(env.pk), at, timeout=int(at - time.time()) + 60)
    window = float(getattr(settings, "SYNC_BUDGET_WINDOW", 60.0))
    if starved:
        cache.set(_starved_key(env.pk), 1, timeout=max(1, round(window)))
    if requests:
        key = _spent_key(env.pk, int(time.time() // window))
        cache.add(key, 0, timeout=int(2 * window) + 1)
        cache.incr(key, requests)
    return at


def record(env: Environment, started: float, outcome: RoundOutcome) -> None:
    """Record a webhook round's outcome (`sync.engine.sync_environment`'s). A round skipped
    because another run held the environment spent nothing: the next may start at once. A
    round the spent budget turned away before it began (a back-fill's continuation took the
    window; no run) wanted its share all the same: it counts starved, so the back-fill's next
    run leaves them more (`sync.webhooks.serving.split`). Uncounted, such rounds left the
    reserve at what the few served ones spent, and deliveries waited ~30 s for the window to
    roll (`bench/backfill_pace.py`).
    """
    if outcome.runs:
        ran(env, started, sum(r.requests for r in outcome.runs),
            starved=outcome.deferred is not None)
    elif outcome.deferred is not None:
        ran(env, started, 0, starved=True)


def _spent_key(env_id: int, slot: int) -> str:
    return f"sync:hook:spent:{env_id}:{slot}"


def _starved_key(env_id: int) -> str:
    return f"sync:hook:starved:{env_id}"


def spent(env_id: int, window: float) -> int:
    """Requests the environment's rounds make in a budget window: the larger of this
    window's (so far) and the last one's. What a back-fill leaves free for them."""
    slot = int(time.time() // window)
    counts = cache.get_many([_spent_key(env_id, slot), _spent_key(env_id, slot - 1)])
    return max(counts.values(), default=0)


def starved(env_id: int) -> bool:
    """Whether a round found the budget spent within the last budget window."""
    return bool(cache.get(_starved_key(env_id)))


def until_next(env_id: int) -> float:
    """Seconds before the next round may start (0: now)."""
    return max(0.0, (cache.get(_key(env_id)) or 0.0) - time.time())
