"""Webhooks during an environment's first back-fill: once today is mirrored, a call that ends
shows without waiting for the back-fill to end, whether the back-fill's run holds the
environment (it serves the deliveries' hints between its pages) or waits between its runs on
a spent budget (a webhook round runs on the webhooks' share, which the back-fill leaves
free while deliveries come). Before today is in, a delivery is answered 202 and queues
nothing. The token's budget holds throughout: the simulator's rate limit never answers 429.
"""
from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import pytest
import time_machine
from django.test import Client

from portal.models import Environment
from sync.engine import sync_environment
from sync.models import Call, StreamState, SyncRun
from sync.models.core import Trigger
from sync.providers.talkover.webhook import signature
from sync.webhooks import hints
from tests.support.sync_support import ENV, point_env, served, small_config

pytestmark = pytest.mark.django_db(transaction=True)

# A budget window short enough for a test, long enough that a loaded machine's requests do
# not refill it while a run reads; the simulator's plan is the same, so one more is a 429.
# The back-fill's part of it while deliveries come (60 %) must hold a continuation's refresh
# of today (about 7 requests, not resumable).
LIMIT, WINDOW = 20, 3.0


def _config(days: int, calls_per_day: int):
    """Our today at 12:00 upstream: webhook rounds run on the real clock's date."""
    today = datetime.now(UTC).date()
    return small_config(days=days, calls_per_day=calls_per_day, end_date=today,
                        now=datetime(today.year, today.month, today.day, 12, tzinfo=UTC))


def _ending_call(sim):
    """A call of today, answered, that lasts a while and had ended by noon; the simulator's
    clock is set to just after it began."""
    now = sim.now_ts()
    with sim.lock:
        recs = sim.talkover_store(ENV).day(sim.today.toordinal()).recs
        rec = next(r for r in recs if r.t_ans >= 0 and r.t0 + 5 < r.t_end <= now - 5)
    sim.set_now(datetime.fromtimestamp(rec.t0 + 2, UTC))
    return rec


def _today_in(env: Environment) -> bool:
    """The calls window has an end: the back-fill, newest first, has read today."""
    cursor = StreamState.objects.filter(environment=env, stream="calls").values_list(
        "cursor", flat=True).first() or {}
    return bool(cursor.get("read_through"))


def _deliver(env: Environment, call_id: str) -> str:
    """Talkover's delivery for a call that ended, signed; the receiver's answer."""
    body = json.dumps({"event": "event_phone_call_ended", "call_id": call_id,
                       "at": time.time()}).encode()
    answer = Client().post(f"/hooks/talkover/{env.ensure_webhook_key()}/", data=body,
                           content_type="application/json", headers={
                               "X-Talkover-Signature": signature(env.get_webhook_secret(),
                                                                 body)})
    assert answer.status_code == 202, answer.content
    return answer.json()["detail"]


def _hook_runs(env: Environment) -> list[str]:
    return list(SyncRun.objects.filter(environment=env, trigger=Trigger.WEBHOOK)
                .values_list("status", flat=True))


def _within_the_plan(server) -> None:
    log = [r for r in server.request_log if r.path.startswith("/api/")]
    assert not [r for r in log if r.status == 429], "the budget let the plan be exceeded"
    served_at = [r.at for r in log]
    worst = max(sum(1 for t in served_at if a <= t < a + WINDOW) for a in served_at)
    assert worst <= LIMIT, worst


def test_between_the_back_fills_runs_a_delivery_is_read_on_the_webhooks_share(
        org_a, settings, eager_tasks):
    settings.SYNC_BUDGET_WINDOW = WINDOW
    with served(_config(days=3, calls_per_day=200), ratelimit=LIMIT,
                ratelimit_window=WINDOW) as (sim, server):
        rec = _ending_call(sim)
        env = point_env(org_a, sim, server, requests_per_minute=LIMIT)
        env.first_webhook_secret()
        # Before the back-fill has read today: answered, nothing queued.
        assert "does not sync on webhooks now" in _deliver(env, rec.id)
        assert not hints.take(env.pk) != ([], False) and _hook_runs(env) == []
        while not _today_in(env):
            outcome = sync_environment(env, now=sim.now, budget_wait=WINDOW / 12)
            assert outcome.deferred is not None, "the back-fill ended before today was in"
            time.sleep(outcome.deferred)
        # Today is in, the back-fill goes on (deferred on the spent budget) and the call ends:
        # its delivery is read at once (a webhook round in process), not at the back-fill's end.
        sim.set_now(datetime.fromtimestamp(rec.t_end + 1, UTC))
        assert "queued" in _deliver(env, rec.id)
        assert Call.objects.get(environment=env, external_id=rec.id).status == rec.final
        assert _hook_runs(env) == ["succeeded"]
        env.refresh_from_db()
        assert env.last_synced_at is None, "the back-fill's end is the first sync"
        # The back-fill goes on, leaving the webhooks' share free: within the plan throughout.
        for _ in range(40):
            outcome = sync_environment(env, now=sim.now, budget_wait=WINDOW / 12)
            if outcome.deferred is None:
                break
            time.sleep(outcome.deferred)
        assert not outcome.failed and outcome.deferred is None
        _within_the_plan(server)


class _EndsACallMidway:
    """The back-fill's progress: once it has read some older days, the call ends upstream
    and its delivery arrives (while the back-fill's run holds the environment)."""

    def __init__(self, env: Environment, sim, rec, after_days: int) -> None:
        self.env, self.sim, self.rec, self.after = env, sim, rec, after_days
        self.steps, self.answer = 0, ""

    def begin(self, label: str, total: int) -> None:
        pass

    def step(self, n: int = 1) -> None:
        self.steps += n
        if self.steps != self.after:
            return
        deadline = time.monotonic() + 10
        while not _today_in(self.env):  # today's batch is being written
            assert time.monotonic() < deadline
            time.sleep(0.05)
        self.sim.set_now(datetime.fromtimestamp(self.rec.t_end + 1, UTC))
        self.answer = _deliver(self.env, self.rec.id)

    def end(self) -> None:
        pass


def test_the_back_fills_run_serves_a_delivery_between_its_pages(org_a, settings, eager_tasks):
    settings.SYNC_BATCH_ROWS = 100  # a batch a page: today's cursor is saved at once
    with served(_config(days=6, calls_per_day=300)) as (sim, server):
        rec = _ending_call(sim)
        env = point_env(org_a, sim, server)
        env.first_webhook_secret()
        progress = _EndsACallMidway(env, sim, rec, after_days=3)
        outcome = sync_environment(env, now=sim.now, progress=progress)
        assert not outcome.failed, [r.error for r in outcome.runs]
        assert progress.answer, "the delivery came during the back-fill"
        assert Call.objects.get(environment=env, external_id=rec.id).status == rec.final
        # Read by the back-fill's own run (the webhook round found the environment held).
        run = SyncRun.objects.get(environment=env, stream="calls")
        assert run.trigger != Trigger.WEBHOOK and run.details.get("hinted"), run.details
        assert 1 <= run.details["hint_requests"] <= 2, "counted apart from the back-fill's"
        assert _hook_runs(env) == []
        assert not hints.take(env.pk) != ([], False)


def test_the_back_fill_leaves_free_what_the_webhook_rounds_need_while_deliveries_come(org_a):
    from sync.budget import RequestBudget
    from sync.webhooks import coalesce, pacing, serving

    env = Environment.objects.create(organization=org_a, name="New", base_url="https://x.test",
                                     requests_per_minute=90)
    whole = RequestBudget("talq_split", 90, window=60.0)
    own, hook = serving.split(env, whole, reads_hints=True)
    assert own is whole and hook is not None and hook.fraction == 0.4  # no delivery yet
    coalesce.announce(env.pk)
    own, _ = serving.split(env, whole, reads_hints=True)
    assert own.parent is whole and own.limit == 90 - serving.MIN_RESERVE  # no round yet
    # Mid-window, the clock held: the rounds' counts are per budget window.
    mid, least = time.time() // 60 * 60 + 30, serving.MIN_RESERVE
    with time_machine.travel(mid, tick=False):
        pacing.ran(env, time.time(), 10)
        # What they spend in a window, and the least reserve besides: no more (twice it, or
        # both windows' sum, left a busy hour's back-fill a fifth of the budget idle).
        assert serving.split(env, whole, reads_hints=True)[0].limit == 90 - 10 - least
        with time_machine.travel(mid - 60, tick=False):  # the last window's rounds
            pacing.ran(env, time.time(), 16)
        assert serving.split(env, whole, reads_hints=True)[0].limit == 90 - 16 - least
        # A round the budget left short: for a window, twice what they spend (at least
        # half the 40 % share, at most all of it).
        pacing.ran(env, time.time(), 0, starved=True)
        assert serving.split(env, whole, reads_hints=True)[0].limit == 90 - 2 * (16 + least)
        for _ in range(10):
            pacing.ran(env, time.time(), 1)
        assert serving.split(env, whole, reads_hints=True)[0].limit == 54
    # A budget whose 60 % could not hold a continuation's refresh of today keeps it all.
    small = RequestBudget("talq_small", 15)
    assert serving.split(env, small, reads_hints=True)[0] is small
    assert serving.split(env, whole, reads_hints=False) == (whole, None)


def test_a_quiet_hours_sparse_deliveries_keep_the_reserve(org_a):
    """A quiet hour delivers about one call a minute, often none in a whole budget window: a
    delivery some windows ago still keeps the reserve (else the back-fill took the whole
    window the next one came in, and its round waited for the window after); after
    `RESERVE_WINDOWS` windows without one the back-fill has the budget to itself."""
    from django.core.cache import cache

    from sync.budget import RequestBudget
    from sync.webhooks import coalesce, serving

    env = Environment.objects.create(organization=org_a, name="Quiet", base_url="https://x.test",
                                     requests_per_minute=90)
    whole = RequestBudget("talq_quiet", 90, window=60.0)
    cache.set(coalesce.event_key(env.pk), time.time() - 3 * 60, timeout=3600)
    own, hook = serving.split(env, whole, reads_hints=True)
    assert own.parent is whole and own.limit == 90 - serving.MIN_RESERVE and hook is not None
    cache.set(coalesce.event_key(env.pk), time.time() - serving.RESERVE_WINDOWS * 60 - 1,
              timeout=3600)
    assert serving.split(env, whole, reads_hints=True)[0] is whole


def test_a_round_the_spent_budget_turned_away_asks_for_more(org_a):
    """A back-fill's continuation took the window; the round that follows is turned away
    before it begins (no run, no request). It counts as starved all the same: the back-fill's
    next run leaves the webhooks at least half their share free, not just what the served
    rounds spent (else every delivery of the window's rest waited for the window to roll)."""
    from sync.budget import RequestBudget
    from sync.webhooks import coalesce, pacing, serving

    env = Environment.objects.create(organization=org_a, name="Held", base_url="https://x.test",
                                     requests_per_minute=90)
    env.set_token("talq_turned_away")
    env.save()
    whole = RequestBudget("talq_turned_away", 90, window=60.0)
    for _ in range(90):  # the continuation's requests
        whole.acquire()
    coalesce.announce(env.pk)
    assert serving.split(env, whole, reads_hints=True)[0].limit == 90 - serving.MIN_RESERVE
    started = time.time()
    outcome = sync_environment(env, trigger=Trigger.WEBHOOK, budget_wait=5.0, hints=[])
    assert outcome.skipped and outcome.deferred > 5 and not outcome.runs, outcome.reason
    pacing.record(env, started, outcome)
    assert serving.split(env, whole, reads_hints=True)[0].limit == 90 - 18  # half the share
    assert pacing.until_next(env.pk) <= pacing.MIN_ROUND_SECONDS  # its retry is not paced out
