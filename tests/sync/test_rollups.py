"""Rollup answers equal the same figures computed straight from raw `Call` rows.

Random ranges and filters over a random data set; run on PostgreSQL.
"""
from __future__ import annotations

import dataclasses
import math
import random
from datetime import date, timedelta

import pytest

from reports.queries import calls_summary
from sync.models import Call, CallRollup
from sync.models.core import ANSWERED_STATUSES
from sync.write.rollups import bucket_of, local_day_bounds, refresh_rollups
from tests.support.factories import make_agents, make_calls

START, END = date(2026, 1, 1), date(2026, 3, 31)


def raw_figures(env, start: date, end: date, *, agents=None, direction=None, status=None,
                include_testing=False) -> dict:
    tz = env.organization.tzinfo
    qs = Call.objects.filter(environment=env, started_at__gte=local_day_bounds(start, tz)[0],
                             started_at__lt=local_day_bounds(end, tz)[1])
    if agents:
        qs = qs.filter(agent_external_id__in=agents)
    if direction:
        qs = qs.filter(direction=direction)
    if status:
        qs = qs.filter(status__in=status)
    if not include_testing:
        qs = qs.filter(is_testing=False)
    calls = list(qs.values("status", "direction", "duration", "started_at"))
    talk = sorted(c["duration"] for c in calls if c["status"] in ANSWERED_STATUSES)
    per_day: dict[date, int] = {}
    for c in calls:
        day = c["started_at"].astimezone(tz).date()
        per_day[day] = per_day.get(day, 0) + 1

    def nearest_rank(fraction: float) -> int | None:
        return talk[math.ceil(fraction * len(talk)) - 1] if talk else None

    return {
        "total": len(calls),
        "answered": len(talk),
        "failed": sum(c["status"] == "failed" for c in calls),
        "busy": sum(c["status"] == "busy" for c in calls),
        "no_answer": sum(c["status"] == "no-answer" for c in calls),
        "inbound": sum(c["direction"] == "inbound" for c in calls),
        "talk_time_total": sum(talk),
        "duration_max": max(talk) if talk else None,
        "median": nearest_rank(0.5),
        "p90": nearest_rank(0.9),
        "per_day": per_day,
    }


@pytest.fixture
def dataset(env_a):
    agents = make_agents(env_a, 4)
    make_calls(env_a, 3000, START, END, seed=42, agents=agents, testing_share=0.08)
    return agents


def test_rollups_equal_raw_for_random_ranges_and_filters(env_a, dataset):
    rng = random.Random(7)
    agent_ids = [a.external_id for a in dataset]
    for _ in range(25):
        start = START + timedelta(days=rng.randrange(0, 80))
        end = start + timedelta(days=rng.randrange(0, 40))
        filters = {
            "agents": rng.choice([None, rng.sample(agent_ids, rng.randint(1, 3))]),
            "direction": rng.choice([None, "inbound", "outbound"]),
            "status": rng.choice([None, ["completed"], ["failed", "busy", "answered"]]),
            "include_testing": rng.random() < 0.3,
        }
        expected = raw_figures(env_a, start, end, **filters)
        s = calls_summary([env_a], start, end, agent_ids=filters["agents"],
                          direction=filters["direction"], status=filters["status"],
                          include_testing=filters["include_testing"])
        t = s.totals
        got = {"total": t.total, "answered": t.answered, "failed": t.failed, "busy": t.busy,
               "no_answer": t.no_answer, "inbound": t.inbound,
               "talk_time_total": t.talk_time_total, "duration_max": t.duration_max}
        assert got == {k: expected[k] for k in got}, (start, end, filters)
        # Days outside the mirrored window have no figure (None), never a zero.
        assert {p.start: p.figures.total for p in s.series
                if p.figures is not None and p.figures.total} == expected["per_day"]
        for mine, exact in ((t.duration_median, expected["median"]),
                            (t.duration_p90, expected["p90"])):
            if exact is None:
                assert mine is None
            else:
                assert bucket_of(mine) == bucket_of(exact), (mine, exact, filters)


def test_refresh_is_idempotent_and_follows_changes(env_a, dataset):
    day = START + timedelta(days=10)
    before = calls_summary([env_a], day, day).totals
    refresh_rollups(env_a, [day])
    refresh_rollups(env_a, [day])
    assert calls_summary([env_a], day, day).totals == before
    tz = env_a.organization.tzinfo
    first, after = local_day_bounds(day, tz)
    changed = Call.objects.filter(environment=env_a, started_at__gte=first, started_at__lt=after,
                                  status="failed", is_testing=False).update(status="completed",
                                                                            duration=60)
    refresh_rollups(env_a, [day])
    now = calls_summary([env_a], day, day).totals
    assert now.answered == before.answered + changed
    assert changed > 0
    assert not CallRollup.objects.filter(environment=env_a, day=day, status="failed",
                                         is_testing=False).exists()


def test_agent_day_rollups_answer_exactly_like_the_finer_rollups(env_a, dataset):
    """Summaries without a status filter read AgentDayRollup; naming every status forces the
    finer CallRollup rows. Every figure, series point, agent row and heatmap cell must agree
    (the data set has no call without a known status)."""
    from sync.models import AgentDayRollup
    from sync.models.core import CallStatus

    assert AgentDayRollup.objects.filter(environment=env_a).exists()
    rng = random.Random(11)
    agent_ids = [a.external_id for a in dataset]
    for _ in range(12):
        start = START + timedelta(days=rng.randrange(0, 80))
        end = start + timedelta(days=rng.randrange(0, 40))
        options = {"agent_ids": rng.choice([None, rng.sample(agent_ids, 2)]),
                   "direction": rng.choice([None, "inbound", "outbound"]),
                   "include_testing": rng.random() < 0.5, "interval": rng.choice(["day", "week"])}
        coarse = calls_summary([env_a], start, end, **options)
        fine = calls_summary([env_a], start, end, status=list(CallStatus.values), **options)
        assert coarse.totals.total > 0
        assert dataclasses.replace(fine, filters=coarse.filters) == coarse, (start, end, options)


def test_refresh_keeps_both_rollup_levels_in_step(env_a, dataset):
    from sync.models import AgentDayRollup

    day = START + timedelta(days=20)
    tz = env_a.organization.tzinfo
    first, after = local_day_bounds(day, tz)
    deleted, _ = Call.objects.filter(environment=env_a, started_at__gte=first,
                                     started_at__lt=after).delete()
    assert deleted > 0
    refresh_rollups(env_a, [day])
    assert not CallRollup.objects.filter(environment=env_a, day=day).exists()
    assert not AgentDayRollup.objects.filter(environment=env_a, day=day).exists()
    assert calls_summary([env_a], day, day).totals.total == 0
