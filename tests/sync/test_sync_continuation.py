"""A sync continued window after window on a tight request budget: every window moves it on.

A run that spends the token's budget is deferred and continued (`sync/tasks.py`); the
continuation starts from the cursor the run saved. A day with more pages than a budget window
allows must resume where the stopped read was, not start again at page 1, and a hot day
(the UTC days within the settling horizon: two of them just after midnight) that the
back-fill had not reached yet is read whole from there too, not rediscovered from its head
each time: otherwise the continuation spends every window on the same pages and never ends.
"""
from __future__ import annotations

import time
from datetime import timedelta

import pytest

from sync.engine import sync_environment
from sync.models import SyncRun
from tests.support.sync_support import mirror_diff, point_env, served, small_config

sync_db = pytest.mark.django_db(transaction=True)

LIMIT, WINDOW = 5, 0.5


@sync_db
def test_a_back_fill_continued_on_a_small_budget_ends_exact_with_two_hot_days(org_a, settings):
    settings.SYNC_BUDGET_WINDOW = WINDOW
    with served(small_config(days=3, calls_per_day=500)) as (sim, server):
        sim.advance(timedelta(minutes=50))  # 00:50 the next day: two hot UTC days
        env = point_env(org_a, sim, server, requests_per_minute=LIMIT, backfill_days=4)
        pages = sum(-(-len(list(sim.truth.calls("acme-sales", d, d))) // 100)
                    for d in (sim.today - timedelta(days=i) for i in range(4)))
        streams, runs = None, 0
        while True:
            outcome = sync_environment(env, now=sim.now, budget_wait=WINDOW / 12, streams=streams)
            runs += not outcome.skipped
            if outcome.deferred is None and not outcome.skipped:
                break
            # Each continuation: every window a bit further on, new calls at today's head.
            assert runs <= pages, "the continuations do not move the sync on"
            sim.advance(timedelta(seconds=20))
            streams = outcome.deferred_streams
            time.sleep(max(0.01, outcome.deferred or 0))
        assert runs >= 4, "the budget deferred the back-fill several times"
        assert mirror_diff(env, sim) == []
        requests = sum(SyncRun.objects.filter(environment=env).values_list("requests", flat=True))
        # Each day's pages about once (a resumed read re-reads no page), plus each run's own
        # checks: agents, the hot days' heads and status listings, the callback days.
        assert requests <= pages + 30, (requests, pages)
