"""A Celery worker killed with SIGKILL (parent and child) in the middle of a back-fill: its
work resumes by itself, on the other worker, and the mirror ends equal to the upstream.

Nobody acts after the kill: no worker is started, no message is redelivered (the broker's
visibility timeout stays at production's 6 h), no command is run. What resumes the run is
the dead-man switch of sync/pulse.py: the dead run's lock expires and its environment falls
due one stale interval after its last heartbeat, and the beat's next tick queues the
back-fill again, which goes on from the saved cursors.

The stale interval and the dispatcher's period are scaled down (4 s and 2 s) through the
operator's variables; with production's (45 s and 60 s) the same path resumes within
45 + 60 = 105 s of the last heartbeat (`test_production_defaults_resume_within_two_minutes`).
"""
from __future__ import annotations

import signal
from datetime import UTC, datetime, timedelta

import pytest

from portal.schedule import DISPATCH_SECONDS
from tests.support.processes import (
    Upstream,
    needs_services,
    procfile,
    production_stack,
    wait_for,
)

TOKEN = "talq_dead0123456789abcdef0123456789abcdef01"
SEED, DAYS, CALLS_PER_DAY = 11, 8, 150
STALE, DISPATCH = 4, 2


def test_production_defaults_resume_within_two_minutes(settings):
    """The arithmetic the kill test scales down: a dead run's environment falls due one stale
    interval after its last heartbeat, and the next dispatch tick comes within one period."""
    assert settings.SYNC_STALE_HEARTBEAT_SECONDS == 45 and DISPATCH_SECONDS == 60
    assert settings.SYNC_STALE_HEARTBEAT_SECONDS + DISPATCH_SECONDS < 120


@pytest.mark.e2e
@needs_services
def test_a_killed_workers_backfill_resumes_by_itself(tmp_path):
    end = datetime.now(UTC).date() - timedelta(days=1)
    worker = procfile()["worker"].replace("--queues sync", "--queues sync,backfill")
    worker = worker.replace('--concurrency "${SYNC_CONCURRENCY:-4}"', "--concurrency 1")
    assert "backfill" in worker and "--concurrency 1" in worker

    upstream = Upstream(SEED, DAYS, CALLS_PER_DAY, end, TOKEN)
    with production_stack("dead", tmp_path, SYNC_STALE_HEARTBEAT_SECONDS=str(STALE),
                          SYNC_DISPATCH_SECONDS=str(DISPATCH), SYNC_BATCH_ROWS="100") as stack:
        procs, mirror = stack.procs, stack.mirror
        sim_port = stack.simulator(upstream, "--faults", "slow=1:0.4")
        stack.manage("createorg", "dead", "--name", "Dead Worker", "--timezone", "UTC")
        env_id = stack.add_talkover("dead", sim_port, TOKEN)
        mirror.conn.execute(
            "UPDATE portal_environment SET backfill_days = %s, requests_per_minute = 6000 "
            "WHERE id = %s", (DAYS + 1, env_id))
        for name in ("w1", "w2"):
            procs.start(name, ["sh", "-c", worker.replace("sync@%h", f"{name}@%h")])
        for name in ("w1", "w2"):
            wait_for(lambda n=name: " ready" in procs.log(n), 90, f"{name} ready")
        procs.start("beat", ["sh", "-c", procfile()["beat"]])

        # The back-fill is under way on one of the workers: kill that one, whole group.
        wait_for(lambda: (mirror.running_calls_pages(env_id) or 0) >= 2, 90,
                 "the back-fill to be under way")
        victim = next(n for n in ("w1", "w2")
                      if "Task sync.backfill_environment[" in procs.log(n))
        procs.stop(victim, signal.SIGKILL, timeout=10)
        killed_at = mirror.calls(env_id)
        expected = upstream.call_count()
        assert 0 < killed_at < expected, "killed in the middle of the back-fill"
        dead_beat = mirror.value(
            "SELECT max(heartbeat_at) FROM sync_syncrun WHERE environment_id = %s "
            "AND status = 'running'", env_id)

        # Nobody acts: the other worker takes the back-fill over and completes it.
        wait_for(lambda: mirror.value(
            "SELECT last_synced_at FROM portal_environment WHERE id = %s", env_id), 120,
            "the resumed back-fill to finish")
        resumed = mirror.value(
            "SELECT min(started_at) FROM sync_syncrun WHERE environment_id = %s "
            "AND started_at > %s", env_id, dead_beat)
        # Due STALE s after the last beat, queued at the next tick (DISPATCH s), started
        # by the idle worker: generous slack for a loaded machine, far below the minutes
        # a redelivery or a lock's old 5-minute life would take.
        print(f"resumed {(resumed - dead_beat).total_seconds():.1f} s after the last heartbeat")
        assert (resumed - dead_beat).total_seconds() < STALE + DISPATCH + 25
        runs = mirror.conn.execute(
            "SELECT stream, trigger, status, error FROM sync_syncrun "
            "WHERE environment_id = %s ORDER BY id", (env_id,)).fetchall()
        assert any(r[2] == "failed" and r[3].startswith("worker stopped: no heartbeat")
                   for r in runs), runs
        assert mirror.value("SELECT count(*) FROM sync_syncrun WHERE environment_id = %s "
                            "AND status = 'running'", env_id) == 0
        assert mirror.calls(env_id) == expected
        stack.assert_mirror_is(env_id, upstream)
