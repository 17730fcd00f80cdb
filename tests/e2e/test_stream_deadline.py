"""A slow upstream cannot hold a sync: every stream has a total deadline.

The simulator answers every calls listing after a pause (`--faults
slow=1:S,only=/api/v1/calls`: a page every S seconds, each well within its own answer
deadline), and the stream's deadline is set short (`SYNC_STREAM_DEADLINE_SECONDS`). Through
`manage.py sync` and through a Celery worker's back-fill, the run ends failed with one line
naming the stream and what it read, the mirror keeps what was written, the lock is released,
and the next run continues from there until the mirror equals the upstream.
"""
from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from tests.support.processes import (
    ROOT,
    Upstream,
    manage,
    needs_services,
    procfile,
    production_stack,
    wait_for,
)

TOKEN = "talq_slow0123456789abcdef0123456789abcdef01"
SEED, DAYS, CALLS_PER_DAY = 17, 12, 300
# Only the calls listing is slow, so the agents stream (a listing and each agent's pricing)
# ends well within the deadline however loaded the machine; the calls' back-fill (about
# three pages a day, 36 and more) needs far more than two runs' deadlines, and a run goes
# further than what a continuation reads again first (the lookback's days: about 5 pages).
PAGE_SECONDS, DEADLINE = "0.5", "8"


@pytest.mark.e2e
@needs_services
def test_a_page_every_few_seconds_stops_at_the_streams_deadline(tmp_path):
    end = datetime.now(UTC).date() - timedelta(days=1)
    upstream = Upstream(SEED, DAYS, CALLS_PER_DAY, end, TOKEN)
    # Batches of a page (100 rows): every page read is written with its cursor, so each run
    # keeps what it read before its deadline, however few pages a loaded machine gets in.
    with production_stack("slow", tmp_path, SYNC_STREAM_DEADLINE_SECONDS=DEADLINE,
                          SYNC_DISPATCH_SECONDS="2", SYNC_BATCH_ROWS="100") as stack:
        mirror = stack.mirror
        port = stack.simulator(upstream, "--faults",
                               f"slow=1:{PAGE_SECONDS},only=/api/v1/calls")
        stack.manage("createorg", "slow", "--name", "Slow", "--timezone", "UTC")
        env_id = stack.add_talkover("slow", port, TOKEN)
        mirror.conn.execute("UPDATE portal_environment SET backfill_days = %s, "
                            "requests_per_minute = 6000 WHERE id = %s", (DAYS + 1, env_id))

        # manage.py sync: one line naming the stream and what it read, exit 1.
        cli = subprocess.run([sys.executable, "manage.py", "sync", "--env", str(env_id),
                              "--no-progress"], cwd=ROOT, env=stack.env, capture_output=True,
                             text=True, timeout=120)
        assert cli.returncode == 1, cli.stderr
        said = [line for line in cli.stderr.splitlines() if not line.startswith("{")]  # not logs
        lines = [line for line in said if "deadline" in line]
        assert len(lines) == 1, cli.stderr
        assert lines[0].startswith("Sales / calls: calls: stopped at the stream's deadline "
                                   f"of {DEADLINE} s"), lines[0]
        assert "page(s)" in lines[0] and "record(s) read" in lines[0]
        assert "Traceback" not in cli.stderr
        after_cli = mirror.calls(env_id)
        assert 0 < after_cli < upstream.call_count(), "what was written is kept"
        assert mirror.value("SELECT count(*) FROM sync_syncrun WHERE environment_id = %s "
                            "AND status = 'running'", env_id) == 0

        # A Celery worker's back-fill: the same deadline, and it goes on from the cursor.
        mirror.conn.execute("UPDATE portal_environment SET next_sync_at = NULL WHERE id = %s",
                            (env_id,))
        worker = procfile()["worker"].replace("--queues sync", "--queues sync,backfill")
        stack.procs.start("worker", ["sh", "-c", worker])
        wait_for(lambda: " ready" in stack.procs.log("worker"), 90, "the worker ready")
        stack.procs.start("beat", ["sh", "-c", procfile()["beat"]])
        error = wait_for(lambda: mirror.value(
            "SELECT error FROM sync_syncrun WHERE environment_id = %s AND trigger = 'backfill' "
            "AND status = 'failed' AND stream = 'calls'", env_id), 120,
            "the worker's back-fill to stop at the deadline")
        assert error.startswith(f"calls: stopped at the stream's deadline of {DEADLINE} s")
        stack.procs.stop("beat")
        stack.procs.stop("worker")
        after_worker = mirror.calls(env_id)
        assert after_cli < after_worker, "the worker's run continued where the command stopped"

        # The lock is free and the cursors hold: with time enough, the next run completes.
        manage({**stack.env, "SYNC_STREAM_DEADLINE_SECONDS": "600"}, "sync", "--env",
               str(env_id), "--no-progress")
        stack.assert_mirror_is(env_id, upstream)
