"""Celery tasks: the beat-driven dispatcher and the per-environment sync and back-fill.

Tasks are idempotent (every write is an upsert keyed by natural keys) and acks_late; the
environment lock makes a duplicate delivery skip. Retries back off exponentially with a cap
well below the broker's visibility timeout, so a waiting retry is never redelivered twice.
"""
from __future__ import annotations

import logging
import time
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.core.cache import cache
from django.db.models import Q
from django.utils import timezone

from portal.models import Environment, EnvironmentStatus
from sync.dead_runs import fail_stale_runs
from sync.engine import SyncOutcome
from sync.engine import sync_environment as run_sync
from sync.models import Trigger

logger = logging.getLogger("sync.tasks")


def retry_backoff_cap() -> int:
    """Seconds: at most a quarter of the visibility timeout, and never above 30 minutes."""
    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("visibility_timeout", 3600)
    return int(min(1800, visibility // 4))


def due_environments() -> list[int]:
    """Environments whose schedule has come, that are active and have a token."""
    now = timezone.now()
    return list(
        Environment.objects.filter(sync_enabled=True, status=EnvironmentStatus.ACTIVE)
        .exclude(token_ciphertext="")
        .filter(Q(next_sync_at__isnull=True) | Q(next_sync_at__lte=now))
        .values_list("pk", flat=True)
    )


@shared_task(name="sync.dispatch", ignore_result=True)
def dispatch() -> list[int]:
    """Enqueue a sync for every due environment (claimed first, so two beats never double).

    An environment that has never synced successfully needs its first back-fill (up to
    `backfill_days` of calls): that goes to `sync.backfill_environment` on the `backfill`
    queue, so a big new environment cannot hold the slots other environments' 15-minute
    syncs need. Once it has synced, its schedule runs `sync.sync_environment`.
    """
    fail_stale_runs()
    enqueued = []
    for pk in due_environments():
        env = Environment.objects.get(pk=pk)
        claim = timezone.now() + timedelta(minutes=env.sync_interval_minutes)
        claimed = Environment.objects.filter(pk=pk, next_sync_at=env.next_sync_at).update(
            next_sync_at=claim)
        if claimed:
            task = backfill_environment if env.last_synced_at is None else sync_environment
            task.delay(pk)
            enqueued.append(pk)
    return enqueued


def _run(task, environment_id: int, trigger: str, **kwargs) -> dict:
    env = Environment.objects.filter(pk=environment_id).first()
    if env is None:
        return {"environment": environment_id, "skipped": True, "reason": "deleted"}
    outcome: SyncOutcome = run_sync(env, trigger=trigger, **kwargs)
    transient = [r for r in outcome.runs if r.status == "failed"] and not outcome.auth_failed
    if transient and not task.request.is_eager and task.request.retries < task.max_retries:
        # Eager mode (the demo) must not retry inline; the next tick tries again anyway.
        countdown = min(retry_backoff_cap(), 60 * 2 ** task.request.retries)
        raise task.retry(countdown=countdown)
    return {
        "environment": environment_id, "skipped": outcome.skipped, "reason": outcome.reason,
        "runs": [{"stream": r.stream, "status": r.status, "created": r.created,
                  "updated": r.updated} for r in outcome.runs],
    }


@shared_task(name="sync.sync_environment", bind=True, acks_late=True, max_retries=3,
             ignore_result=True)
def sync_environment(self, environment_id: int, trigger: str = Trigger.SCHEDULE) -> dict:
    """Sync one environment's streams (lookback window; a first sync back-fills)."""
    return _run(self, environment_id, trigger)


@shared_task(name="sync.backfill_environment", bind=True, acks_late=True, max_retries=3,
             ignore_result=True)
def backfill_environment(self, environment_id: int, days: int | None = None,
                         full: bool = False) -> dict:
    """Back-fill `days` (default: the environment's back-fill days) on the backfill queue."""
    return _run(self, environment_id, Trigger.BACKFILL, backfill_days=days, full=full)


# With a broker, a webhook task runs at most WEBHOOK_ROUNDS rounds, then hands over to a fresh
# task (so a storm of events does not hold a worker); rounds start at least
# WEBHOOK_ROUND_SECONDS apart, so events in between share one round.
WEBHOOK_ROUNDS = 3
WEBHOOK_ROUND_SECONDS = 2.0


@shared_task(name="sync.webhook_sync", bind=True, acks_late=True, max_retries=3,
             ignore_result=True)
def webhook_sync(self, environment_id: int) -> dict:
    """A Talkover webhook arrived: sync the environment's calls of today (coalesced).

    Events while it is queued ride on it (`sync.webhook_receiver`); events that arrive while
    it reads make it run once more, so a call that ended mid-run is not left to the schedule.
    Another run holding the environment: retried shortly with a broker; in process the
    schedule's next run reads the change anyway.
    """
    from sync.webhook_receiver import event_key, queued_key

    queued = queued_key(environment_id)
    env = Environment.objects.filter(pk=environment_id).first()
    if env is None:
        cache.delete(queued)
        return {"environment": environment_id, "skipped": True, "reason": "deleted"}
    rounds = 0
    while True:
        rounds += 1
        started = time.time()
        try:
            outcome = run_sync(env, streams=["calls"], trigger=Trigger.WEBHOOK)
        except Exception:
            cache.delete(queued)  # the next event may queue again
            raise
        if outcome.skipped:
            if outcome.unavailable or self.request.is_eager \
                    or self.request.retries >= self.max_retries:
                cache.delete(queued)
                break
            raise self.retry(countdown=5)
        cache.delete(queued)
        if (cache.get(event_key(environment_id)) or 0) < started:
            break  # no event since this round began reading
        if not cache.add(queued, 1, timeout=120):
            break  # a newer event queued its own task
        if rounds >= WEBHOOK_ROUNDS and not self.request.is_eager:
            webhook_sync.apply_async((environment_id,), countdown=WEBHOOK_ROUND_SECONDS)
            break  # the fresh task owns the queued mark
        time.sleep(max(0.0, started + WEBHOOK_ROUND_SECONDS - time.time()))
    return {"environment": environment_id, "skipped": outcome.skipped,
            "reason": outcome.reason, "runs": rounds}


@shared_task(name="sync.register_webhooks", ignore_result=True)
def register_webhooks(environment_id: int, base_url: str) -> dict:
    """Register the environment's hook URL (under `base_url`) on every upstream agent."""
    from sync.webhook_register import register

    env = Environment.objects.filter(pk=environment_id).first()
    if env is None:
        return {"environment": environment_id, "skipped": True}
    return register(env, base_url).as_dict()


@shared_task(name="sync.maintain_partitions", ignore_result=True)
def maintain_partitions() -> dict:
    """Daily (PostgreSQL): call partitions for the months ahead, organisations' pending
    retention moves, and the months a retention tier no longer keeps dropped whole."""
    from sync.retention import maintain

    return maintain()


@shared_task(name="sync.apply_call_retention", ignore_result=True)
def apply_call_retention(organization_id: int) -> dict:
    """An organisation's retention changed: move its calls to the new tier, drop what the
    new tier no longer keeps (the daily maintenance finishes a move that had to wait)."""
    from sync.retention import apply

    return apply(organization_id)
