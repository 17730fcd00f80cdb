"""Simulator: fault injection (spec grammar, each fault kind, determinism, scoping)."""
from __future__ import annotations

import json
import time
from datetime import UTC, date, datetime

import pytest
import requests

from sync.simulator import Faults, Simulator, SimulatorConfig, running_simulator

END = date(2024, 3, 28)
NOW = datetime(2024, 3, 28, 15, 0, 0, tzinfo=UTC)
ENV = "acme-sales"


def config(**overrides: object) -> SimulatorConfig:
    values: dict = {"seed": 7, "days": 5, "calls_per_day": 100, "end_date": END, "now": NOW}
    values.update(overrides)
    return SimulatorConfig(**values)


def client(sim: Simulator, env: str = ENV) -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {sim.tokens[env]}"
    return session


# --- grammar ------------------------------------------------------------------------------

def test_parse_full_example():
    spec = ("500=0.1,429=0.05,502=0.02,slow=0.01:2.5,truncate=0.01,insert=30@2,revoke=200,"
            "ratelimit=100")
    f = Faults.parse(spec, seed=3)
    assert (f.error_500, f.error_429, f.retry_after, f.error_502) == (0.1, 0.05, 1, 0.02)
    assert (f.slow, f.slow_seconds, f.truncate) == (0.01, 2.5, 0.01)
    assert (f.insert, f.insert_after_page, f.revoke_after) == (30, 2, 200)
    assert (f.ratelimit, f.ratelimit_window, f.only, f.seed) == (100, 60.0, (), 3)
    assert Faults.parse(f.to_spec(), seed=3) == f
    g = Faults.parse(" 429=0.5:3 , insert=5, ratelimit=10:2, only=/api/v1/calls|/api/agents,"
                     "seed=9 ")
    assert (g.retry_after, g.insert, g.insert_after_page) == (3, 5, 2)
    assert (g.ratelimit_window, g.only, g.seed) == (2.0, ("/api/v1/calls", "/api/agents"), 9)
    assert Faults.parse("").active is False and Faults.parse(None).to_spec() == ""
    assert g.active


@pytest.mark.parametrize("spec,message", [
    ("404=0.1", "unknown fault '404'"),
    ("500=1.5", "outside 0..1"),
    ("500=lots", "not a probability"),
    ("500", "not KEY=VALUE"),
    ("500=0.1,500=0.2", "given twice"),
    ("insert=x@2", "not an integer"),
    ("insert=3@0", "below 1"),
    ("slow=0.1:soon", "not a number of seconds"),
    ("ratelimit=0", "below 1"),
    ("only=api", "starting with /"),
    ("truncate=0.1:2", "takes no ':' part"),
])
def test_parse_errors(spec, message):
    with pytest.raises(ValueError, match=message):
        Faults.parse(spec)


def test_python_construction_validates_and_clear_resets():
    with pytest.raises(ValueError):
        Faults(error_500=2)
    f = Faults(error_500=0.5, insert=3, seed=4)
    f.clear()
    assert not f.active and f.seed == 4 and f.to_spec() == ""


# --- each fault ---------------------------------------------------------------------------

def test_500_only_on_the_restricted_prefix():
    with running_simulator(config(), error_500=1.0, only=("/api/v1/calls",)) as (sim, server):
        s = client(sim)
        r = s.get(f"{server.talkover_url}/calls", timeout=10)
        assert (r.status_code, r.json()) == (500, {"success": False,
                                                   "message": "Internal server error."})
        assert s.get(f"{server.talkover_url}/agents", timeout=10).status_code == 200
        assert requests.get(f"{server.base_url}/healthz", timeout=10).status_code == 200
        sim.faults.clear()
        assert s.get(f"{server.talkover_url}/calls", timeout=10).status_code == 200


def test_429_has_retry_after_and_envelope():
    with running_simulator(config(), spec="429=1:3") as (sim, server):
        r = client(sim).get(f"{server.talkover_url}/calls", timeout=10)
        assert r.status_code == 429 and r.headers["Retry-After"] == "3"
        assert r.json() == {"success": False, "message": "Too Many Attempts."}


def test_502_is_an_html_page():
    with running_simulator(config(), spec="502=1") as (sim, server):
        r = client(sim).get(f"{server.talkover_url}/calls", timeout=10)
        assert r.status_code == 502
        assert r.headers["Content-Type"].startswith("text/html")
        assert "Bad Gateway" in r.text and r.text.lstrip().startswith("<html>")
        with pytest.raises(ValueError):
            r.json()


def test_truncated_body_is_a_complete_response_with_broken_json():
    with running_simulator(config(), spec="truncate=1") as (sim, server):
        r = client(sim).get(f"{server.talkover_url}/calls", params={"per_page": 50}, timeout=10)
        assert r.status_code == 200
        assert int(r.headers["Content-Length"]) == len(r.content) > 100
        assert r.text.startswith('{"success":true')
        with pytest.raises(json.JSONDecodeError):
            json.loads(r.text)


def test_slow_delays_the_answer():
    with running_simulator(config(), spec="slow=1:0.4") as (sim, server):
        start = time.monotonic()
        r = client(sim).get(f"{server.talkover_url}/agents", timeout=10)
        assert r.status_code == 200 and time.monotonic() - start >= 0.4


def test_origins_fault_bodies():
    with running_simulator(config(), spec="500=1") as (sim, server):
        env = "origins-demo"
        url = f"{server.origins_url}/api/agents/{sim.origins_agent_ids(env)[0]}/call_stats"
        r = client(sim, env).get(url, timeout=10)
        assert r.status_code == 500 and r.text == "Internal Server Error"
        sim.faults = "429=1:2"
        r = client(sim, env).get(url, timeout=10)
        assert r.status_code == 429 and r.headers["Retry-After"] == "2"
        assert r.json() == {"detail": "Too Many Requests"}


def statuses(spec: str, n: int = 60) -> list[int]:
    with running_simulator(config(), spec=spec) as (sim, server):
        s = client(sim)
        return [s.get(f"{server.talkover_url}/agents", timeout=10).status_code
                for _ in range(n)]


def test_random_faults_are_deterministic_per_seed():
    spec = "500=0.2,429=0.2,502=0.2"
    first, second = statuses(spec), statuses(spec)
    assert first == second
    assert {200, 500, 429, 502} <= set(first)
    assert statuses(spec + ",seed=99") != first
    # Each kind has its own generator: adding 502s does not move the 500s.
    only_500 = statuses("500=0.2")
    assert [s == 500 for s in only_500] == [s == 500 for s in first]


def test_revoke_after_n_successes():
    with running_simulator(config(), spec="revoke=3") as (sim, server):
        s = client(sim)
        codes = [s.get(f"{server.talkover_url}/agents", timeout=10).status_code
                 for _ in range(5)]
        assert codes == [200, 200, 200, 401, 401]
        r = s.get(f"{server.talkover_url}/agents", timeout=10)
        assert r.json()["error"]["code"] == "INVALID_TOKEN"
        assert sim.is_revoked(ENV) and not sim.is_revoked("globex")
        other = client(sim, "globex")
        assert other.get(f"{server.talkover_url}/agents", timeout=10).status_code == 200
        new = sim.rotate_token(ENV)
        r = requests.get(f"{server.talkover_url}/agents", timeout=10,
                         headers={"Authorization": f"Bearer {new}"})
        assert r.status_code == 200


def test_rate_limit_per_token_rolling_window():
    with running_simulator(config(), spec="ratelimit=3:2") as (sim, server):
        s, other = client(sim), client(sim, "globex")
        url = f"{server.talkover_url}/agents"
        assert [s.get(url, timeout=10).status_code for _ in range(3)] == [200, 200, 200]
        r = s.get(url, timeout=10)
        assert r.status_code == 429 and r.headers["Retry-After"] in ("1", "2")
        assert r.json() == {"success": False, "message": "Too Many Attempts."}
        assert other.get(url, timeout=10).status_code == 200
        time.sleep(float(r.headers["Retry-After"]) + 0.05)
        assert s.get(url, timeout=10).status_code == 200
    with running_simulator(config(), spec="ratelimit=2") as (sim, server):
        s = client(sim)
        url = f"{server.talkover_url}/agents"
        for _ in range(2):
            s.get(url, timeout=10)
        r = s.get(url, timeout=10)
        assert r.status_code == 429 and 55 <= int(r.headers["Retry-After"]) <= 60


def test_insert_shifts_newest_first_pages():
    with running_simulator(config(), spec="insert=5@2") as (sim, server):
        s = client(sim)
        url = f"{server.talkover_url}/calls"
        params = {"per_page": 10, "date_from": "2024-03-26", "date_to": "2024-03-27"}
        total = sim.truth.call_count(ENV, date(2024, 3, 26), date(2024, 3, 27))
        before = list(sim.truth.calls(ENV, date(2024, 3, 26), date(2024, 3, 27)))
        p1 = s.get(url, params={**params, "page": 1}, timeout=10).json()
        p2 = s.get(url, params={**params, "page": 2}, timeout=10).json()
        assert sim.truth.inserted_count(ENV) == 5
        p3 = s.get(url, params={**params, "page": 3}, timeout=10).json()
        assert p1["pagination"]["total"] == p2["pagination"]["total"] == total
        assert p3["pagination"]["total"] == total + 5
        assert [c["id"] for c in p3["data"][:5]] == [c["id"] for c in p2["data"][5:]]
        after = list(sim.truth.calls(ENV, date(2024, 3, 26), date(2024, 3, 27)))
        assert after[5:] == before
        newest = (before[0]["created_at"], before[0]["id"])
        # Newer in the listing's order; when the range's newest call is at its last second
        # (23:59:59), the new calls share that second and sort above it by id.
        assert all((c["created_at"], c["id"]) > newest for c in after[:5])
        assert all(c["created_at"] <= "2024-03-27T23:59:59Z" for c in after[:5])
        assert p3["data"] == after[20:30]
        # The whole data set's callback rule still holds and truth counts the new calls.
        assert sim.truth.call_count(ENV) == sum(1 for _ in sim.truth.calls(ENV))


def test_insert_honours_the_agent_of_the_listing():
    with running_simulator(config(), spec="insert=4@2,only=/api/v1/agents") as (sim, server):
        s = client(sim)
        agent = next(a for a in sim.truth.agents(ENV) if a["direction"] == "inbound")
        url = f"{server.talkover_url}/agents/{agent['id']}/calls"
        newest = next(sim.truth.calls(ENV))["created_at"]
        s.get(url, params={"per_page": 5, "page": 2}, timeout=10)
        calls = list(sim.truth.calls(ENV, agent_id=agent["id"]))
        assert sim.truth.inserted_count(ENV) == 4
        assert all(c["agent"]["id"] == agent["id"] for c in calls[:4])
        assert all(newest < c["created_at"] <= "2024-03-28T15:00:00Z" for c in calls[:4])
        assert next(sim.truth.calls(ENV))["id"] == calls[0]["id"]
        # Out of the "only" scope: /calls page 2 inserts nothing.
        s.get(f"{server.talkover_url}/calls", params={"page": 2}, timeout=10)
        assert sim.truth.inserted_count(ENV) == 4


def test_faults_setter_accepts_spec_and_objects():
    sim = Simulator(config())
    sim.faults = "500=0.5"
    assert sim.faults.error_500 == 0.5 and sim.faults.seed == 7
    sim.faults = Faults(error_502=0.1)
    assert sim.faults.error_502 == 0.1 and sim.faults.error_500 == 0
    sim.faults = None
    assert not sim.faults.active
