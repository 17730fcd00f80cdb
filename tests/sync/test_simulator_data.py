"""Simulator: the data set (determinism, realism, callback rule, clock) and Origins AI."""
from __future__ import annotations

import json
import re
import statistics
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, time, timedelta

import pytest
import requests
import time_machine

from sync.providers.talkover.simulator.data import call_dict, call_json
from sync.simulator import EnvironmentSpec, Simulator, SimulatorConfig, running_simulator
from sync.simulator.response import dumps

END = date(2024, 3, 28)
NOW = datetime(2024, 3, 28, 15, 0, 0, tzinfo=UTC)
TALKOVER_ENVS = ("acme-sales", "acme-support", "globex")


def config(**overrides: object) -> SimulatorConfig:
    values: dict = {"seed": 7, "days": 20, "calls_per_day": 200, "end_date": END, "now": NOW}
    values.update(overrides)
    return SimulatorConfig(**values)


@pytest.fixture(scope="module")
def sim() -> Simulator:
    return Simulator(config())


def ts(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


# --- determinism --------------------------------------------------------------------------

def test_same_seed_same_data_different_seed_different_data(sim):
    twin = Simulator(config())
    other = Simulator(config(seed=8))
    d = date(2024, 3, 21)
    for env in TALKOVER_ENVS:
        assert twin.truth.agents(env) == sim.truth.agents(env)
        assert list(twin.truth.calls(env, d, d)) == list(sim.truth.calls(env, d, d))
        assert twin.truth.callback_stats(env) == sim.truth.callback_stats(env)
        assert other.truth.agents(env) != sim.truth.agents(env)
        assert list(other.truth.calls(env, d, d)) != list(sim.truth.calls(env, d, d))
    assert twin.tokens == sim.tokens and other.tokens != sim.tokens
    assert twin.truth.origins_calls("origins-demo", 4012) == sim.truth.origins_calls(
        "origins-demo", 4012)
    assert all(re.fullmatch(r"talq_[0-9a-f]{40}", sim.tokens[e]) for e in TALKOVER_ENVS)
    assert re.fullmatch(r"orig_[0-9a-f]{40}", sim.tokens["origins-demo"])


def test_day_does_not_depend_on_generation_order():
    a, b = Simulator(config()), Simulator(config())
    days = [date(2024, 3, 10) + timedelta(days=i) for i in range(8)]
    forward = [list(a.truth.calls("globex", d, d)) for d in days]
    backward = [list(b.truth.calls("globex", d, d)) for d in reversed(days)][::-1]
    assert forward == backward


def test_tokens_can_be_overridden():
    s = Simulator(config(tokens={"globex": "talq_custom"}))
    assert s.tokens["globex"] == "talq_custom"
    with pytest.raises(ValueError):
        SimulatorConfig(tokens={"nowhere": "talq_x"})


# --- realism ------------------------------------------------------------------------------

def test_agents_mix(sim):
    names = []
    for env in TALKOVER_ENVS:
        agents = sim.truth.agents(env)
        names += [a["name"] for a in agents]
        assert 6 <= len(agents) <= 10
        assert len({a["id"] for a in agents}) == len(agents)
        assert sum(a["is_sandbox"] for a in agents) == 1
        assert {a["direction"] for a in agents} == {"inbound", "outbound"}
        callbacks = sim.truth.callback_agents(env)
        assert 1 <= len(callbacks) <= 2
        assert {c["id"] for c in callbacks} <= {a["id"] for a in agents}
        assert all(a["created_at"] < "2024-03-09" for a in agents)
    assert any(not n.isascii() for n in names)
    assert any(a["current_status"] == "draft" for e in TALKOVER_ENVS
               for a in sim.truth.agents(e))


def test_calls_look_real(sim):
    calls = list(sim.truth.calls("acme-support"))
    assert calls
    statuses = Counter(c["status"] for c in calls)
    assert statuses["completed"] > statuses["no-answer"] > 0
    assert statuses["failed"] > 0 and statuses["busy"] > 0
    for c in calls:
        if c["status"] in ("failed", "busy", "no-answer", "initiated", "ringing"):
            assert c["duration"] == 0
        elif c["status"] == "completed":
            assert c["duration"] >= 5
            assert ts(c["updated_at"]) > ts(c["created_at"]) + timedelta(seconds=c["duration"])
    durations = sorted(c["duration"] for c in calls if c["status"] == "completed")
    median, p99 = durations[len(durations) // 2], durations[int(len(durations) * 0.99)]
    assert 40 < median < 150 and p99 > 4 * median  # long tail
    testing = sum(c["is_testing"] for c in calls) / len(calls)
    assert 0.015 < testing < 0.05
    assert any(c["to"].startswith("+55") for c in calls)
    assert any(c["to"].startswith("+1") for c in calls)
    assert any(c["created_at"].endswith("T00:00:00Z") for c in calls)
    by_weekday = defaultdict(list)
    per_day = Counter(c["created_at"][:10] for c in calls)
    for day, n in per_day.items():
        by_weekday[date.fromisoformat(day).weekday() >= 5].append(n)
    weekday = sum(by_weekday[False]) / len(by_weekday[False])
    weekend = sum(by_weekday[True]) / len(by_weekday[True])
    assert weekend < 0.7 * weekday
    hours = Counter(int(c["created_at"][11:13]) for c in calls)
    # acme-support works at UTC-5: 14-16 UTC is business hours, 05-07 UTC is night.
    assert sum(hours[h] for h in (14, 15, 16)) > 4 * sum(hours[h] for h in (5, 6, 7))


def test_serialisation_fast_path_matches_json_dumps(sim):
    store = sim.talkover_store("globex")
    day = store.day(date(2024, 3, 27).toordinal())
    for rec in day.recs[:40]:
        for now in (rec.t0, rec.t_ring, max(rec.t_ans, rec.t0) + 1, rec.t_end):
            for with_agent in (True, False):
                expected = dumps(call_dict(rec, store.profile.agents, now, with_agent))
                assert call_json(rec, store.profile.agents, now, with_agent) == expected


def test_bounded_memory_for_a_million_calls():
    big = Simulator(SimulatorConfig(days=100, calls_per_day=10_000, end_date=END, now=NOW,
                                    cache_days=12, environments={
                                        "big": EnvironmentSpec("talkover")}))
    total = big.truth.call_count("big")
    assert 900_000 < total < 1_100_000
    store = big.talkover_store("big")
    assert len(store._days) <= 12 and len(store._base) <= 12
    # Counting long-past days needs no generation: only today's window was generated.
    assert len(store._days) == 1 and len(store._base) == 8
    newest = next(big.truth.calls("big"))
    assert newest["created_at"] <= "2024-03-28T15:00:00Z"


# --- callbacks agree with calls -----------------------------------------------------------

def _dialled(sim: Simulator, env: str, day: date) -> tuple[set, list[dict], dict]:
    """The callback agents' ids, the listed calls of the match window ending `day`, and
    the outbound (non-test) calls among them by the number they dialled."""
    n = sim.config.callback_match_days
    callback_ids = {a["id"] for a in sim.truth.callback_agents(env)}
    calls = list(sim.truth.calls(env, day - timedelta(days=n), day))
    dialled = defaultdict(list)
    for c in calls:
        if c["direction"] == "outbound" and not c["is_testing"]:
            dialled[c["to"]].append(c)
    return callback_ids, calls, dialled


def recompute_callback_stats(sim: Simulator, env: str, day: date) -> dict:
    """The documented rule, from the listed calls only."""
    callback_ids, calls, dialled = _dialled(sim, env, day)
    total = answered = unmatched = 0
    by = Counter()
    names = {}
    for c in calls:
        if c["created_at"][:10] != day.isoformat() or c["agent"]["id"] not in callback_ids:
            continue
        if c["is_testing"]:
            continue
        assert c["direction"] == "inbound"
        total += 1
        answered += c["status"] in ("answered", "completed")
        earlier = [o for o in dialled[c["from"]] if o["created_at"] < c["created_at"]]
        if not earlier:
            unmatched += 1
            continue
        source = max(earlier, key=lambda o: (o["created_at"], o["id"]))["agent"]
        by[source["id"]] += 1
        names[source["id"]] = source["name"]
    rows = sorted(by.items(), key=lambda kv: (-kv[1], names[kv[0]], kv[0]))
    return {
        "period": {"start": day.isoformat(), "end": day.isoformat()},
        "total_callbacks_received": total, "callbacks_answered": answered,
        "callbacks_unmatched": unmatched,
        "callbacks_by_source_agent": [
            {"source_agent_id": i, "name": names[i], "count": k} for i, k in rows],
    }


@pytest.mark.parametrize("env", TALKOVER_ENVS)
def test_callback_stats_agree_with_calls(sim, env):
    days = [date(2024, 3, 9), date(2024, 3, 14), date(2024, 3, 23), date(2024, 3, 28)]
    totals = Counter()
    for day in days:
        expected = recompute_callback_stats(sim, env, day)
        assert sim.truth.callback_stats(env, day, day) == expected
        totals["all"] += expected["total_callbacks_received"]
        totals["unmatched"] += expected["callbacks_unmatched"]
    assert totals["all"] > 10 and 0 < totals["unmatched"] < totals["all"]


def test_callbacks_follow_unanswered_calls_within_hours(sim):
    """A matched callback rings back a number an agent called and nobody answered, hours
    later: the median time to callback is hours, not days (it was ~4 days, the window's
    middle, when numbers were drawn from the whole window)."""
    env = "acme-sales"
    day = date(2024, 3, 20)
    callback_ids, calls, dialled = _dialled(sim, env, day)
    gaps, unanswered = [], 0
    for c in calls:
        if c["created_at"][:10] != day.isoformat() or c["agent"]["id"] not in callback_ids \
                or c["is_testing"]:
            continue
        earlier = [o for o in dialled[c["from"]] if o["created_at"] < c["created_at"]]
        if earlier:
            source = max(earlier, key=lambda o: (o["created_at"], o["id"]))
            gaps.append((ts(c["created_at"]) - ts(source["created_at"])).total_seconds())
            unanswered += source["status"] not in ("answered", "completed")
    assert len(gaps) >= 10
    assert unanswered >= 0.9 * len(gaps)
    assert 1800 <= statistics.median(gaps) <= 6 * 3600


def test_one_day_stats_add_up_to_a_range(sim):
    start, end = date(2024, 3, 18), date(2024, 3, 24)
    ranged = sim.truth.callback_stats("acme-sales", start, end)
    sums = Counter()
    by = Counter()
    for i in range((end - start).days + 1):
        day = sim.truth.callback_stats("acme-sales", start + timedelta(days=i),
                                       start + timedelta(days=i))
        for key in ("total_callbacks_received", "callbacks_answered", "callbacks_unmatched"):
            sums[key] += day[key]
        for row in day["callbacks_by_source_agent"]:
            by[row["source_agent_id"]] += row["count"]
    assert {k: ranged[k] for k in sums} == dict(sums)
    assert {r["source_agent_id"]: r["count"] for r in ranged["callbacks_by_source_agent"]} == by
    empty = sim.truth.callback_stats("acme-sales", date(2020, 1, 1), date(2020, 1, 31))
    assert empty["total_callbacks_received"] == 0 and empty["callbacks_by_source_agent"] == []


# --- the clock ----------------------------------------------------------------------------

def test_status_evolves_with_the_clock():
    with running_simulator(config(days=3)) as (sim, server):
        headers = {"Authorization": f"Bearer {sim.tokens['globex']}"}
        calls = list(sim.truth.calls("globex", date(2024, 3, 28), date(2024, 3, 28)))
        target = next(c for c in calls if c["status"] == "completed" and c["duration"] > 30)
        line = sim.truth.timeline("globex", target["id"])
        assert line["final_status"] == "completed" and line["answered_at"]

        def seen() -> dict | None:
            r = requests.get(f"{server.talkover_url}/calls", headers=headers, timeout=10,
                             params={"search": target["sid"]})
            data = r.json()["data"]
            return data[0] if data else None

        created, ringing = ts(line["created_at"]), ts(line["ringing_at"])
        answered, ended = ts(line["answered_at"]), ts(line["ended_at"])
        sim.set_now(created - timedelta(seconds=1))
        assert seen() is None  # calls in the future do not exist
        sim.set_now(created)
        call = seen()
        assert (call["status"], call["duration"], call["updated_at"]) == (
            "initiated", 0, line["created_at"])
        sim.set_now(ringing)
        assert (seen()["status"], seen()["updated_at"]) == ("ringing", line["ringing_at"])
        sim.set_now(answered + timedelta(seconds=10))
        call = seen()
        assert (call["status"], call["duration"], call["updated_at"]) == (
            "answered", 10, line["answered_at"])
        sim.advance(timedelta(seconds=5))
        assert seen()["duration"] == 15
        sim.set_now(ended)
        assert seen() == target
        sim.set_now(ended + timedelta(days=1))
        assert seen() == target


def test_moving_the_clock_adds_and_changes_recent_calls():
    sim = Simulator(config(days=3, calls_per_day=400))
    today = date(2024, 3, 28)
    before = {c["id"]: c for c in sim.truth.calls("acme-sales", today, today)}
    sim.advance(timedelta(hours=2))
    after = {c["id"]: c for c in sim.truth.calls("acme-sales", today, today)}
    assert set(before) < set(after)
    assert len(after) - len(before) > 10
    changed = [i for i in before if before[i] != after[i]]
    assert changed, "calls in progress at the old clock have moved on"
    assert all(before[i]["created_at"] == after[i]["created_at"] for i in changed)
    assert sim.now == NOW + timedelta(hours=2)
    sim.set_now(datetime(2024, 3, 29, 12, 0))  # naive = UTC; data continues past end_date
    assert sim.truth.call_count("acme-sales", date(2024, 3, 29), date(2024, 3, 29)) > 50


@pytest.mark.parametrize("wall", [time(23, 59, 59), time(0, 0), time(12, 0)])
def test_default_clock(wall):
    past = SimulatorConfig(end_date=date(2020, 5, 1))
    assert past.resolved_now() == datetime(2020, 5, 1, 23, 59, 59, tzinfo=UTC)
    # The wall clock frozen (at midnight's either side too): the default is its moment.
    moment = datetime.combine(date(2026, 3, 11), wall, UTC)
    with time_machine.travel(moment, tick=False):
        assert SimulatorConfig().resolved_now() == moment
        ahead = SimulatorConfig(clock_offset=timedelta(hours=3))
        assert ahead.resolved_now() == moment + timedelta(hours=3)
        assert ahead.resolved_end_date() == (moment + timedelta(hours=3)).date()


# --- Origins ------------------------------------------------------------------------------

ORIGINS_KEYS = [
    "call_id", "call_agent_id", "stt_data", "llm_data", "tts_data", "call_transcription",
    "call_recording_url", "from_number", "to_number", "recording_id", "call_context",
    "call_status", "call_duration", "billed_duration", "initiation_time", "answer_time",
    "end_time", "hangup_cause_name", "hangup_source", "call_direction", "task_id",
    "call_state_changes", "call_triggered", "call_quality", "call_insights", "call_timeline",
    "tool_data", "audio_config", "org_id",
]


def test_origins_endpoint_records_and_errors():
    with running_simulator(config(bad_record_rate=0.05)) as (sim, server):
        env = "origins-demo"
        headers = {"Authorization": f"Bearer {sim.tokens[env]}"}
        agent = sim.origins_agent_ids(env)[0]
        url = f"{server.origins_url}/api/agents/{agent}/call_stats"
        r = requests.get(url, headers=headers, timeout=10)
        assert r.status_code == 200
        records = r.json()
        assert isinstance(records, list) and records == sim.truth.origins_calls(env, agent)
        assert len(records) > 50
        assert all(list(rec) == ORIGINS_KEYS for rec in records)
        assert {rec["call_agent_id"] for rec in records} == {agent}
        assert any(rec["call_id"] is None for rec in records)
        good = [rec for rec in records if rec["call_id"]]
        assert all(re.fullmatch(r"[0-9a-f-]{36}", rec["call_id"]) for rec in good)
        starts = [rec["call_state_changes"][0]["at"] for rec in records]
        assert starts == sorted(starts)
        statuses = Counter(rec["call_status"] for rec in records)
        assert statuses["ANSWERED"] > statuses["FAILED"] > 0
        for rec in records:
            if rec["call_status"] == "FAILED":
                assert rec["answer_time"] is None and rec["call_transcription"] == []
                assert rec["call_duration"] == 0 and rec["hangup_cause_name"] != "NORMAL_CLEARING"
            if rec["call_status"] == "ANSWERED" and rec["end_time"]:
                assert rec["answer_time"] and rec["call_transcription"]
                assert {t["role"] for t in rec["call_transcription"]} <= {"agent", "user"}
                assert rec["billed_duration"] >= rec["call_duration"] > 0
                assert "mos" in rec["call_quality"] and "summary" in rec["call_insights"]
            assert rec["call_direction"] in ("inbound", "outbound")
        json.dumps(records)

        r = requests.get(f"{server.origins_url}/api/agents/abc/call_stats", headers=headers,
                         timeout=10)
        assert r.status_code == 422
        assert r.json()["detail"][0]["loc"] == ["path", "agent_id"]
        r = requests.get(f"{server.origins_url}/api/agents/999999/call_stats",
                         headers=headers, timeout=10)
        assert (r.status_code, r.json()) == (404, {"detail": "Agent not found"})
        r = requests.get(url, timeout=10)
        assert (r.status_code, r.json()) == (401, {"detail": "Not authenticated"})
        for token in ("orig_wrong", sim.tokens["acme-sales"]):
            r = requests.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=10)
            assert (r.status_code, r.json()) == (401, {"detail": "Unauthorized"})
        sim.revoke(env)
        r = requests.get(url, headers=headers, timeout=10)
        assert (r.status_code, r.json()) == (401, {"detail": "Unauthorized"})


def test_origins_default_bad_record_rate_is_small(sim):
    records = [r for a in sim.origins_agent_ids("origins-demo")
               for r in sim.truth.origins_calls("origins-demo", a)]
    bad = sum(r["call_id"] is None for r in records)
    assert len(records) > 500 and bad <= len(records) * 0.01
    clean = Simulator(config(bad_record_rate=0.0))
    assert all(r["call_id"] for r in clean.truth.origins_calls("origins-demo", 4012))


def test_origins_record_evolves_with_the_clock():
    sim = Simulator(config(days=2))
    store = sim.origins_store("origins-demo")
    records = sim.truth.origins_calls("origins-demo", 4012)
    assert json.loads(store.records_json(4012, sim.now_ts())) == records
    done = next(r for r in records if r["call_status"] == "ANSWERED" and r["end_time"])
    sim.set_now(datetime.fromisoformat(done["initiation_time"]))
    early = next(r for r in sim.truth.origins_calls("origins-demo", 4012)
                 if r["call_id"] == done["call_id"])
    assert early["call_status"] == "INITIATED"
    assert early["answer_time"] is None and early["end_time"] is None
    assert early["call_duration"] is None and early["call_transcription"] == []
    # Served bytes follow the clock backwards too (no stale cache).
    assert json.loads(store.records_json(4012, sim.now_ts())) == sim.truth.origins_calls(
        "origins-demo", 4012)
    sim.set_now(NOW)
    again = next(r for r in sim.truth.origins_calls("origins-demo", 4012)
                 if r["call_id"] == done["call_id"])
    assert again == done


# --- late final statuses ---------------------------------------------------------

def test_late_statuses_follow_the_long_tail_and_keep_the_calls_as_they_were():
    from sync.simulator import Lateness

    yesterday = END - timedelta(days=1)
    late = Simulator(config(days=3, lateness=Lateness(((0.2, 12.0, 30.0),))))
    plain = Simulator(config(days=3, lateness=None))
    calls = list(late.truth.calls("acme-sales", yesterday, yesterday))
    same = {c["id"]: c for c in plain.truth.calls("acme-sales", yesterday, yesterday)}
    assert set(same) == {c["id"] for c in calls}  # the same calls, only later
    ended = [c for c in calls if same[c["id"]]["status"] in ("completed", "no-answer", "busy",
                                                             "failed")]
    waiting = [c for c in ended if c["status"] in ("ringing", "answered")]
    # A fifth of the calls that ended are final 12-30 h late: at 15:00 the next day, about
    # half of those (yesterday's later ones) still wait.
    assert 0.05 < len(waiting) / len(ended) < 0.2
    for call in waiting[:20]:
        line = late.truth.timeline("acme-sales", call["id"])
        final = same[call["id"]]
        if call["status"] == "answered":  # hung up: its talk time, no longer growing
            assert call["duration"] == final["duration"]
        late.set_now(datetime.fromisoformat(line["ended_at"]))
        now = next(c for c in late.truth.calls("acme-sales", yesterday, yesterday)
                   if c["id"] == call["id"])
        assert (now["status"], now["duration"]) == (final["status"], final["duration"])
        assert now["updated_at"] == line["ended_at"] > final["updated_at"]
        late.set_now(NOW)
    assert Lateness.parse("off") is None and Lateness.parse("") == Lateness()
    assert Lateness.parse("0.1:1-2").bands == ((0.1, 1.0, 2.0),)
    with pytest.raises(ValueError, match="SHARE:MIN_HOURS-MAX_HOURS"):
        Lateness.parse("0.1:2")
