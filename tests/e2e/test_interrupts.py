"""Ctrl-C and SIGTERM stop any command the same way (`portal.interrupts`): one line on the
terminal, the runs the process had under way marked stopped at once (not a heartbeat
timeout later) with their environments free, and exit status 130 / 143.

`manage.py sync` is stopped mid back-fill against a simulator that answers slowly, and
`manage.py demo --serve` while its history loads on a thread beside the server; every other
command is stopped by a real signal delivered as its `handle` begins, through `manage.py`'s
own entry point.
"""
from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time

import pytest
from django.db import connection

from sync.engine import sync_environment
from sync.models import SyncRun
from sync.models.core import RunStatus
from sync.simulator.faults import Faults
from tests.support.processes import ROOT, wait_for
from tests.support.sync_support import point_env, served, small_config

pytestmark = pytest.mark.django_db(transaction=True)

EXIT = {signal.SIGINT: 130, signal.SIGTERM: 143}
SAID = {signal.SIGINT: "Ctrl-C", signal.SIGTERM: "SIGTERM"}


def _running(env_id: int) -> int:
    return SyncRun.objects.filter(environment_id=env_id, status=RunStatus.RUNNING).count()


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupted_sync_marks_its_run_stopped_and_exits_by_the_signal(
        org_a, subprocess_env, signum):
    with served(small_config(days=4, calls_per_day=300)) as (sim, server):
        env = point_env(org_a, sim, server)
        sim.faults = Faults(slow=1.0, slow_seconds=0.3, seed=1)
        proc = subprocess.Popen([sys.executable, "manage.py", "sync", "--env", str(env.pk),
                                 "--no-progress"], cwd=ROOT, env=subprocess_env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            wait_for(lambda: SyncRun.objects.filter(environment=env, stream="calls",
                                                    status=RunStatus.RUNNING).exists(),
                     60, "the calls back-fill under way")
            proc.send_signal(signum)
            out, err = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
        assert proc.returncode == EXIT[signum], err
        assert err.splitlines() == [f"Stopped by {SAID[signum]}: 1 sync run marked stopped."]
        assert "Traceback" not in out
        assert _running(env.pk) == 0
        run = SyncRun.objects.get(environment=env, stream="calls")
        assert run.status == RunStatus.FAILED
        assert run.error == f"stopped by {SAID[signum]} before it ended"
        # The environment is free at once: the next run is not skipped, and completes.
        sim.faults = Faults()
        outcome = sync_environment(env, now=sim.now)
        assert not outcome.skipped and not outcome.failed, outcome.reason


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _statements_in_flight() -> int:
    """Statements other clients (the demo's) are running on this test's database now."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                       " AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
                       " AND state = 'active'")
        return cursor.fetchone()[0]


def test_ctrl_c_on_the_demo_stops_its_history_loading_at_once(subprocess_env, tmp_path):
    env = {**subprocess_env, "SWITCHBOARD_VAR_DIR": str(tmp_path), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "manage.py", "demo", "--serve",
                             f"127.0.0.1:{_free_port()}"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen: list[int] = []  # the runs found running while it was frozen

    def frozen_mid_run() -> bool:
        """The demo frozen (SIGSTOP) while one of its runs runs (a run lasts under a second:
        unfrozen, one seen running would mostly have ended before Ctrl-C landed). A
        statement it sent before it froze still ends on the server (the run's last status:
        CI saw it once), so the runs are read once none is in flight; otherwise it goes on,
        and the wait with it."""
        proc.send_signal(signal.SIGSTOP)
        settled = time.monotonic() + 2  # one answer it no longer reads holds its statement
        while _statements_in_flight() and time.monotonic() < settled:
            time.sleep(0.02)
        if not _statements_in_flight():
            seen[:] = SyncRun.objects.filter(status=RunStatus.RUNNING).values_list(
                "pk", flat=True)
            if seen:
                return True
        proc.send_signal(signal.SIGCONT)
        return False

    try:
        wait_for(frozen_mid_run, 180, "the demo's back-fill under way")
        proc.send_signal(signal.SIGINT)  # pending until it runs again
        proc.send_signal(signal.SIGCONT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 130, out + err
    assert not SyncRun.objects.filter(status=RunStatus.RUNNING).exists()
    said = out.splitlines()[-1]
    if said == "Stopped by Ctrl-C.":
        # Resumed, the history's thread may run first: frozen after a run's last page, it
        # ends that run before the server's thread takes the signal, and then nothing is
        # under way to stop. Right, and said so: the run ended by itself, not stopped.
        ended = SyncRun.objects.filter(pk__in=seen)
        assert len(seen) == ended.count() and not ended.filter(
            error__startswith="stopped by").exists(), out
        return
    assert said.startswith("Stopped by Ctrl-C: ") and said.endswith(" marked stopped."), out
    assert SyncRun.objects.filter(error="stopped by Ctrl-C before it ended").exists()


# Each command's `handle` is replaced by one that sends this process the signal (which
# interrupts its wait at once); `manage.main()` runs the command line as the shell would.
SIGNALLED = """
import gc, os, signal, sys, time
gc.disable()  # as manage.py starts Django (portal/startup_gc.py turns it on again)
import django
name, signum = sys.argv[1], int(sys.argv[2])
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
django.setup()
from django.core.management import load_command_class, get_commands
command = load_command_class(get_commands()[name], name)
def handle(self, *args, **options):
    os.kill(os.getpid(), signum)
    time.sleep(30)
    raise SystemExit("the signal did not stop the command")
type(command).handle = handle
type(command).add_arguments = lambda self, parser: None  # no FILE or ID to give
import manage
sys.argv = ["manage.py", name]
manage.main()
"""

EVERY = ("backup", "restore", "send_summaries", "evaluate_alerts", "erase_caller",
         "call_partitions", "webhooks", "createorg", "addenv", "rotate_keys",
         "simulate_upstream", "sync", "demo")


def test_every_command_stops_the_same_way(subprocess_env):
    for i, name in enumerate(EVERY):
        signum = (signal.SIGINT, signal.SIGTERM)[i % 2]
        done = subprocess.run([sys.executable, "-c", SIGNALLED, name, str(int(signum))],
                              cwd=ROOT, env=subprocess_env, capture_output=True, text=True,
                              timeout=60)
        assert done.returncode == EXIT[signum], (name, done.stderr)
        assert done.stderr.splitlines() == [f"Stopped by {SAID[signum]}."], (name, done.stderr)
