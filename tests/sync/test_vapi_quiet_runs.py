"""A Vapi sync pays for change, not for history: with nothing new upstream a run costs two
requests (the assistants, and one `updatedAt` listing that answers nothing changed), and the
read position moves forward from what the upstream answered — also when today's first answer
was empty (our clock a little ahead of the upstream's day) and when the "anything changed?"
read began with a full answer and ended with an empty one. `VAPI_REQUESTS_PER_MINUTE` is
read from the environment. Request counts are the simulator's own log."""
from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta

import pytest

from sync.engine import sync_environment
from sync.models import StreamState
from sync.providers.vapi.window import UPDATED, instant_of
from sync.simulator import running_simulator
from tests.support.processes import ROOT
from tests.support.vapi import upstream_calls, vapi_config, vapi_env

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _unpaced(settings):
    settings.VAPI_REQUESTS_PER_MINUTE = 100000


def _since(env) -> str:
    return StreamState.objects.get(environment=env, stream="calls").cursor["since"]


@pytest.mark.parametrize("ahead", [timedelta(0), timedelta(seconds=1)],
                         ids=["today-answers", "today-empty"])
def test_a_quiet_run_costs_two_requests_and_the_position_moves_forward(org_a, ahead):
    # More calls than one answer holds (1,600): the first "anything changed?" read after an
    # empty first answer begins full, is read through in windows and ends empty.
    with running_simulator(vapi_config(days=4, calls_per_day=400)) as (sim, server):
        env = vapi_env(org_a, sim, server)
        now = sim.now + ahead  # one second ahead: a new UTC day by our clock, empty upstream
        outcome = sync_environment(env, now=now)
        assert not outcome.failed, [r.error for r in outcome.runs]
        latest = max(instant_of(c, UPDATED) for c in upstream_calls(
            sim, server, sim.start_date, sim.today).values())
        assert _since(env) == latest.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        for minutes in (15, 30):
            server.clear_log()
            outcome = sync_environment(env, now=now + timedelta(minutes=minutes))
            assert not outcome.failed, [r.error for r in outcome.runs]
            assert len(server.request_log) <= 2, [(r.path, r.query) for r in server.request_log]
            assert sum(r.created + r.updated for r in outcome.runs) == 0


def test_vapi_requests_per_minute_is_read_from_the_environment(subprocess_env):
    code = ("import django; django.setup(); from sync.providers.vapi.spec import pace; "
            "print(pace())")
    env = {**subprocess_env, "VAPI_REQUESTS_PER_MINUTE": "17",
           "DJANGO_SETTINGS_MODULE": "portal.settings"}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, text=True,
                          capture_output=True, timeout=60)
    assert done.stdout.strip() == "17", done.stderr
    assert os.environ.get("VAPI_REQUESTS_PER_MINUTE") != "17"
