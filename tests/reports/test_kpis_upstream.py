"""The KPI report checked against the upstream: every KPI of a period recomputed call by call
from the vendors' own listings (the simulator's Vapi `GET /call` and Origins AI
`call_stats`, over real HTTP) equals `kpis_summary` — totals, each day, each agent and each
vendor — after the mirror took them (late analyses included)."""
from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
import requests

from reports.queries.kpis import METRIC_KEYS, kpis_summary
from sync.analysis import judge
from sync.engine import sync_environment
from sync.simulator import SimulatorConfig, running_simulator
from sync.simulator.config import EnvironmentSpec
from tests.support.origins import origins_env
from tests.support.vapi import END, upstream_calls, vapi_env

pytestmark = pytest.mark.django_db(transaction=True)

ORIGINS_AGENTS = (4012, 4013)


@dataclass
class Seen:
    """One call as its vendor lists it, in the terms of the KPI definitions (docs/kpis.md)."""

    vendor: str
    agent: str
    start: datetime
    end: datetime | None
    answered_at: datetime | None
    answered: bool
    direction: str  # inbound, outbound, other
    ended_unanswered: bool
    number: str
    duration: int
    voicemail: bool
    transferred: bool
    judgement: str


def _at(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


def vapi_seen(item: dict) -> Seen:
    reason = item.get("endedReason") or ""
    started, ended = _at(item.get("startedAt")), _at(item.get("endedAt"))
    answered = started is not None and reason not in ("customer-did-not-answer",
                                                      "customer-busy")
    direction = {"inboundPhoneCall": "inbound",
                 "outboundPhoneCall": "outbound"}.get(item["type"], "other")
    duration = int((ended - started).total_seconds() + 0.5) if started and ended else 0
    return Seen("vapi", item["assistantId"], _at(item["createdAt"]), ended, started, answered,
                direction, item["status"] == "ended" and not answered,
                (item.get("customer") or {}).get("number") or "", duration,
                reason == "voicemail", reason == "assistant-forwarded-call",
                judge((item.get("analysis") or {}).get("successEvaluation"))[0])


def origins_seen(item: dict) -> Seen:
    start = _at(item.get("initiation_time")) or _at(item["call_state_changes"][0]["at"])
    direction = item.get("call_direction") or "inbound"
    number = item.get("from_number") if direction == "inbound" else item.get("to_number")
    answered = item["call_status"] == "ANSWERED"
    talk = item.get("call_duration")
    return Seen("origins", str(item["call_agent_id"]), start, _at(item.get("end_time")),
                _at(item.get("answer_time")), answered, direction,
                item["call_status"] == "FAILED", number or "",
                int(talk + 0.5) if talk is not None else 0, False,
                item.get("hangup_cause_name") == "BLIND_TRANSFER",
                judge((item.get("call_insights") or {}).get("call_successful"))[0])


def expected(calls: list[Seen], every: list[Seen], now: datetime, window: int,
             pool: list[Seen] | None = None) -> dict:
    """Every KPI of `calls`, by its definition; `every`: all the organisation's calls (the
    contacts a successful call may be followed by); `pool`: the calls in progress counted
    at their starts (the period's, of the row's group: a day's peak counts a call still
    going from the day before)."""
    digits = defaultdict(list)
    for c in every:
        if c.direction in ("inbound", "outbound") and any(ch.isdigit() for ch in c.number):
            digits["".join(ch for ch in c.number if ch.isdigit())].append(c.start)
    answered = [c for c in calls if c.answered]
    inbound = [c for c in calls if c.direction == "inbound"]
    sends = {v: v == "vapi" for v in ("vapi", "origins")}  # voicemail: Vapi only
    with_vm = [c for c in calls if sends[c.vendor]]
    timed = [c for c in answered if c.answered_at and c.answered_at >= c.start]
    judged = [c for c in calls if c.judgement]
    won = [c for c in calls if c.judgement == "succeeded" and c.answered
           and c.direction in ("inbound", "outbound")
           and any(ch.isdigit() for ch in c.number)]
    settled = [c for c in won if c.start <= now - timedelta(days=window)]

    def repeat(c: Seen) -> bool:
        key = "".join(ch for ch in c.number if ch.isdigit())
        return any(c.start < t < c.start + timedelta(days=window) for t in digits[key])

    def ratio(a, b):
        return round(a / b, 4) if b else None

    def mean(total, n):
        return round(total / n, 1) if n else None

    transferred = [c for c in calls if c.transferred]
    repeats = [c for c in settled if repeat(c)]
    events = []
    mine = {id(c) for c in calls}
    for c in pool if pool is not None else calls:
        end = c.end or c.start + timedelta(seconds=c.duration)
        if end > c.start:
            events += [(c.start, 1, id(c) in mine), (end, -1, False)]
    level = peak = 0
    for _t, d, counted in sorted(events, key=lambda e: (e[0], e[1])):
        level += d
        if counted:
            peak = max(peak, level)
    return {
        "calls": len(calls), "answered": len(answered),
        "answer_rate": ratio(len(answered), len(calls)),
        "abandoned": len([c for c in inbound if c.ended_unanswered]),
        "abandon_rate": ratio(len([c for c in inbound if c.ended_unanswered]), len(inbound)),
        "voicemail": len([c for c in with_vm if c.voicemail]) if with_vm else None,
        "voicemail_rate": ratio(len([c for c in with_vm if c.voicemail]), len(with_vm)),
        "transferred": len(transferred),
        "transfer_rate": ratio(len(transferred), len(answered)),
        "contained": len([c for c in answered if not c.transferred]),
        "containment_rate": ratio(len([c for c in answered if not c.transferred]),
                                  len(answered)),
        "avg_handle_seconds": mean(sum(c.duration for c in answered), len(answered)),
        "avg_time_to_answer_seconds": mean(
            sum((c.answered_at - c.start).total_seconds() for c in timed), len(timed)),
        "peak_concurrency": peak, "evaluated": len(judged),
        "succeeded": len([c for c in judged if c.judgement == "succeeded"]),
        "success_rate": ratio(len([c for c in judged if c.judgement == "succeeded"]),
                              len(judged)),
        "succeeded_then_repeat": len(repeats),
        "succeeded_then_repeat_rate": ratio(len(repeats), len(settled)),
    }


def reported(row) -> dict:
    return {key: getattr(row, key) for key in METRIC_KEYS}


def close(a: dict, b: dict) -> dict:
    """The keys where the two differ (floats within rounding)."""
    return {k: (a[k], b[k]) for k in a if not (
        a[k] == b[k] or (isinstance(a[k], float) and isinstance(b[k], float)
                         and math.isclose(a[k], b[k], abs_tol=0.11)))}


def test_every_kpi_equals_the_vendors_own_listing_call_by_call(org_a, settings):
    settings.VAPI_REQUESTS_PER_MINUTE = 100000
    config = SimulatorConfig(seed=8, days=12, calls_per_day=120, end_date=END, environments={
        "vapi-demo": EnvironmentSpec("vapi", utc_offset_hours=-3),
        "origins-demo": EnvironmentSpec("origins", agent_ids=ORIGINS_AGENTS,
                                        calls_per_day=40)})
    with running_simulator(config) as (sim, server):
        vapi = vapi_env(org_a, sim, server)
        origins = origins_env(org_a, sim, server, agent_ids=ORIGINS_AGENTS)
        for env in (vapi, origins):
            assert not sync_environment(env, now=sim.now).failed
        sim.advance(timedelta(hours=7))  # late analyses come in; the incremental run takes them
        for env in (vapi, origins):
            assert not sync_environment(env, now=sim.now).failed
        listed = [vapi_seen(i) for i in upstream_calls(sim, server, sim.start_date,
                                                       sim.today).values()]
        headers = {"Authorization": f"Bearer {sim.tokens['origins-demo']}"}
        for agent in ORIGINS_AGENTS:
            answer = requests.get(f"{server.origins_url}/api/agents/{agent}/call_stats",
                                  headers=headers, timeout=60)
            listed += [origins_seen(i) for i in answer.json() if i.get("call_id")]
        now = sim.now
    tz = org_a.tzinfo
    first, last = sim.start_date + timedelta(days=2), sim.today - timedelta(days=1)
    summary = kpis_summary([vapi, origins], first, last, "day", now=now)
    assert summary.missing_days == []
    window = org_a.resolution_window_days

    def within(c: Seen, a, b) -> bool:
        return a <= c.start.astimezone(tz).date() <= b

    period = [c for c in listed if within(c, first, last)]
    assert len(period) > 1000
    assert close(expected(period, listed, now, window), reported(summary.totals)) == {}
    for row in summary.series:
        day = [c for c in period if within(c, row.start, row.end)]
        assert close(expected(day, listed, now, window, period), reported(row)) == {}, row.start
    for row in summary.vendors:
        mine = [c for c in period if c.vendor == row.vendor]
        want = expected(mine, listed, now, window)
        assert close(want, reported(row)) == {}, row.vendor
    origins_row = next(r for r in summary.vendors if r.vendor == "origins")
    assert origins_row.voicemail is None
    assert origins_row.reasons["voicemail"] == "not reported by Origins AI"
    for row in summary.agents:
        mine = [c for c in period if c.agent == row.agent_external_id]
        assert close(expected(mine, listed, now, window), reported(row)) == {}, row
    # The figures move: transfers and voicemail differ from day to day, and one agent's
    # "successful" calls come back far more often than the others'.
    assert len({r.transfer_rate for r in summary.series}) > 3
    assert len({r.voicemail_rate for r in summary.series}) > 3
    rates = sorted(r.succeeded_then_repeat_rate for r in summary.agents
                   if r.succeeded_then_repeat_rate is not None)
    assert rates[-1] > 3 * max(rates[0], 0.01)
