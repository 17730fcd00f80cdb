"""Fair scheduling at fleet scale: queues per kind of work, the longest-due environments
dispatched first in bounded batches, and a spent request budget that frees the worker.

The fleet itself (several worker hosts, 200 environments, a killed worker) is
`tests/e2e/test_e2e_fleet.py`; these pin each rule on its own, in process.
"""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from portal.schedule import BEAT_SCHEDULE
from sync import tasks
from sync.budget import BudgetExhausted, RequestBudget
from sync.engine import sync_environment
from sync.models import Call, SyncRun
from sync.models.core import RunStatus
from tests.support.cast import make_env
from tests.support.sync_support import mirror_diff, point_env, served, small_config

# Syncs write from the prefetching thread too: committed data, as in production.
sync_db = pytest.mark.django_db(transaction=True)

TOKEN = "talq_fairfairfairfairfairfairfairfairfair01"


class FakeTime:
    def __init__(self, start: float = 1_000_000.1) -> None:
        self.now = start
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.mark.django_db  # the cache (budget tickets) is cleared around database tests
def test_a_spent_budget_says_when_it_has_room_instead_of_sleeping_past_max_wait():
    t = FakeTime(1_000_000.05)  # the middle of a bucket
    # 12-second window: buckets of 0.1 s; the window plus the margin bucket is 12.1 s, and
    # the tickets' bucket leaves the count 12.2 s after it began.
    budget = RequestBudget(TOKEN, limit=4, window=12, clock=t.clock, sleep=t.sleep,
                           max_wait=2.0)
    for _ in range(4):
        assert budget.acquire() == 0
    assert budget.room_in() == pytest.approx(12.15)
    with pytest.raises(BudgetExhausted) as spent:
        budget.acquire()
    assert spent.value.wait == pytest.approx(12.15) and not t.slept
    t.now += 10.5  # shortly before the room: a short wait is still slept
    assert 0 < budget.room_in() <= 2.0
    assert 0 < budget.acquire() <= 2.1 and 0 < sum(t.slept) <= 2.1
    other = RequestBudget("talq_another", limit=4, window=12, clock=t.clock, max_wait=0)
    assert other.room_in() == 0 and other.acquire() == 0, "each token has its own budget"


@pytest.mark.django_db
def test_without_max_wait_the_budget_waits_as_before():
    t = FakeTime(2_000_000.1)
    budget = RequestBudget(TOKEN, limit=2, window=12, clock=t.clock, sleep=t.sleep)
    budget.acquire()
    budget.acquire()
    assert budget.acquire() >= 12


def _record_dispatched(monkeypatch) -> list[tuple[str, int]]:
    sent: list[tuple[str, int]] = []
    for task in (tasks.sync_environment, tasks.backfill_environment):
        monkeypatch.setattr(task, "apply_async",
                            lambda args, task_id, _t=task: sent.append((_t.name, args[0])))
    return sent


@pytest.mark.django_db
def test_dispatch_takes_the_longest_due_first_in_bounded_batches_per_queue(org_a, monkeypatch,
                                                                          settings):
    settings.SYNC_DISPATCH_BATCH = 2
    now = timezone.now()
    synced = [make_env(org_a, f"synced {i}", TOKEN, last_synced_at=now,
                       next_sync_at=now - timedelta(minutes=m)) for i, m in enumerate([1, 9, 5])]
    # Five new environments (never synced: back-fills) must not take the syncs' turn.
    fresh = [make_env(org_a, f"new {i}", TOKEN) for i in range(5)]
    sent = _record_dispatched(monkeypatch)
    tasks.dispatch()
    assert sent == [("sync.sync_environment", synced[1].pk),
                    ("sync.sync_environment", synced[2].pk),
                    ("sync.backfill_environment", fresh[0].pk),
                    ("sync.backfill_environment", fresh[1].pk)]
    sent.clear()
    tasks.dispatch()  # the next tick: those left, oldest first; nobody starves
    assert sent == [("sync.sync_environment", synced[0].pk),
                    ("sync.backfill_environment", fresh[2].pk),
                    ("sync.backfill_environment", fresh[3].pk)]


@pytest.mark.django_db
@pytest.mark.skipif(not settings.CELERY_BROKER_URL.startswith("redis"),
                    reason="counts the messages waiting in the real broker (Redis)")
def test_dispatch_adds_only_what_the_queue_has_room_for(org_a, settings):
    import redis

    settings.SYNC_DISPATCH_BATCH = 3
    conf = tasks.dispatch.app.conf
    before, conf.task_always_eager = conf.task_always_eager, False
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    waiting = broker.llen("backfill")
    fresh = [make_env(org_a, f"new {i}", TOKEN) for i in range(5)]
    try:
        assert tasks.dispatch() == [e.pk for e in fresh[:3 - waiting]]
        assert tasks.queued("backfill") == max(3, waiting)
        assert tasks.dispatch() == [], "the queue is full: nothing more until workers drain it"
        broker.rpop("backfill", 3 - waiting)  # a worker took them
        assert tasks.dispatch() == [e.pk for e in fresh[3 - waiting:5 - waiting]]
    finally:
        conf.task_always_eager = before
        broker.rpop("backfill", broker.llen("backfill") - waiting)
        broker.close()


def test_queues_per_kind_of_work():
    from portal.celery import app  # the project's app: another test may have made its own current

    router = app.amqp.router
    queue = {name: router.route({}, name)["queue"].name for name in (
        "sync.dispatch", "sync.sync_environment", "sync.webhook_sync",
        "sync.backfill_environment", "reports.send_due_summaries", "reports.evaluate_alerts")}
    assert queue == {"sync.dispatch": "sync", "sync.sync_environment": "sync",
                     "sync.webhook_sync": "sync", "sync.backfill_environment": "backfill",
                     "reports.send_due_summaries": "email", "reports.evaluate_alerts": "alerts"}
    for name, entry in BEAT_SCHEDULE.items():  # the beat names the queue its task routes to
        assert entry["options"]["queue"] == router.route({}, entry["task"])["queue"].name, name
    assert 0 < BEAT_SCHEDULE["sync-dispatch"]["options"]["expires"] < \
        BEAT_SCHEDULE["sync-dispatch"]["schedule"]


@sync_db
def test_a_spent_budget_defers_the_run_and_the_continuation_converges(org_a, settings):
    settings.SYNC_BUDGET_WINDOW = 60.0
    with served(small_config(days=3, calls_per_day=200)) as (sim, server):
        env = point_env(org_a, sim, server, requests_per_minute=4)
        outcome = sync_environment(env, now=sim.now, budget_wait=1.0)
        # Room once the window and its margin bucket have passed: at most 14 five-second buckets.
        assert outcome.deferred is not None and 30 < outcome.deferred <= 70
        deferred = outcome.runs[-1]
        assert deferred.status == RunStatus.DEFERRED and deferred.finished_at
        assert outcome.deferred_streams[0] == deferred.stream
        assert "continues on a free worker from" in " ".join(deferred.warnings)
        assert len(server.request_log) <= 4, "no more requests than the window allows"
        env.refresh_from_db()
        assert env.last_synced_at is None, "a deferred sync is not a finished one"
        written = Call.objects.filter(environment=env).count()

        # The budget is spent: the continuation finds no room and starts no run, and the
        # schedule waits for it (no second back-fill is dispatched meanwhile).
        type(env).objects.filter(pk=env.pk).update(next_sync_at=None)
        again = sync_environment(env, now=sim.now, budget_wait=1.0,
                                 streams=outcome.deferred_streams)
        assert again.skipped and again.deferred and not again.runs
        assert again.reason == "request budget spent"
        env.refresh_from_db()
        # Due again only once the wait and one stale interval have passed (were the
        # continuation lost with its worker): never a sync interval later.
        assert env.next_sync_at > timezone.now() + timedelta(seconds=again.deferred)
        assert env.next_sync_at <= timezone.now() + timedelta(
            seconds=again.deferred + settings.SYNC_STALE_HEARTBEAT_SECONDS)
        assert env.last_synced_at is None

        # A fresh window (here: a larger budget) and the continuation ends the mirror.
        type(env).objects.filter(pk=env.pk).update(requests_per_minute=100000)
        env.refresh_from_db()
        done = sync_environment(env, now=sim.now, budget_wait=1.0,
                                streams=outcome.deferred_streams)
        assert done.deferred is None and not done.failed
        assert Call.objects.filter(environment=env).count() >= written
        assert mirror_diff(env, sim) == []
        env.refresh_from_db()
        assert env.last_synced_at is not None
        assert SyncRun.objects.filter(environment=env, status=RunStatus.RUNNING).count() == 0


def _short_budget_capturing_requeues(task, settings, monkeypatch) -> list[tuple]:
    """A one-minute budget window, waits of at most a second, and `task`'s re-queues kept
    as (args, kwargs, countdown) instead of sent."""
    settings.SYNC_BUDGET_WINDOW = 60.0
    settings.SYNC_BUDGET_MAX_WAIT = 1.0
    queued: list[tuple] = []
    monkeypatch.setattr(task, "apply_async", lambda args, kwargs, countdown: queued.append(
        (args, kwargs, countdown)))
    return queued


def _run_as_worker(task, *args, **kwargs):
    """Run `task` as a worker would (not eager), so it may re-queue itself."""
    task.push_request(is_eager=False, retries=0)
    try:
        return task.run(*args, **kwargs)
    finally:
        task.pop_request()


@sync_db
def test_a_worker_task_requeues_the_rest_with_a_countdown(org_a, settings, monkeypatch):
    """The task frees its slot: it queues itself again for when the budget has room, with
    the streams left and `full` off (the continuation resumes from the saved cursors)."""
    task = tasks.backfill_environment
    queued = _short_budget_capturing_requeues(task, settings, monkeypatch)
    with served(small_config(days=3, calls_per_day=200)) as (sim, server):
        env = point_env(org_a, sim, server, requests_per_minute=4)
        result = _run_as_worker(task, env.pk, days=3, full=True)
    assert result["deferred"] and not result["skipped"]
    [(args, kwargs, countdown)] = queued
    assert args == (env.pk,) and kwargs["full"] is False and kwargs["days"] == 3
    assert kwargs["streams"] and 30 <= countdown <= 70
    assert SyncRun.objects.get(environment=env, stream=kwargs["streams"][0]).status == \
        RunStatus.DEFERRED


@sync_db
def test_a_webhook_sync_on_a_spent_budget_hands_over_to_a_later_task(org_a, settings,
                                                                      monkeypatch):
    from django.core.cache import cache

    from sync.webhooks.coalesce import queued_key

    task = tasks.webhook_sync
    handed = _short_budget_capturing_requeues(task, settings, monkeypatch)
    with served() as (sim, server):
        env = point_env(org_a, sim, server, requests_per_minute=1)
        RequestBudget(env.get_token(), 1, window=60).acquire()  # another run spent it
        cache.add(queued_key(env.pk), 1, timeout=120)  # what the receiver set
        _run_as_worker(task, env.pk)
        assert server.request_count == 0
    [(args, kwargs, countdown)] = handed
    assert args == (env.pk,) and kwargs == {} and countdown >= 30
    assert cache.get(queued_key(env.pk)), "the later task owns the queued mark"
