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

from django.conf import settings
from django.core.cache import cache

from portal.models import Environment
from sync.budget import BUCKETS_PER_WINDOW, MARGIN_BUCKETS

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
    short (`starved`) counts as having wanted the whole share."""
    at = started + gap(env, requests)
    cache.set(_key(env.pk), at, timeout=int(at - time.time()) + 60)
    window = float(getattr(settings, "SYNC_BUDGET_WINDOW", 60.0))
    wanted = env.requests_per_minute if starved else requests
    if wanted:
        key = _spent_key(env.pk, int(time.time() // window))
        cache.add(key, 0, timeout=int(2 * window) + 1)
        cache.incr(key, wanted)
    return at


def _spent_key(env_id: int, slot: int) -> str:
    return f"sync:hook:spent:{env_id}:{slot}"


def spent(env_id: int, window: float) -> int:
    """Requests the environment's rounds make in a budget window: the larger of this
    window's (so far) and the last one's (a starved round counts a whole budget). What a
    back-fill leaves free for them."""
    slot = int(time.time() // window)
    counts = cache.get_many([_spent_key(env_id, slot), _spent_key(env_id, slot - 1)])
    return max(counts.values(), default=0)


def until_next(env_id: int) -> float:
    """Seconds before the next round may start (0: now)."""
    return max(0.0, (cache.get(_key(env_id)) or 0.0) - time.time())
