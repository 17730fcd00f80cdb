"""Webhook rounds within a share of the budget: Talkover's rate-limit headers (sent by the
simulator, obeyed by the budget), the webhooks' share, rounds paced by their cost, a
delivery's call id as a hint of what to read, and "last synced" moved by a webhook run."""
from __future__ import annotations

import dataclasses
import json
import time
from datetime import UTC, datetime, timedelta

import pytest
import requests

from portal.models import Environment
from reports.queries.freshness import freshness
from sync.budget import BudgetExhausted, RequestBudget
from sync.engine import sync_environment
from sync.models import Call, SyncRun
from sync.models.core import Trigger
from sync.providers.talkover.webhook import signature
from sync.simulator import EnvironmentSpec, SimulatorConfig
from sync.simulator.catalog import WEEKDAY_FACTOR
from sync.webhooks import pacing
from tests.support.sync_support import ENV, point_env, served, small_config


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def test_the_simulator_sends_talkovers_rate_limit_on_every_answer():
    with served(small_config(days=1, calls_per_day=5), ratelimit=7) as (sim, server):
        auth = {"Authorization": f"Bearer {sim.tokens[ENV]}"}
        seen = []
        for _ in range(3):
            resp = requests.get(f"{server.talkover_url}/agents", headers=auth, timeout=10)
            seen.append((resp.headers["X-RateLimit-Limit"], resp.headers["X-RateLimit-Remaining"]))
            reset = int(resp.headers["X-RateLimit-Reset"])
            assert time.time() < reset <= time.time() + 61
        assert seen == [("7", "6"), ("7", "5"), ("7", "4")]


def test_the_budget_obeys_the_upstreams_headers(db):
    clock = Clock()
    budget = RequestBudget("talq_x", 10, clock=clock, sleep=lambda s: None, max_wait=1.0)
    # Nearly spent upstream, reset in 30 s (seconds form): nobody asks until then.
    budget.observe({"X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "1",
                    "X-RateLimit-Reset": "30"})
    with pytest.raises(BudgetExhausted) as spent:
        budget.acquire()
    assert 29 <= spent.value.wait <= 31
    # The epoch form says the same; with room left the budget's own limit applies.
    budget.observe({"X-RateLimit-Limit": "3", "X-RateLimit-Remaining": "50",
                    "X-RateLimit-Reset": str(int(clock.now) + 30)})
    # A plan lower than ours (3 a window) becomes ours.
    for _ in range(3):
        budget.acquire()
    with pytest.raises(BudgetExhausted):
        budget.acquire()


def test_webhook_rounds_spend_only_their_share(db):
    clock = Clock()
    whole = RequestBudget("talq_y", 10, clock=clock, sleep=lambda s: None, max_wait=0.5)
    hook = whole.share(0.4, "hook")
    for _ in range(4):
        hook.acquire()
    with pytest.raises(BudgetExhausted):
        hook.acquire()
    assert hook.room_in() > 0
    for _ in range(6):  # the schedule keeps the rest
        whole.acquire()
    with pytest.raises(BudgetExhausted):
        whole.acquire()


def test_rounds_are_paced_by_what_they_cost(db):
    env = Environment(requests_per_minute=90)
    # 40 % of 90 a minute, at the budget's steady rate (120 of every 122 buckets): about 0.59
    # requests a second.
    assert pacing.gap(env, 0) == pacing.MIN_ROUND_SECONDS
    assert pacing.gap(env, 2) == pytest.approx(2 / (36 * 120 / 122 / 60))
    assert pacing.gap(env, 10) > 5 * pacing.gap(env, 2) - 0.01  # busier rounds, wider apart


def _busy_now() -> SimulatorConfig:
    """Today's calls (our date), the upstream's clock at 12:00 UTC whatever the hour the suite
    runs at, and the workspace's business-hours peak then (UTC+2: 14:00 local). With the
    upstream's clock on the wall's, the test had to skip itself for the first 15 minutes of
    every UTC day; the sync reads the upstream's day by its answers, not by our hour."""
    today = datetime.now(UTC).date()
    # A weekday's volume whatever the day: on a Sunday the simulator's day holds 0.45 of it,
    # and its busy hour had too few calls that ended (a test of the day it ran on).
    calls = round(3000 * max(WEEKDAY_FACTOR) / WEEKDAY_FACTOR[today.weekday()])
    config = small_config(days=1, calls_per_day=calls, end_date=today,
                          now=datetime(today.year, today.month, today.day, 12, tzinfo=UTC))
    spec = EnvironmentSpec("talkover", utc_offset_hours=2)
    return dataclasses.replace(config, environments={**config.environments, ENV: spec})


def _ended_calls(sim, count: int):
    """(clock before, calls of today open then and ended a little before now)."""
    now = sim.now_ts()
    before = now - 900
    with sim.lock:
        recs = sim.talkover_store(ENV).day(sim.today.toordinal()).recs
        ended = [r for r in recs if r.t_ans >= 0 and r.t0 + 5 < before < r.t_end - 5
                 and r.t_end <= now - 5]
    assert len(ended) >= count, "the busy hour has calls that ended"
    return before, ended[:count]


def _deliver(client, env, body: bytes):
    sign = signature(env.get_webhook_secret(), body)
    return client.post(f"/hooks/talkover/{env.ensure_webhook_key()}/", data=body,
                       content_type="application/json",
                       headers={"X-Talkover-Signature": f"sha256={sign}"})


def test_a_named_call_is_read_by_what_its_delivery_names(org_a, client, eager_tasks):
    with served(_busy_now()) as (sim, server):
        before, recs = _ended_calls(sim, 3)
        sim.set_now(datetime.fromtimestamp(before, UTC))
        env = point_env(org_a, sim, server, backfill_days=1)
        assert not sync_environment(env).failed
        env.new_webhook_secret()
        env.save()
        Environment.objects.filter(pk=env.pk).update(
            last_synced_at=datetime.now(UTC) - timedelta(hours=3))
        assert freshness([Environment.objects.get(pk=env.pk)])[0].stale
        sim.set_now(datetime.fromtimestamp(max(r.t_end for r in recs) + 1, UTC))

        costs = []
        for rec in recs:
            body = json.dumps({"event": "event_phone_call_ended",
                               "call": {"id": rec.id, "sid": rec.sid}}).encode()
            cache_clear_pacing(env)
            assert _deliver(client, env, body).status_code == 202
            run = SyncRun.objects.filter(environment=env, trigger=Trigger.WEBHOOK).latest("pk")
            assert run.status == "succeeded", run.error
            assert Call.objects.get(environment=env, external_id=rec.id).status == rec.final
            costs.append(run.requests)
            assert "calls named" in str(run.details.get("hinted"))
        # A hinted round: today's head and the named call where it sits, no status listings.
        assert max(costs) <= 3, costs
        # A delivery that names nothing refreshes the hot days: it costs the status listings.
        cache_clear_pacing(env)
        assert _deliver(client, env, b'{"event":"event_phone_call_ended"}').status_code == 202
        blind = SyncRun.objects.filter(environment=env, trigger=Trigger.WEBHOOK).latest("pk")
        assert "hinted" not in blind.details and blind.status == "succeeded"
        # Webhook runs are syncs: "last synced" and the freshness chip moved.
        env.refresh_from_db()
        assert not freshness([env])[0].stale
        assert datetime.now(UTC) - env.last_synced_at < timedelta(minutes=1)


def cache_clear_pacing(env: Environment) -> None:
    """Each delivery of the test is its own round (pacing would make the next wait)."""
    from django.core.cache import cache

    cache.delete(f"sync:hook:next:{env.pk}")
