"""Celery tasks and concurrency: dispatch, one sync per environment, killed workers, budget."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta

import pytest
import redis
from django.conf import settings
from django.db import connection, connections
from django.utils import timezone

from portal.models import Environment, EnvironmentStatus
from sync import tasks
from sync.budget import RequestBudget
from sync.engine import sync_environment
from sync.models import Call, SyncRun
from sync.models.core import RunStatus
from sync.providers.talkover.client import TalkoverClient
from tests.support.processes import production_env, scratch_redis
from tests.support.sync_support import ENV, mirror_diff, point_env, served, small_config

pytestmark = pytest.mark.django_db(transaction=True)



@pytest.fixture(autouse=True)
def _eager_celery():
    """Tasks run in process here, as in the demo: no broker message may outlive a test."""
    conf = tasks.dispatch.app.conf
    before = conf.task_always_eager
    conf.task_always_eager = True
    yield
    conf.task_always_eager = before


def test_dispatch_enqueues_due_environments_only(org_a, org_b):
    with served() as (sim, server):
        due = point_env(org_a, sim, server, "due")
        later = point_env(org_a, sim, server, "later",
                          next_sync_at=timezone.now() + timedelta(minutes=5))
        broken = point_env(org_b, sim, server, "broken", status=EnvironmentStatus.AUTH_FAILED)
        off = point_env(org_b, sim, server, "off", sync_enabled=False)
        enqueued = tasks.dispatch()  # eager: the syncs run right here
        assert enqueued == [due.pk]
        # Never synced: its first run is the back-fill task (see the routing test below).
        assert SyncRun.objects.filter(environment=due, trigger="backfill").count() == 3
        for env in (later, broken, off):
            assert not SyncRun.objects.filter(environment=env).exists()
        due.refresh_from_db()
        assert due.next_sync_at > timezone.now() + timedelta(minutes=14)
        assert tasks.dispatch() == [], "not due again until its interval has passed"


def _queued_by_dispatch(monkeypatch) -> list[tuple[str, str, int]]:
    """Run dispatch with what it queues recorded: (task name, routed queue, env id)."""
    sent: list[tuple[str, str, int]] = []
    router = tasks.dispatch.app.amqp.router
    for task in (tasks.sync_environment, tasks.backfill_environment):
        monkeypatch.setattr(task, "apply_async", lambda args, task_id, _t=task: sent.append(
            (_t.name, router.route({}, _t.name)["queue"].name, args[0])))
    tasks.dispatch()
    return sent


def test_dispatch_sends_never_synced_environments_to_the_backfill_queue(org_a, env_a,
                                                                        monkeypatch):
    fresh = env_a
    old = point_env_row(org_a, "synced before", last_synced_at=timezone.now())
    sent = _queued_by_dispatch(monkeypatch)
    assert sorted(sent) == sorted([("sync.backfill_environment", "backfill", fresh.pk),
                                   ("sync.sync_environment", "sync", old.pk)])


def test_sync_environment_called_directly_still_backfills_a_new_environment(org_a):
    # The task syncs up to the real clock: the simulator's data ends today.
    with served(small_config(end_date=timezone.now().date())) as (sim, server):
        env = point_env(org_a, sim, server)
        tasks.sync_environment.delay(env.pk)
        assert mirror_diff(env, sim) == []
        assert SyncRun.objects.filter(environment=env, trigger="schedule").count() == 3


@pytest.mark.skipif(not os.environ.get("REDIS_URL"),
                    reason="inspects the real broker's queues (Redis)")
def test_dispatch_routing_lands_in_the_redis_queues(org_a, env_a):
    import redis

    conf = tasks.dispatch.app.conf
    conf.task_always_eager = False  # restored by the autouse fixture
    broker = redis.Redis.from_url(os.environ["REDIS_URL"])
    old = point_env_row(org_a, "synced before", last_synced_at=timezone.now())
    before = {q: broker.llen(q) for q in ("backfill", "sync")}
    try:
        assert sorted(tasks.dispatch()) == sorted([env_a.pk, old.pk])
        assert broker.llen("backfill") == before["backfill"] + 1
        assert broker.llen("sync") == before["sync"] + 1
        assert b"sync.backfill_environment" in broker.lindex("backfill", 0)
        assert b"sync.sync_environment" in broker.lindex("sync", 0)
    finally:
        broker.lpop("backfill")
        broker.lpop("sync")


def point_env_row(org, name: str, **fields):
    """An environment with a token and no upstream behind it (nothing runs it here)."""
    from tests.support.cast import make_env

    return make_env(org, name, "talq_" + "0" * 40, **fields)


def test_stale_running_runs_are_swept_by_dispatch(org_a, env_a):
    stale = SyncRun.objects.create(environment=env_a, stream="calls",
                                   heartbeat_at=timezone.now() - timedelta(hours=1))
    fresh = SyncRun.objects.create(environment=env_a, stream="agents")
    assert tasks.fail_stale_runs() == 1
    stale.refresh_from_db()
    fresh.refresh_from_db()
    assert stale.status == RunStatus.FAILED
    assert stale.error.startswith("worker stopped: no heartbeat since ")
    assert fresh.status == RunStatus.RUNNING


def test_tasks_ack_late_and_retry_below_the_visibility_timeout():
    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    assert 0 < tasks.retry_backoff_cap() < visibility
    for task in (tasks.sync_environment, tasks.backfill_environment):
        assert task.acks_late and task.max_retries
    assert tasks.sync_environment.name == "sync.sync_environment"
    assert tasks.backfill_environment.name == "sync.backfill_environment"


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs Redis")
def test_a_worker_killed_holding_the_requeue_lock_blocks_requeues_briefly(tmp_path):
    """Workers requeue a dead worker's tasks under one Redis lock; a worker SIGKILLed while
    holding it leaves it to expire. kombu's 300 s would stop every requeue for five minutes
    after a 25 s visibility timeout (the fleet test's): the expiry is a fifth of it."""
    code = (
        "import os, signal, django\n"
        "django.setup()\n"
        "from kombu.transport.redis import Mutex\n"
        "from portal.celery import app\n"
        "with app.connection_for_read() as conn:\n"
        "    channel = conn.default_channel\n"
        "    qos = channel.qos\n"
        "    with Mutex(channel.client, qos.unacked_mutex_key, qos.unacked_mutex_expire):\n"
        "        print(qos.unacked_mutex_key, flush=True)\n"
        "        os.kill(os.getpid(), signal.SIGKILL)\n")
    with scratch_redis() as redis_url:
        env = production_env(os.environ.get("DATABASE_URL", ""), redis_url, tmp_path,
                             CELERY_VISIBILITY_TIMEOUT="25",
                             DJANGO_SETTINGS_MODULE="portal.settings")
        done = subprocess.run([sys.executable, "-c", code], env=env, cwd=settings.BASE_DIR,
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == -signal.SIGKILL, done.stderr
        key = done.stdout.strip()
        client = redis.Redis.from_url(redis_url)
        try:
            assert 0 < client.pttl(key) <= 5000  # held by no one, for 5 s at most
        finally:
            client.close()


def test_two_concurrent_syncs_one_runs_one_skips(org_a):
    with served(spec="slow=1.0:0.3,only=/api/v1/calls") as (sim, server):
        env = point_env(org_a, sim, server, backfill_days=2)
        results: list[dict] = []

        def work() -> None:
            try:
                results.append(tasks.sync_environment(env.pk, trigger="manual"))
            finally:
                connections.close_all()

        threads = [threading.Thread(target=work) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert sorted(r["skipped"] for r in results) == [False, True]
        skipped = next(r for r in results if r["skipped"])
        assert "another sync" in skipped["reason"]
        assert SyncRun.objects.filter(environment=env).count() == 3


def test_killed_worker_is_marked_failed_and_next_run_converges(org_a):
    """A `manage.py sync` killed with SIGKILL keeps its lock until its heartbeat is stale:
    meanwhile the next `manage.py sync` is skipped, exits 75 (EX_TEMPFAIL, not 0: a script
    tells it from "done") with one line saying until when the dead run holds the environment,
    and leaves the environment due by then; once the heartbeat is stale, the next sync fails
    the dead run, takes the environment over and converges."""
    config = small_config(days=3, calls_per_day=250, end_date=None)
    with served(config, spec="slow=1.0:0.15,only=/api/v1/calls") as (sim, server):
        env = point_env(org_a, sim, server)
        db = connection.settings_dict
        # Batches of one page, so the kill finds some committed and some not.
        child_env = {**os.environ, "SYNC_BATCH_ROWS": "100",
                     "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/"
                                     f"{db['NAME']}"}
        command = [sys.executable, "manage.py", "sync", "--env", str(env.pk), "--no-progress"]
        child = subprocess.Popen(command, env=child_env, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 30
            while Call.objects.filter(environment=env).count() < 150:
                assert time.monotonic() < deadline and child.poll() is None
                time.sleep(0.05)
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait(10)
        partial = Call.objects.filter(environment=env).count()
        assert 0 < partial < sim.truth.call_count(ENV)

        # Heartbeat recent (the default threshold, 45 s): skipped, with why and until when.
        Environment.objects.filter(pk=env.pk).update(
            next_sync_at=timezone.now() + timedelta(hours=1))
        again = subprocess.run(command, env=child_env, capture_output=True, text=True,
                               timeout=60)
        dead = SyncRun.objects.get(environment=env, stream="calls", trigger="manual")
        assert dead.status == RunStatus.RUNNING
        until = dead.heartbeat_at + timedelta(seconds=settings.SYNC_STALE_HEARTBEAT_SECONDS)
        assert again.returncode == 75, again.stderr
        line = (f"skipped: another sync of this environment holds it until it ends, or until "
                f"{until:%Y-%m-%d %H:%M:%S} UTC if it stops beating (last heartbeat ")
        assert [x for x in again.stderr.splitlines() if "skipped" in x] == [
            next(x for x in again.stderr.splitlines() if line in x)], again.stderr
        # The skip left the environment due when the dead run's hold ends, not an hour out.
        env.refresh_from_db()
        assert env.next_sync_at == until

        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(settings, "SYNC_STALE_HEARTBEAT_SECONDS", 2)
            deadline = time.monotonic() + 30
            while SyncRun.objects.get(pk=dead.pk).heartbeat_at > \
                    timezone.now() - timedelta(seconds=2.5):
                assert time.monotonic() < deadline
                time.sleep(0.1)
            outcome = sync_environment(env, now=sim.now)
        assert not outcome.skipped and not outcome.failed
        dead.refresh_from_db()
        assert dead.status == RunStatus.FAILED
        assert dead.error == f"worker stopped: no heartbeat since " \
                             f"{dead.heartbeat_at:%Y-%m-%d %H:%M:%S} UTC"
        assert mirror_diff(env, sim) == []


def test_shared_budget_holds_with_two_workers(org_a):
    """Two workers share one token's budget: the upstream's own limit never trips."""
    with served(spec="ratelimit=6:1.5") as (sim, server):
        token = sim.tokens[ENV]
        counts: list[int] = []

        def worker() -> None:
            client = TalkoverClient(server.talkover_url, token,
                                    budget=RequestBudget(token, limit=6, window=1.5))
            for _ in range(9):
                client.get("callback-agents")
            counts.append(client.requests)
            client.close()
            connections.close_all()

        start = time.monotonic()
        threads = [threading.Thread(target=worker) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        elapsed = time.monotonic() - start
        statuses = [q.status for q in server.request_log]
        assert counts == [9, 9] and statuses.count(200) == 18
        assert 429 not in statuses, "the budget let the two workers exceed the limit together"
        assert elapsed >= 2 * 1.5 * 0.9, "18 requests at 6 per 1.5 s need at least 3 windows"


def test_a_live_run_waiting_on_a_slow_answer_keeps_its_environment(org_a, settings):
    """The pulse beats while the run waits on an answer longer than the stale threshold: a
    second sync is skipped (the run is not taken for dead), and the environment's next sync
    stays one stale interval ahead (the dead-man switch) until the run ends and schedules
    it a whole interval out."""
    settings.SYNC_STALE_HEARTBEAT_SECONDS = 1  # beats every 0.25 s
    with served(small_config(days=1, calls_per_day=20),
                spec="slow=1:3,only=/api/v1/calls") as (sim, server):
        env = point_env(org_a, sim, server, backfill_days=1)
        results: list = []

        def work() -> None:
            try:
                results.append(sync_environment(env, now=sim.now))
            finally:
                connections.close_all()

        runner = threading.Thread(target=work)
        runner.start()
        try:
            deadline = time.monotonic() + 30
            while not SyncRun.objects.filter(environment=env, stream="calls").exists():
                assert time.monotonic() < deadline
                time.sleep(0.05)
            time.sleep(1.5)  # inside the first 3 s answer, past the stale threshold
            held = Environment.objects.get(pk=env.pk).next_sync_at
            now = timezone.now()
            run = SyncRun.objects.get(environment=env, stream="calls")
            second = sync_environment(Environment.objects.get(pk=env.pk), now=sim.now)
            sim.faults = ""  # the rest of the run at full speed
        finally:
            runner.join(60)
    assert second.skipped and second.held_until is not None and not second.runs
    assert run.status == RunStatus.RUNNING and run.pages == 0
    assert now - run.heartbeat_at < timedelta(seconds=1), "the pulse beat during the wait"
    assert now < held <= now + timedelta(seconds=1.5)
    (outcome,) = results
    assert not outcome.failed and not outcome.skipped
    env.refresh_from_db()
    assert env.next_sync_at > timezone.now() + timedelta(minutes=env.sync_interval_minutes - 1)
