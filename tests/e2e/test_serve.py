"""`make serve`: refuses half-configured, runs web + workers + beat, Ctrl-C stops them all;
beat cannot double-fire; every beat entry expires before its next tick."""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import redis
import requests
from celery.schedules import crontab

from portal.schedule import BEAT_SCHEDULE
from portal.serve_check import problems
from tests.support.processes import (
    ROOT,
    Processes,
    free_port,
    group_alive,
    needs_services,
    procfile,
    production_env,
    production_stack,
    scratch_redis,
    wait_for,
)

VENV = str(Path(sys.executable).parent.parent)


def run_make_serve(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["make", "--no-print-directory", "serve", f"VENV={VENV}", "STAMP="],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )


def test_make_serve_refuses_without_redis_and_says_why(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env.update(DEBUG="false", SECRET_KEY="k" * 50, FIELD_ENCRYPTION_KEYS="x",
               ALLOWED_HOSTS="portal.example.com", EMAIL_URL="smtp://mail.example.com:25",
               DATABASE_URL="postgres://postgres@127.0.0.1:5432/nothing_here")
    result = run_make_serve(env)
    assert result.returncode != 0
    assert "REDIS_URL is not set" in result.stderr
    assert "workers and beat need it" in result.stderr
    assert "migrate" not in result.stdout, "nothing may start before the check passes"


def test_serve_check_names_every_problem_at_once():
    found = problems({"DATABASE_URL": "sqlite:///x.db", "REDIS_URL": "memcached://x"})
    text = "\n".join(found)
    for name in ("SECRET_KEY", "FIELD_ENCRYPTION_KEYS", "ALLOWED_HOSTS", "EMAIL_URL"):
        assert f"{name} is not set" in text
    assert "DATABASE_URL must point at PostgreSQL" in text
    assert "REDIS_URL must be a redis://" in text
    assert "DEBUG must be false" in text
    complete = {"REDIS_URL": "redis://r:6379/0", "DATABASE_URL": "postgres://p/db",
                "SECRET_KEY": "s", "FIELD_ENCRYPTION_KEYS": "k", "ALLOWED_HOSTS": "h",
                "EMAIL_URL": "smtp://m:25", "DEBUG": "false"}
    assert problems(complete) == []


def _period_seconds(schedule: object) -> float:
    """Shortest gap between two runs of an interval or crontab schedule."""
    if isinstance(schedule, int | float | timedelta):
        return schedule.total_seconds() if isinstance(schedule, timedelta) else float(schedule)
    assert isinstance(schedule, crontab), schedule
    runs = sorted(h * 60 + m for h in schedule.hour for m in schedule.minute)
    gaps = [b - a for a, b in zip(runs, runs[1:], strict=False)] + [runs[0] + 1440 - runs[-1]]
    return min(gaps) * 60.0


def test_every_beat_entry_expires_before_its_next_tick():
    from django.conf import settings

    assert settings.CELERY_BEAT_SCHEDULE is BEAT_SCHEDULE, "portal/schedule.py is the one place"
    assert BEAT_SCHEDULE
    for name, entry in BEAT_SCHEDULE.items():
        expires = entry.get("options", {}).get("expires")
        assert expires, f"{name} has no expiry"
        assert 0 < expires < _period_seconds(entry["schedule"]), name
        assert entry["options"].get("queue"), f"{name} names no queue"


@pytest.mark.parametrize("redis_url, expected", [
    ("redis://127.0.0.1:6379/0", "portal.beat.Scheduler"),
    ("", "celery.beat:PersistentScheduler"),
])
def test_beat_uses_the_redis_lock_scheduler_only_with_redis(redis_url, expected, tmp_path):
    code = ("import django; django.setup(); from portal.celery import app; "
            "print(app.conf.beat_scheduler, app.conf.worker_prefetch_multiplier, "
            "app.conf.task_acks_late)")
    # The session's DATABASE_URL is kept: without it the settings would start an embedded
    # PostgreSQL under tmp_path for a check that reads no database.
    env = {**os.environ, "REDIS_URL": redis_url, "DJANGO_SETTINGS_MODULE": "portal.settings",
           "SWITCHBOARD_VAR_DIR": str(tmp_path)}
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [expected, "1", "True"]


def _sends(client: redis.Redis, queue: str) -> list[tuple[str, datetime]]:
    """(task, when a beat sent it) of each message on `queue`: its expiry less its entry's
    (portal/schedule.py)."""
    sends = []
    for message in client.lrange(queue, 0, -1):
        headers = json.loads(message)["headers"]
        entry = next(e for e in BEAT_SCHEDULE.values() if e["task"] == headers["task"])
        sends.append((headers["task"], datetime.fromisoformat(headers["expires"])
                      - timedelta(seconds=entry["options"]["expires"])))
    return sends


def _tick(task: str, sent: datetime, first: datetime) -> int:
    """Which of its entry's ticks a send was: a crontab's five-minute boundary (a boundary
    crossed during the test is a second, legitimate tick), an interval's count of periods
    since the first send (two sends of one tick are a loop interval apart, not a period)."""
    schedule = next(e["schedule"] for e in BEAT_SCHEDULE.values() if e["task"] == task)
    if isinstance(schedule, crontab):
        assert schedule.minute == set(range(0, 60, 5)), "a tick per five-minute boundary"
        return int(sent.timestamp() // 300)
    return round((sent - first).total_seconds() / schedule)


def _each_tick_once(client: redis.Redis, queue: str, task: str) -> None:
    """`task`, and only it, was queued on `queue`, no tick of it twice (whichever beat sent
    it, and whatever the clock's minute: no wait for a quiet one)."""
    sends = _sends(client, queue)
    assert sends and {t for t, _ in sends} == {task}, sends
    first = min(sent for _, sent in sends)
    ticks = Counter(_tick(task, sent, first) for _, sent in sends)
    assert max(ticks.values()) == 1, f"a tick sent twice: {sends}"


@needs_services
def test_two_beats_never_double_fire(tmp_path):
    beat = procfile()["beat"]
    with scratch_redis() as redis_url:
        env = production_env(os.environ["DATABASE_URL"], redis_url, tmp_path)
        procs = Processes(tmp_path, env)
        client = redis.Redis.from_url(redis_url)
        try:
            procs.start("beat-a", ["sh", "-c", beat])
            wait_for(lambda: "Acquired lock" in procs.log("beat-a"), 40, "beat A's lock")
            procs.start("beat-b", ["sh", "-c", beat])
            wait_for(lambda: "beat: Starting" in procs.log("beat-b"), 40, "beat B to start")
            # Never-run entries are due at once, but only the lock holder sends them.
            wait_for(lambda: _sends(client, "sync"), 10, "the first dispatch")
            time.sleep(6)  # more than one tick of both beats (max loop interval 5 s)
            _each_tick_once(client, "sync", "sync.dispatch")
            _each_tick_once(client, "email", "reports.send_due_summaries")
            _each_tick_once(client, "alerts", "reports.evaluate_alerts")
            assert "Acquired lock" not in procs.log("beat-b")

            # The holder stops: the stand-by takes over, and does not repeat the tick.
            procs.stop("beat-a")
            assert "Releasing lock" in procs.log("beat-a")
            wait_for(lambda: "Acquired lock" in procs.log("beat-b"), 15, "beat B to take over")
            time.sleep(2)
            for queue, task in (("sync", "sync.dispatch"),
                                ("email", "reports.send_due_summaries"),
                                ("alerts", "reports.evaluate_alerts")):
                _each_tick_once(client, queue, task)
        finally:
            procs.stop_all()
            client.close()


@pytest.mark.e2e
@needs_services
def test_make_serve_runs_everything_and_ctrl_c_stops_it_all(tmp_path):
    port = free_port()
    # A database never migrated: `make serve` migrates it before anything starts.
    with production_stack("serve", tmp_path, migrated=False, BIND=f"127.0.0.1:{port}",
                          WEB_CONCURRENCY="1", SYNC_CONCURRENCY="1", BACKFILL_CONCURRENCY="1",
                          EMAIL_CONCURRENCY="1", ALERTS_CONCURRENCY="1",
                          # Its own: collectstatic deletes and rewrites hashed files, and the
                          # suite's other tests scan the checkout's (WhiteNoise, at start).
                          STATIC_ROOT=str(tmp_path / "staticfiles")) as stack:
        procs = stack.procs
        procs.start("serve", ["make", "--no-print-directory", "serve", f"VENV={VENV}",
                              "STAMP=", f"PORT={port}"])
        ready = wait_for(lambda: requests.get(f"http://127.0.0.1:{port}/readyz",
                                              timeout=5).json(), 120, "readyz")
        assert ready["status"] == "ok" and ready["checks"]["broker"]["detail"] == "ok"
        for banner in ("sync@", "backfill@", "email@", "alerts@"):
            wait_for(lambda b=banner: re.search(rf"{b}\S+ ready", procs.log("serve")), 60,
                     f"the {banner} worker")
        wait_for(lambda: "Acquired lock" in procs.log("serve"), 30, "beat")
        log = procs.log("serve")
        pids = [int(p) for p in re.findall(r"started \(pid=(\d+)\)", log)]
        assert len(pids) == 6, log  # web, worker, backfill, email, alerts, beat
        lines = [ln.split("| ", 1)[1] for ln in log.splitlines() if "gunicorn.error" in ln]
        assert json.loads(lines[0])["level"] == "INFO", "production logs are JSON lines"

        started = time.monotonic()
        procs.send("serve", signal.SIGINT)  # what Ctrl-C in the terminal sends
        procs.running["serve"].wait(20)
        assert time.monotonic() - started < 15
        for pid in pids:  # every process group honcho started is gone (or going)
            wait_for(lambda p=pid: not group_alive(p), 5, f"process group {pid} to end")
        with pytest.raises(requests.ConnectionError):
            requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
        assert "Releasing lock" in procs.log("serve")
