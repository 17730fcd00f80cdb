"""Deliveries the receiver refused, per environment: counted and the latest listed.

A refused delivery (401 unsigned, 403 wrong signature, 404 not a Talkover hook, 413 too
large) usually means a registration made with an old secret or a misconfigured sender: the
sync page shows how many and the latest few (time, status, reason) so an owner sees it
without reading logs. Kept in the cache, not the database: a flood of bad deliveries must
not become a flood of writes, and the record only needs to outlive a week of attention.
Deliveries to an unknown address belong to no environment: they are only logged.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime

from django.core.cache import cache

from portal import redis_guard

KEEP_SECONDS = 7 * 24 * 3600
LATEST = 10


@dataclass(frozen=True)
class Rejection:
    at: datetime
    status: int  # its reason in words is the sync page's (both languages)


def _count_key(env_id: int) -> str:
    return f"sync:hook:rejected:{env_id}:n"


def _list_key(env_id: int) -> str:
    return f"sync:hook:rejected:{env_id}:latest"


def record(env_id: int, status: int) -> None:
    """Count a refused delivery and keep it among the latest (optional: a sick cache is
    skipped, `portal.redis_guard`)."""
    def write() -> None:
        cache.add(_count_key(env_id), 0, timeout=KEEP_SECONDS)
        cache.incr(_count_key(env_id))
        latest = cache.get(_list_key(env_id)) or []
        cache.set(_list_key(env_id), [(time.time(), status), *latest][:LATEST],
                  timeout=KEEP_SECONDS)

    redis_guard.optional("webhook refusals", write, None)


def summary(env_id: int) -> tuple[int, list[Rejection]]:
    """(refused in the last week, the latest first); nothing when the cache is sick."""
    found = redis_guard.optional(
        "webhook refusals", lambda: cache.get_many([_count_key(env_id), _list_key(env_id)]),
        {})
    latest = found.get(_list_key(env_id)) or []
    return int(found.get(_count_key(env_id)) or 0), [
        Rejection(datetime.fromtimestamp(at, UTC), status) for at, status in latest]
