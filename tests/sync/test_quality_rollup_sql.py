"""The voice-quality rollup is one `INSERT … SELECT` (`sync.write.quality_rollups`): its rows
are those the per-call Python loop it replaced wrote, figure by figure — written again here as
the reference — over a synced Origins mirror and over calls at the edges (latencies on and
around the histogram's bounds and past the last, empty and missing values, test calls, calls
either side of a local midnight)."""
from __future__ import annotations

import bisect
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from portal.models import Provider
from sync.engine import sync_environment
from sync.models import Call, QualityDayRollup
from sync.models.quality import LATENCY_BUCKET_COUNT, LATENCY_BUCKETS
from sync.write.quality_rollups import refresh_quality
from tests.support.factories import make_call
from tests.support.origins import origins_env
from tests.support.sync_support import served, small_config

pytestmark = pytest.mark.django_db(transaction=True)

MAPS = {"hangup_sources": "hangup_source", "hangup_causes": "hangup_cause",
        "sentiments": "sentiment", "insights": "insight"}


def python_rollup(env, days) -> dict:
    """The loop the statement replaced: every call of the days read and counted in Python."""
    tz = env.organization.tzinfo
    rows: dict = {}
    for call in Call.objects.filter(environment=env, is_testing=False):
        day = call.started_at.astimezone(tz).date()
        if day not in days:
            continue
        row = rows.setdefault((day, call.agent_external_id), {
            "calls": 0, "latency_calls": 0, "latency_hist": [0] * LATENCY_BUCKET_COUNT,
            "latency_max": 0, "billed_calls": 0, "billed_seconds": 0.0,
            **{name: {} for name in MAPS}})
        row["calls"] += 1
        if call.latency_ms is not None:
            row["latency_calls"] += 1
            row["latency_hist"][bisect.bisect_left(LATENCY_BUCKETS, call.latency_ms)] += 1
            row["latency_max"] = max(row["latency_max"], call.latency_ms)
        if call.billed_duration is not None:
            row["billed_calls"] += 1
            row["billed_seconds"] += call.billed_duration
        for name, column in MAPS.items():
            value = getattr(call, column)
            if value:
                row[name][value] = row[name].get(value, 0) + 1
    return rows


def stored(env) -> dict:
    return {(r.day, r.agent_external_id): {
        "calls": r.calls, "latency_calls": r.latency_calls, "latency_hist": r.latency_hist,
        "latency_max": r.latency_max, "billed_calls": r.billed_calls,
        "billed_seconds": pytest.approx(r.billed_seconds),
        **{name: getattr(r, name) for name in MAPS}}
        for r in QualityDayRollup.objects.filter(environment=env)}


def test_a_synced_mirror_rolls_up_as_the_python_loop_did(org_a):
    with served(small_config()) as (sim, server):
        env = origins_env(org_a, sim, server)
        outcome = sync_environment(env, now=sim.now)
        assert not outcome.failed, [r.error for r in outcome.runs]
    days = set(QualityDayRollup.objects.filter(environment=env).values_list("day", flat=True))
    assert len(days) > 3
    assert stored(env) == python_rollup(env, days)


def test_edge_calls_roll_up_as_the_python_loop_did(org_a):
    from portal.models import Environment

    org_a.timezone = "America/Sao_Paulo"
    org_a.save()
    env = Environment.objects.create(organization=org_a, name="O", provider=Provider.ORIGINS,
                                     provider_settings={"agent_ids": [7]})
    tz = ZoneInfo("America/Sao_Paulo")
    midnight = datetime(2026, 3, 5, tzinfo=tz)
    latencies = [None, 0, 1, 99, 100, 101, 2000, 2001, 2500, 9999, 10000, 10001, 250000]
    values = ["", "", "agent", "caller", "CALLER", "é ünïcode", "x" * 30]
    n = 0
    for i, latency in enumerate(latencies):
        for offset in (timedelta(seconds=-1), timedelta(0), timedelta(hours=5)):
            n += 1
            make_call(env, None, n, started_at=midnight + offset, latency_ms=latency,
                      agent_external_id=f"ag-{i % 3}", is_testing=n % 11 == 0,
                      billed_duration=None if n % 4 == 0 else n * 7.25,
                      hangup_source=values[n % len(values)],
                      hangup_cause=values[(n + 1) % len(values)],
                      sentiment=values[(n + 2) % len(values)],
                      insight=values[(n + 3) % len(values)])
    days = {midnight.date() - timedelta(days=1), midnight.date()}
    written = refresh_quality(env, days)
    assert written == len(stored(env)) == 6  # three agents, two days
    assert stored(env) == python_rollup(env, days)
    # Refreshing again replaces the rows (never adds to them).
    assert refresh_quality(env, days) == written
    assert stored(env) == python_rollup(env, days)
