"""The sync engine against the simulator over real HTTP: exact mirror, idempotence, clock."""
from __future__ import annotations

from datetime import timedelta

import pytest

from sync.engine import sync_environment
from sync.models import Call, RunStatus, StreamState, SyncRun
from tests.sync_support import ENV, mirror_diff, point_env, served

pytestmark = pytest.mark.django_db(transaction=True)


def test_backfill_mirror_equals_ground_truth(org_a):
    with served() as (sim, server):
        env = point_env(org_a, sim, server)
        outcome = sync_environment(env, now=sim.now)
        assert not outcome.failed, [r.error for r in outcome.runs]
        assert [r.stream for r in outcome.runs] == ["agents", "calls", "callback_days"]
        assert mirror_diff(env, sim) == []
        calls = outcome.runs[1]
        assert calls.created == sim.truth.call_count(ENV) == Call.objects.count()
        assert calls.updated == 0 and calls.status == RunStatus.SUCCEEDED
        assert calls.pages >= 6 and calls.requests == calls.pages
        env.refresh_from_db()
        assert env.data_version > 0 and env.last_synced_at and env.next_sync_at
        cursor = StreamState.objects.get(environment=env, stream="calls").cursor
        assert cursor["synced_through"] == sim.today.isoformat()


def test_second_sync_creates_nothing_and_clock_move_converges(org_a):
    with served() as (sim, server):
        env = point_env(org_a, sim, server)
        sync_environment(env, now=sim.now)
        version = env.data_version
        again = sync_environment(env, now=sim.now)
        assert sum(r.created + r.updated for r in again.runs) == 0
        assert again.runs[1].unchanged > 0
        env.refresh_from_db()
        assert env.data_version == version, "an unchanged sync must keep report caches"
        # A later sync reads only the lookback window, not the whole back-fill.
        days_read = {q.query.get("date_from", [""])[-1] for q in server.request_log
                     if q.path.endswith("/calls")}
        assert len(days_read) == sim.config.days

        sim.advance(timedelta(hours=14))
        later = sync_environment(env, now=sim.now)
        assert not later.failed
        assert later.runs[1].created > 0
        assert mirror_diff(env, sim) == []
        assert SyncRun.objects.filter(environment=env).count() == 9


def test_recent_status_changes_land(org_a):
    """Calls caught ringing or answered are updated when the clock moves on."""
    with served() as (sim, server):
        sim.set_now(sim.now - timedelta(hours=10))
        env = point_env(org_a, sim, server)
        sync_environment(env, now=sim.now)
        moving = Call.objects.filter(environment=env, status__in=["ringing", "answered",
                                                                 "initiated"]).count()
        sim.advance(timedelta(hours=2))
        outcome = sync_environment(env, now=sim.now)
        assert outcome.runs[1].updated >= 1 or moving == 0
        assert mirror_diff(env, sim) == []
