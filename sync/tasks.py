"""Celery tasks: the beat-driven dispatcher and the per-environment sync and back-fill.

Tasks are idempotent (every write is an upsert keyed by natural keys) and acks_late; the
environment lock makes a duplicate delivery skip. Retries back off exponentially with a cap
well below the broker's visibility timeout, so a waiting retry is never redelivered twice.
"""
from __future__ import annotations

import logging
import math
import time
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from portal.models import Environment, EnvironmentStatus
from sync import lost_dispatches
from sync.dead_runs import fail_stale_runs
from sync.engine import SyncOutcome
from sync.engine import sync_environment as run_sync
from sync.models.core import Trigger

logger = logging.getLogger("sync.tasks")


def retry_backoff_cap() -> int:
    """Seconds: at most a quarter of the visibility timeout, and never above 30 minutes."""
    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("visibility_timeout", 3600)
    return int(min(1800, visibility // 4))


def budget_max_wait() -> float:
    """Seconds a task may wait on a token's request budget before it re-queues itself
    instead (settings.SYNC_BUDGET_MAX_WAIT; default a twelfth of the window: five of its
    buckets)."""
    configured = getattr(settings, "SYNC_BUDGET_MAX_WAIT", None)
    if configured is not None:
        return float(configured)
    return float(getattr(settings, "SYNC_BUDGET_WINDOW", 60.0)) / 12


def _due(first_sync: bool | None = None):
    """Environments whose schedule has come, that are active and have a token: the longest
    due first (never scheduled before any other), so a bounded batch lets none starve.
    `first_sync` picks those that never synced (True) or those that did (False)."""
    due = (Environment.objects.filter(sync_enabled=True, status=EnvironmentStatus.ACTIVE)
           .exclude(token_ciphertext="")
           .filter(Q(next_sync_at__isnull=True) | Q(next_sync_at__lte=timezone.now())))
    if first_sync is not None:
        due = due.filter(last_synced_at__isnull=first_sync)
    return due.order_by(F("next_sync_at").asc(nulls_first=True), "pk")


def queued(queue: str) -> int:
    """Messages waiting on `queue` (not those a worker has taken); 0 without a broker."""
    app = sync_environment.app
    if app.conf.task_always_eager:
        return 0
    with app.connection_for_read() as conn:
        return conn.default_channel.queue_declare(queue=queue, passive=False).message_count


def dispatch_room(queue: str) -> int:
    """How many syncs one tick may add to `queue`: the batch (`SYNC_DISPATCH_BATCH`) less
    what still waits there, so a queue the workers cannot keep up with does not grow past a
    batch (and its environments are not queued again behind themselves)."""
    batch = int(getattr(settings, "SYNC_DISPATCH_BATCH", 1000))
    return max(0, batch - queued(queue))


@shared_task(name="sync.dispatch", ignore_result=True)
def dispatch() -> list[int]:
    """Enqueue syncs for due environments (claimed first, so two beats never double).

    An environment that has never synced successfully needs its first back-fill (up to
    `backfill_days` of calls): that goes to `sync.backfill_environment` on the `backfill`
    queue, so a big new environment cannot hold the slots other environments' 15-minute
    syncs need. Once it has synced, its schedule runs `sync.sync_environment`. Each queue
    gets at most its room (`dispatch_room`), the longest due first: a thousand new
    environments wait their turn on the back-fill queue and never take the incremental
    syncs' turn. A queued sync a dying worker took with it is queued again
    (`sync.lost_dispatches`).
    """
    fail_stale_runs()
    lost_dispatches.recover(dispatch.app, [_queue_of(sync_environment),
                                           _queue_of(backfill_environment)])
    enqueued = []
    for task, first_sync in ((sync_environment, False), (backfill_environment, True)):
        room = dispatch_room(_queue_of(task))
        if room <= 0:
            continue
        due = _due(first_sync).values_list("pk", "next_sync_at", "sync_interval_minutes")
        for pk, next_sync_at, minutes in due[:room]:
            claim = timezone.now() + timedelta(minutes=minutes)
            if Environment.objects.filter(pk=pk, next_sync_at=next_sync_at).update(
                    next_sync_at=claim):
                lost_dispatches.publish(task, pk, claim)
                enqueued.append(pk)
    return enqueued


def _queue_of(task) -> str:
    return task.app.amqp.router.route({}, task.name)["queue"].name


def _run(task, environment_id: int, trigger: str, again: dict, **kwargs) -> dict:
    """Run the sync; re-queue what a spent budget left (`again`: the task's own arguments
    for the continuation) and retry transient failures."""
    env = Environment.objects.filter(pk=environment_id).first()
    if env is None:
        return {"environment": environment_id, "skipped": True, "reason": "deleted"}
    # In process (the demo) there is no slot to free: wait on the budget as the CLI does.
    wait = None if task.request.is_eager else budget_max_wait()
    outcome: SyncOutcome = run_sync(env, trigger=trigger, budget_wait=wait, **kwargs)
    if outcome.deferred is not None:
        continue_later(task, environment_id, outcome,
                       {**again, "streams": outcome.deferred_streams})
    transient = [r for r in outcome.runs if r.status == "failed"] and not outcome.auth_failed
    if transient and not task.request.is_eager and task.request.retries < task.max_retries \
            and outcome.deferred is None:
        # Eager mode (the demo) must not retry inline; the next tick tries again anyway.
        countdown = min(retry_backoff_cap(), 60 * 2 ** task.request.retries)
        raise task.retry(countdown=countdown)
    return {
        "environment": environment_id, "skipped": outcome.skipped, "reason": outcome.reason,
        "deferred": outcome.deferred,
        "runs": [{"stream": r.stream, "status": r.status, "created": r.created,
                  "updated": r.updated} for r in outcome.runs],
    }


def continue_later(task, environment_id: int, outcome: SyncOutcome, kwargs: dict) -> None:
    """Queue `task` again for when the token's budget has room, instead of holding this
    worker's slot while it refills: other tokens' syncs take the slot meanwhile."""
    countdown = max(1, math.ceil(outcome.deferred or 0))
    try:
        task.apply_async((environment_id,), kwargs, countdown=countdown)
    except Exception as exc:  # noqa: BLE001 - kombu, redis and socket errors alike
        # The schedule's next run picks the environment up where this one stopped.
        logger.warning("environment %s: continuation not queued (%s)", environment_id,
                       type(exc).__name__)
        return
    logger.info("environment %s: request budget spent, continues in %s s", environment_id,
                countdown)


@shared_task(name="sync.sync_environment", bind=True, acks_late=True, max_retries=3,
             ignore_result=True)
def sync_environment(self, environment_id: int, trigger: str = Trigger.SCHEDULE,
                     streams: list[str] | None = None) -> dict:
    """Sync one environment's streams (lookback window; a first sync back-fills)."""
    return _run(self, environment_id, trigger, {"trigger": trigger}, streams=streams)


@shared_task(name="sync.backfill_environment", bind=True, acks_late=True, max_retries=3,
             ignore_result=True)
def backfill_environment(self, environment_id: int, days: int | None = None,
                         full: bool = False, streams: list[str] | None = None) -> dict:
    """Back-fill `days` (default: the environment's back-fill days) on the backfill queue.

    A continuation after a spent budget is not `full`: it resumes from the cursors the
    first part saved, as the next run after a killed worker does.
    """
    return _run(self, environment_id, Trigger.BACKFILL, {"days": days, "full": False},
                backfill_days=days, full=full, streams=streams)


# With a broker, a webhook task runs at most WEBHOOK_ROUNDS rounds, then hands over to a fresh
# task (so a storm of events does not hold a worker); rounds are paced by what they cost
# (`sync.webhooks.pacing`), so events in between share one round.
WEBHOOK_ROUNDS = 3


@shared_task(name="sync.webhook_sync", bind=True, acks_late=True, max_retries=3,
             ignore_result=True)
def webhook_sync(self, environment_id: int) -> dict:
    """Talkover webhooks arrived: read what they named, and today's head (coalesced).

    Events while it is queued ride on it (`sync.webhooks.coalesce`); events that arrive while
    it reads make it run once more, so a call that ended mid-run is not left to the schedule.
    Each round takes the calls the deliveries named (`sync.webhooks.hints`); an event that
    named none makes the round refresh the hot days instead. Rounds start no sooner than the
    webhooks' share of the budget allows (`pacing`). Another run holding the environment:
    retried shortly with a broker; in process the schedule's next run reads the change.
    """
    from sync.webhooks import coalesce, pacing
    from sync.webhooks import hints as hint_store
    env = Environment.objects.filter(pk=environment_id).first()
    if env is None:
        coalesce.release(environment_id)
        return {"environment": environment_id, "skipped": True, "reason": "deleted"}
    rounds = 0
    while True:
        pause = pacing.until_next(environment_id)
        if self.request.is_eager:
            pause = min(pause, pacing.MAX_SLEEP)  # in process: nobody to hand over to
        elif pause > pacing.MAX_SLEEP:
            webhook_sync.apply_async((environment_id,), countdown=pause)
            return {"environment": environment_id, "runs": rounds, "paced": pause}
        time.sleep(pause)
        rounds += 1
        started = time.time()
        hints, blind = hint_store.take(environment_id)
        try:
            outcome = run_sync(env, streams=["calls"], trigger=Trigger.WEBHOOK,
                               budget_wait=None if self.request.is_eager else budget_max_wait(),
                               hints=None if blind else hints)
        except Exception:
            coalesce.release(environment_id)  # the next event may queue again
            raise
        pacing.record(env, started, outcome)
        if outcome.deferred is not None or outcome.skipped:
            for hint in hints:  # not read: the next round reads them
                hint_store.push(environment_id, hint)
            if blind:
                hint_store.push(environment_id, None)
        if outcome.deferred is not None:
            continue_later(self, environment_id, outcome, {})
            break  # the continuation owns the queued mark
        if outcome.skipped:
            if outcome.unavailable or self.request.is_eager \
                    or self.request.retries >= self.max_retries:
                coalesce.release(environment_id)
                break
            raise self.retry(countdown=5)
        coalesce.release(environment_id)
        if not coalesce.event_since(environment_id, started):
            break  # no event since this round began reading
        if not coalesce.claim(environment_id):
            break  # a newer event queued its own task
        if rounds >= WEBHOOK_ROUNDS and not self.request.is_eager:
            webhook_sync.apply_async((environment_id,),
                                     countdown=max(1.0, pacing.until_next(environment_id)))
            break  # the fresh task owns the queued mark
    return {"environment": environment_id, "skipped": outcome.skipped,
            "reason": outcome.reason, "runs": rounds}


@shared_task(name="sync.register_webhooks", ignore_result=True)
def register_webhooks(environment_id: int, base_url: str) -> dict:
    """Register the environment's hook URL (under `base_url`) on every upstream agent."""
    from sync.webhooks.register import register

    env = Environment.objects.filter(pk=environment_id).first()
    if env is None:
        return {"environment": environment_id, "skipped": True}
    return register(env, base_url).as_dict()


@shared_task(name="sync.maintain_partitions", ignore_result=True)
def maintain_partitions() -> dict:
    """Daily: call partitions for the months ahead, organisations' pending retention moves,
    and the months a retention tier no longer keeps dropped whole (PostgreSQL); then, on
    every database, the transcripts, recording links and numbers older than an owner's
    per-kind retention anonymised in place (`sync.privacy.retention`)."""
    from sync.partitions.retention import maintain
    from sync.privacy.retention import apply_retention

    done = maintain()
    done["personal_data"] = apply_retention()
    return done


@shared_task(name="sync.apply_call_retention", ignore_result=True)
def apply_call_retention(organization_id: int) -> dict:
    """An organisation's retention changed: move its calls to the new tier, drop what the
    new tier no longer keeps (the daily maintenance finishes a move that had to wait)."""
    from sync.partitions.retention import apply

    return apply(organization_id)


@shared_task(name="sync.resettle_excluded_numbers", ignore_result=True)
def resettle_excluded_numbers(organization_id: int, numbers: list[str]) -> dict:
    """An organisation's list of numbers left out of resolution changed for these digits:
    their calls' flag, next contacts and outcome days anew (`sync.excluded_numbers`)."""
    from sync.excluded_numbers import resettle

    return {"organization": organization_id, "calls": resettle(organization_id, numbers)}
