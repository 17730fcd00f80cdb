"""End to end, as production runs: the simulator upstream, gunicorn, Celery workers and beat
started from the Procfile as real processes on PostgreSQL and Redis.

An organisation, environment and API token are created with the CLI; the scheduled sync
(beat -> sync.dispatch -> sync.backfill_environment, as the environment never synced) mirrors
the upstream, seen through the REST API served by gunicorn; the worker is SIGKILLed in the
middle of the back-fill, a new one is started, and the mirror converges to the simulator's
ground truth exactly.

The recovery timings are scaled down through the same environment variables an operator has
(README, Production): the dead worker's message is redelivered after CELERY_VISIBILITY_TIMEOUT
seconds (production: 6 h) and its environment lock frees after SYNC_STALE_HEARTBEAT_SECONDS
(production: 45 s); everything else is the production configuration.
"""
from __future__ import annotations

import json
import signal
from datetime import UTC, datetime, timedelta

import pytest
import requests

from tests.support.processes import (
    Upstream,
    free_port,
    needs_services,
    procfile,
    production_stack,
    wait_for,
)

pytestmark = [pytest.mark.e2e, needs_services]

TOKEN = "talq_e2e0123456789abcdef0123456789abcdef01"
SEED, DAYS, CALLS_PER_DAY = 7, 6, 150


def test_scheduled_sync_mirrors_upstream_and_survives_a_killed_worker(tmp_path):
    end = datetime.now(UTC).date() - timedelta(days=1)
    upstream = Upstream(SEED, DAYS, CALLS_PER_DAY, end, TOKEN)
    expected_calls = upstream.call_count()
    web_port = free_port()
    commands = procfile()

    with production_stack(
        "e2e", tmp_path, BIND=f"127.0.0.1:{web_port}", WEB_CONCURRENCY="1",
        SYNC_CONCURRENCY="2", CELERY_VISIBILITY_TIMEOUT="12", CELERY_UNACKED_RESTORE_INTERVAL="1",
        # Batches of a page: a kill finds some committed and some not.
        SYNC_STALE_HEARTBEAT_SECONDS="4", SYNC_BATCH_ROWS="100",
    ) as stack:
        procs, mirror = stack.procs, stack.mirror
        # Every upstream request is slowed so the back-fill lasts long enough to kill it.
        sim_port = stack.simulator(upstream, "--faults", "slow=1:0.3")
        # The first sync is a back-fill, dispatched to the `backfill` queue. The Procfile's
        # separate back-fill, email and alerts workers are left out (the machine running
        # the test has few cores): this one worker also consumes their queues.
        commands["worker"] = commands["worker"].replace(
            "--queues sync", "--queues sync,email,alerts,backfill")
        assert "backfill" in commands["worker"]
        for name in ("web", "worker"):
            procs.start(name, ["sh", "-c", commands[name]])

        # The operator's set-up, with the CLI.
        stack.manage("createorg", "e2e", "--name", "E2E Voice", "--timezone",
               "America/Sao_Paulo")
        stack.manage("addmember", "e2e", "ops", "--role", "owner", "--email",
               "ops@example.com", "--password-stdin", stdin="ops-password-123\n")
        env_id = stack.add_talkover("e2e", sim_port, TOKEN)
        api_token = stack.manage("issuetoken", "ops", "--name", "e2e").strip()
        # What an operator sets in the admin: the simulator holds DAYS days (+ today).
        mirror.conn.execute(
            "UPDATE portal_environment SET backfill_days = %s, requests_per_minute = 6000 "
            "WHERE id = %s", (DAYS + 1, env_id))

        api = requests.Session()
        api.headers["Authorization"] = f"Bearer {api_token}"
        base = f"http://127.0.0.1:{web_port}"
        wait_for(lambda: api.get(f"{base}/readyz", timeout=5).ok, 60, "gunicorn ready")
        detail = api.get(f"{base}/api/v1/environments/{env_id}/", timeout=10).json()
        assert detail["last_synced_at"] is None and TOKEN not in json.dumps(detail)

        # Beat's first tick dispatches the due environment; the worker back-fills it.
        procs.start("beat", ["sh", "-c", commands["beat"]])
        wait_for(lambda: (mirror.running_calls_pages(env_id) or 0) >= 2, 60,
                 "the back-fill to be under way")
        procs.stop("worker", signal.SIGKILL, timeout=10)
        killed_at = mirror.calls(env_id)
        assert 0 < killed_at < expected_calls, "killed in the middle of the back-fill"

        procs.start("worker2", ["sh", "-c", commands["worker"]])
        wait_for(lambda: api.get(f"{base}/api/v1/environments/{env_id}/",
                                 timeout=10).json()["last_synced_at"], 75,
                 "the resumed sync to finish")
        assert mirror.calls(env_id) == expected_calls
        assert mirror.value("SELECT count(*) FROM sync_syncrun WHERE environment_id = %s "
                            "AND error LIKE 'worker stopped: no heartbeat%%'", env_id) >= 1
        _assert_api_agrees(api, base, env_id, expected_calls)

        stack.assert_mirror_is(env_id, upstream)

        for name in ("beat", "worker2", "web", "simulator"):
            procs.stop(name, signal.SIGTERM, timeout=15)
        assert "Releasing lock" in procs.log("beat")
        task_lines = [json.loads(line) for line in procs.log("worker2").splitlines()
                      if line.startswith("{") and '"sync.backfill_environment"' in line]
        assert any(r.get("environment_id") == env_id and r.get("organization_id")
                   and r.get("request_id") for r in task_lines), "sync lines carry ids"
        assert TOKEN not in "".join(procs.log(n) for n in ("web", "worker2", "beat"))


def _assert_api_agrees(api: requests.Session, base: str, env_id: int, expected: int) -> None:
    """The mirror as the REST API serves it: freshness, and the Talkover-compatible call
    listing where this build has it (its envelope's total is the upstream's)."""
    detail = api.get(f"{base}/api/v1/environments/{env_id}/", timeout=10).json()
    assert detail["status"] == "active" and detail["last_synced_at"]
    listing = api.get(f"{base}/api/v1/environments/{env_id}/calls",
                      params={"per_page": 1}, timeout=10)
    if listing.status_code != 404:
        assert listing.status_code == 200, listing.text
        assert listing.json()["pagination"]["total"] == expected
