"""How webhook deliveries coalesce into sync rounds: the one protocol the receiver and the
task share (`sync.webhooks.receiver` announces, `sync.tasks.webhook_sync` runs).

Two cache entries per environment:

- the *queued mark* (`queued_key`): set by the delivery that queues a task, held while that
  task is queued or running; a delivery that finds it set joins the task instead of queuing
  another. It expires after QUEUED_SECONDS, so a lost queue message stops mattering;
- the *last event* (`event_key`): when the latest delivery arrived. A task whose round began
  before it runs once more, so a call that ended mid-round is not left to the schedule.
"""
from __future__ import annotations

import time

from django.core.cache import cache

# How long a queued run absorbs new events before a lost queue message stops mattering.
QUEUED_SECONDS = 120


def queued_key(env_id: int) -> str:
    return f"sync:hook:queued:{env_id}"


def event_key(env_id: int) -> str:
    return f"sync:hook:event:{env_id}"


def announce(env_id: int) -> bool:
    """A delivery arrived: note when, and claim the queued mark. True when a task is already
    queued or running (the delivery joins it), False when the caller must queue one."""
    cache.set(event_key(env_id), time.time(), timeout=3600)
    return not claim(env_id)


def claim(env_id: int) -> bool:
    """Take the queued mark; False when another delivery or task holds it."""
    return bool(cache.add(queued_key(env_id), 1, timeout=QUEUED_SECONDS))


def release(env_id: int) -> None:
    """The task is done (or failed): the next delivery queues again."""
    cache.delete(queued_key(env_id))


def event_since(env_id: int, started: float) -> bool:
    """Whether a delivery arrived since `started` (a round's start, `time.time()`)."""
    return (cache.get(event_key(env_id)) or 0) >= started


def recent(env_id: int, seconds: float) -> bool:
    """Whether a delivery was taken in the last `seconds`: deliveries are coming."""
    return time.time() - (cache.get(event_key(env_id)) or 0) < seconds
