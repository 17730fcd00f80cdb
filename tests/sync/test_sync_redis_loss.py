"""A sync that loses Redis mid-run ends `failed` with "cache or broker unavailable", prints
no traceback, and the next run converges. `manage.py sync` runs as a subprocess against a
redis-server of its own on a free port, stopped while the calls stream is reading."""
from __future__ import annotations

import shutil
import subprocess
import sys
import time

import pytest

from sync.models import Call, SyncRun
from sync.models.core import RunStatus
from tests.support.processes import free_port, redis_server
from tests.support.sync_support import mirror_diff, point_env, served, small_config

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server"),
]


def test_losing_redis_mid_run_fails_cleanly_and_the_next_run_converges(org_a, subprocess_env):
    port = free_port()
    config = small_config(days=3, calls_per_day=30, end_date=None)
    with served(config, spec="slow=1:0.3,only=/api/v1/calls") as (sim, server):
        env = point_env(org_a, sim, server)
        environ = {**subprocess_env, "REDIS_URL": f"redis://127.0.0.1:{port}/0"}
        command = [sys.executable, "manage.py", "sync", "--env", str(env.pk), "--no-progress"]
        with redis_server(port) as redis:
            sync = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    text=True, env=environ)
            deadline = time.monotonic() + 60
            while not any(r.path.endswith("/calls") for r in server.request_log):
                assert time.monotonic() < deadline and sync.poll() is None, "no calls read"
                time.sleep(0.02)
            redis.kill()
            redis.wait(timeout=10)
            out, err = sync.communicate(timeout=120)
        assert sync.returncode == 1, (out, err)
        assert "Traceback" not in err and "Traceback" not in out
        assert "calls: cache or broker unavailable (ConnectionError)" in err
        calls = SyncRun.objects.get(environment=env, stream="calls")
        assert calls.status == RunStatus.FAILED
        assert calls.error == "cache or broker unavailable (ConnectionError)"
        assert SyncRun.objects.get(environment=env, stream="agents").status == "succeeded"
        assert not SyncRun.objects.filter(environment=env, status=RunStatus.RUNNING).exists()
        assert Call.objects.filter(environment=env).count() < sim.truth.call_count(
            "acme-sales"), "the run stopped part-way"

        sim.faults = None
        with redis_server(port):
            again = subprocess.run(command, capture_output=True, text=True, timeout=120,
                                   env=environ)
        assert again.returncode == 0, again.stderr
        assert mirror_diff(env, sim) == []
