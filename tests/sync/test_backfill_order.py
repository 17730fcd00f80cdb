"""A back-fill reads newest first, for every provider that reads by day: today, then every
older day in turn back to the horizon, so the last 7 days are mirrored before any older one.
The order is the one the upstream saw: its request log, over real sockets."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db.models import Sum

from sync.engine import sync_environment
from sync.models import Call, CallRollup, StreamState
from tests.support.sync_support import mirror_diff, point_env, served, small_config
from tests.support.vapi import vapi_config, vapi_env

pytestmark = pytest.mark.django_db(transaction=True)

DAYS = 10


def _first_seen(days: list[date]) -> list[date]:
    """`days` in the order each first appears."""
    return list(dict.fromkeys(days))


def _newest_first(today: date) -> list[date]:
    return [today - timedelta(days=i) for i in range(DAYS)]


def test_a_talkover_back_fill_reads_today_first_then_older_days_newest_first(org_a):
    with served(small_config(days=DAYS, calls_per_day=150)) as (sim, server):
        env = point_env(org_a, sim, server)
        outcome = sync_environment(env, now=sim.now)
        assert not outcome.failed, [r.error for r in outcome.runs]
        # Whole-day reads: a day's listing of every status (the counts' `per_page=1` aside).
        read = [date.fromisoformat(q.query["date_from"]) for q in server.request_log
                if q.path.endswith("/calls") and q.query.get("per_page") == "100"
                and q.query["date_from"] == q.query["date_to"] and "status" not in q.query]
        assert _first_seen(read) == _newest_first(sim.today), read
        recent = set(_newest_first(sim.today)[:7])
        assert max(i for i, d in enumerate(read) if d in recent) \
            < min(i for i, d in enumerate(read) if d not in recent), \
            "every page of the last 7 days before any older day's"
        assert mirror_diff(env, sim) == []
        cursor = StreamState.objects.get(environment=env, stream="calls").cursor
        assert cursor["oldest"] == (sim.today - timedelta(days=DAYS - 1)).isoformat()
        assert cursor["synced_through"] == sim.today.isoformat()


def test_a_vapi_back_fill_reads_today_first_then_older_days_newest_first(org_a, settings):
    settings.VAPI_REQUESTS_PER_MINUTE = 100000
    with served(vapi_config(days=DAYS, calls_per_day=150)) as (sim, server):
        env = vapi_env(org_a, sim, server)
        outcome = sync_environment(env, now=sim.now)
        assert not outcome.failed, [r.error for r in outcome.runs]
        read = [date.fromisoformat(q.query["createdAtGe"][:10]) for q in server.request_log
                if q.path.endswith("/call") and "createdAtGe" in q.query]
        assert _first_seen(read) == _newest_first(sim.today), read


def test_a_vapi_back_fill_stopped_partway_shows_the_days_it_read(org_a, settings):
    """Each day read has its rollups with it: a back-fill stopped after a few days (the
    token revoked) leaves reports agreeing with the calls mirrored, not zeros."""
    settings.VAPI_REQUESTS_PER_MINUTE = 100000
    with served(vapi_config(days=DAYS, calls_per_day=150), revoke_after=6) as (sim, server):
        env = vapi_env(org_a, sim, server)
        outcome = sync_environment(env, now=sim.now)
        assert outcome.failed, "the revoked token stopped the back-fill"
        mirrored = Call.objects.filter(environment=env).count()
        assert mirrored > 0
        cursor = StreamState.objects.get(environment=env, stream="calls").cursor
        assert cursor.get("oldest") and cursor["oldest"] < sim.today.isoformat(), cursor
        rolled = CallRollup.objects.filter(environment=env).aggregate(n=Sum("count"))["n"]
        assert rolled == mirrored
