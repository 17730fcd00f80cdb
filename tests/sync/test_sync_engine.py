"""The sync engine against the simulator over real HTTP: exact mirror, idempotence, clock."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.db import connection

from sync.engine import sync_environment
from sync.models import Call, StreamState, SyncRun
from sync.models.core import RunStatus
from tests.support.sync_support import ENV, mirror_diff, point_env, served

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
        # Every page, and the count of the day after our today (an upstream ahead of us).
        assert calls.pages >= 6 and calls.requests == calls.pages + 1
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
        # A later sync reads only the lookback window, not the whole back-fill (nor the day
        # after our today, which the back-fill counted).
        days_read = {q.query.get("date_from", [""])[-1] for q in server.request_log
                     if q.path.endswith("/calls")}
        assert len(days_read) == sim.config.days + 1

        sim.advance(timedelta(hours=14))
        later = sync_environment(env, now=sim.now)
        assert not later.failed
        assert later.runs[1].created > 0
        assert mirror_diff(env, sim) == []
        assert SyncRun.objects.filter(environment=env).count() == 9


def test_recent_status_changes_land(org_a):
    """A call mirrored while answered is updated to its final status once the clock passes."""
    with served() as (sim, server):
        last_day = list(sim.truth.calls(ENV, sim.today, sim.today))
        line = next(t for t in (sim.truth.timeline(ENV, c["id"]) for c in last_day)
                    if t["final_status"] == "completed" and t["answered_at"]
                    and t["ended_at"] > t["answered_at"])
        sim.set_now(datetime.fromisoformat(line["answered_at"]) + timedelta(seconds=1))
        env = point_env(org_a, sim, server)
        sync_environment(env, now=sim.now)
        assert Call.objects.get(external_id=line["id"]).status == "answered"
        sim.set_now(datetime.fromisoformat(line["ended_at"]) + timedelta(hours=1))
        outcome = sync_environment(env, now=sim.now)
        assert outcome.runs[1].updated >= 1
        call = Call.objects.get(external_id=line["id"])
        assert call.status == "completed" and call.duration > 0
        assert mirror_diff(env, sim) == []


def test_environment_without_token_is_skipped_with_a_reason(org_a):
    from portal.models import Environment

    env = Environment.objects.create(organization=org_a, name="no token")
    outcome = sync_environment(env)
    assert outcome.skipped and "no token" in outcome.reason
    assert not SyncRun.objects.filter(environment=env).exists()


def test_commits_are_relaxed_during_a_run_and_restored_after(org_a, monkeypatch):
    """Pages commit without waiting for the WAL flush; the connection is given back as found."""
    from sync.run_context import RunContext

    def setting() -> str:
        with connection.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")
            return cursor.fetchone()[0]

    seen: set[str] = set()
    save_cursor = RunContext.save_cursor

    def watching(self, cursor):
        seen.add(setting())
        return save_cursor(self, cursor)

    monkeypatch.setattr(RunContext, "save_cursor", watching)
    with served() as (sim, server):
        env = point_env(org_a, sim, server)
        assert not sync_environment(env, now=sim.now, streams=["calls"]).failed
    assert seen == {"off"}
    assert setting() == "on"
