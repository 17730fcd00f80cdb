"""Simulator: Talkover endpoints over real sockets (shapes, filters, paging, errors, auth)."""
from __future__ import annotations

import re
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
import requests

from sync.simulator import SimulatorConfig, running_simulator

END = date(2024, 3, 28)  # a Thursday
NOW = datetime(2024, 3, 28, 15, 0, 0, tzinfo=UTC)
ENV = "acme-sales"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
SID = re.compile(r"CA[0-9a-f]{32}")
E164 = re.compile(r"\+(1[2-9][0-9]{9}|55[1-9][0-9]9[0-9]{8})")
TS = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
CALL_KEYS = ["id", "sid", "to", "to_formatted", "from", "from_formatted", "is_testing",
             "direction", "status", "duration", "created_at", "updated_at"]


def config(**overrides: object) -> SimulatorConfig:
    values: dict = {"seed": 7, "days": 20, "calls_per_day": 200, "end_date": END, "now": NOW}
    values.update(overrides)
    return SimulatorConfig(**values)


@pytest.fixture(scope="module")
def served():
    with running_simulator(config()) as pair:
        yield pair


@pytest.fixture(scope="module")
def api(served):
    sim, server = served
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {sim.tokens[ENV]}"

    def get(path: str, **params: object) -> requests.Response:
        return session.get(f"{server.talkover_url}{path}", params=params, timeout=10)

    return get


def page_all(get, path: str, **params: object) -> list[dict]:
    out, page = [], 1
    while True:
        body = get(path, per_page=100, page=page, **params).json()
        out.extend(body["data"])
        if page >= body["pagination"]["last_page"]:
            return out
        page += 1


def test_calls_envelope_and_item_shape(served, api):
    sim, _ = served
    body = api("/calls").json()
    assert body["success"] is True
    assert set(body["pagination"]) == {"current_page", "last_page", "per_page", "total",
                                       "from", "to"}
    total = sim.truth.call_count(ENV)
    assert body["pagination"] == {"current_page": 1, "last_page": -(-total // 20),
                                  "per_page": 20, "total": total, "from": 1, "to": 20}
    assert 20 * 200 * 0.7 < total < 20 * 200 * 1.3
    for call in body["data"]:
        assert list(call) == [*CALL_KEYS, "agent"]
        assert UUID.fullmatch(call["id"]) and SID.fullmatch(call["sid"])
        assert E164.fullmatch(call["to"]) or call["to"] == "+15005550006"
        assert E164.fullmatch(call["from"]) or call["from"] == "+15005550006"
        assert re.fullmatch(r"\(\d{2,3}\) \d{3,5}-\d{4}", call["to_formatted"])
        assert TS.fullmatch(call["created_at"]) and TS.fullmatch(call["updated_at"])
        assert call["updated_at"] >= call["created_at"]
        assert set(call["agent"]) == {"id", "name", "label"}
        assert isinstance(call["duration"], int) and isinstance(call["is_testing"], bool)


def test_newest_first_ordering_across_pages(api):
    calls = page_all(api, "/calls", date_from="2024-03-20")
    keys = [(c["created_at"], c["id"]) for c in calls]
    assert keys == sorted(keys, reverse=True)
    assert len({c["id"] for c in calls}) == len(calls)
    assert calls[0]["created_at"] <= NOW.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_http_paging_equals_ground_truth(served, api):
    sim, _ = served
    assert page_all(api, "/calls") == list(sim.truth.calls(ENV))
    d = date(2024, 3, 25)
    assert page_all(api, "/calls", date_from=d, date_to=d) == list(sim.truth.calls(ENV, d, d))


def test_agent_calls_only_that_agent_and_no_agent_object(served, api):
    sim, _ = served
    agent = next(a for a in sim.truth.agents(ENV) if a["direction"] == "outbound")
    body = api(f"/agents/{agent['id']}/calls", per_page=100).json()
    assert body["data"] and all(list(c) == CALL_KEYS for c in body["data"])
    expected = list(sim.truth.calls(ENV, agent_id=agent["id"], with_agent=False))
    assert body["pagination"]["total"] == len(expected)
    assert body["data"] == expected[:100]
    assert all(c["direction"] == "outbound" for c in body["data"])
    assert api(f"/agents/{agent['id']}/calls", agent_id="nonsense").status_code == 200


@pytest.mark.parametrize("path", ["/agents/no-such-agent/calls", "/agents/no-such-agent"])
def test_unknown_agent_is_404(api, path):
    r = api(path)
    assert r.status_code == 404
    assert r.json() == {"success": False, "message": "Agent not found"}


@pytest.mark.parametrize("status", ["completed", "failed", "busy", "no-answer", "initiated",
                                    "answered", "ringing"])
def test_status_filter(served, api, status):
    sim, _ = served
    body = api("/calls", status=status, per_page=100).json()
    expected = sim.truth.call_count(ENV, status=status)
    assert body["pagination"]["total"] == expected
    assert all(c["status"] == status for c in body["data"])
    if status in ("completed", "failed", "busy", "no-answer"):
        assert expected > 10
    if status in ("failed", "busy", "no-answer", "initiated", "ringing"):
        assert all(c["duration"] == 0 for c in body["data"])


@pytest.mark.parametrize("direction", ["inbound", "outbound"])
def test_direction_filter(served, api, direction):
    sim, _ = served
    body = api("/calls", direction=direction, per_page=100).json()
    assert body["pagination"]["total"] == sim.truth.call_count(ENV, direction=direction) > 100
    assert {c["direction"] for c in body["data"]} == {direction}


def test_agent_id_filter_and_invalid_agent_id(served, api):
    sim, _ = served
    agent = next(a for a in sim.truth.agents(ENV) if a["direction"] == "inbound")
    body = api("/calls", agent_id=agent["id"], per_page=100).json()
    assert body["pagination"]["total"] == sim.truth.call_count(ENV, agent_id=agent["id"]) > 0
    assert {c["agent"]["id"] for c in body["data"]} == {agent["id"]}
    r = api("/calls", agent_id="not-an-agent")
    assert r.status_code == 422
    assert r.json()["errors"] == {"agent_id": ["The selected agent id is invalid."]}


def test_date_range_is_inclusive_utc_days_and_midnight_belongs_to_its_day(served, api):
    sim, _ = served
    calls = page_all(api, "/calls", date_from="2024-03-25", date_to="2024-03-26")
    days = Counter(c["created_at"][:10] for c in calls)
    assert set(days) == {"2024-03-25", "2024-03-26"}
    assert len(calls) == sim.truth.call_count(ENV, date(2024, 3, 25), date(2024, 3, 26))
    midnight = [c for c in page_all(api, "/calls") if c["created_at"].endswith("T00:00:00Z")]
    assert midnight, "the data set has calls at exactly 00:00:00"
    day = midnight[0]["created_at"][:10]
    prev = (date.fromisoformat(day) - timedelta(days=1)).isoformat()
    same = api("/calls", date_from=day, date_to=day, search=midnight[0]["sid"]).json()
    before = api("/calls", date_from=prev, date_to=prev, search=midnight[0]["sid"]).json()
    assert same["pagination"]["total"] == 1 and before["pagination"]["total"] == 0
    only_from = api("/calls", date_from="2024-03-27").json()["pagination"]["total"]
    assert only_from == sim.truth.call_count(ENV, date(2024, 3, 27), None)
    only_to = api("/calls", date_to="2024-03-10").json()["pagination"]["total"]
    assert only_to == sim.truth.call_count(ENV, None, date(2024, 3, 10)) > 0


def test_search_by_number_and_by_sid(served, api):
    sim, _ = served
    calls = list(sim.truth.calls(ENV, date(2024, 3, 27), date(2024, 3, 27)))
    target = next(c for c in calls if c["direction"] == "outbound")
    by_sid = api("/calls", search=target["sid"]).json()
    assert [c["id"] for c in by_sid["data"]] == [target["id"]]
    assert api("/calls", search=target["sid"].upper()).json()["data"][0]["id"] == target["id"]
    fragment = target["to"][-7:]
    found = page_all(api, "/calls", search=fragment)
    assert target["id"] in {c["id"] for c in found}
    assert all(fragment in c["to"] or fragment in c["from"] for c in found)
    assert len(found) == sim.truth.call_count(ENV, search=fragment)
    # A raw "+" in a query string decodes to a space; the search is trimmed, so it matches.
    _, server = served
    raw = requests.get(f"{server.talkover_url}/calls?search={target['to']}",
                       headers={"Authorization": f"Bearer {sim.tokens[ENV]}"}, timeout=10)
    assert target["id"] in {c["id"] for c in raw.json()["data"]}
    assert api("/calls", search="no-such-thing").json()["pagination"]["total"] == 0


def test_filters_combine(served, api):
    sim, _ = served
    agent = next(a for a in sim.truth.agents(ENV) if a["direction"] == "outbound")
    params = {"status": "completed", "direction": "outbound", "agent_id": agent["id"],
              "date_from": "2024-03-20", "date_to": "2024-03-26"}
    calls = page_all(api, "/calls", **params)
    expected = list(sim.truth.calls(ENV, date(2024, 3, 20), date(2024, 3, 26),
                                    agent_id=agent["id"], status="completed",
                                    direction="outbound"))
    assert calls == expected and len(calls) > 5
    assert api("/calls", direction="inbound", agent_id=agent["id"]).json()["data"] == []


def test_pagination_edges(served, api):
    sim, _ = served
    total = sim.truth.call_count(ENV)
    one = api("/calls", per_page=1, page=3).json()
    assert len(one["data"]) == 1
    assert one["pagination"] == {"current_page": 3, "last_page": total, "per_page": 1,
                                 "total": total, "from": 3, "to": 3}
    last_page = -(-total // 100)
    last = api("/calls", per_page=100, page=last_page).json()
    assert len(last["data"]) == total - 100 * (last_page - 1)
    assert last["pagination"]["from"] == 100 * (last_page - 1) + 1
    assert last["pagination"]["to"] == total
    past = api("/calls", per_page=100, page=last_page + 1).json()
    assert past["data"] == [] and past["pagination"]["from"] is None
    assert past["pagination"]["to"] is None and past["pagination"]["total"] == total
    empty = api("/calls", date_from="2030-01-01").json()
    assert empty["data"] == [] and empty["pagination"]["last_page"] == 1
    assert empty["pagination"]["total"] == 0 and empty["pagination"]["from"] is None
    assert len(api("/calls", per_page=100).json()["data"]) == 100
    assert len(api("/calls", per_page="", page="").json()["data"]) == 20


@pytest.mark.parametrize("params,errors", [
    ({"per_page": 101}, {"per_page": ["The per page must not be greater than 100."]}),
    ({"per_page": 0}, {"per_page": ["The per page must be at least 1."]}),
    ({"per_page": "ten"}, {"per_page": ["The per page must be an integer."]}),
    ({"page": 0}, {"page": ["The page must be at least 1."]}),
    ({"page": "1.5"}, {"page": ["The page must be an integer."]}),
    ({"date_to": "2024-02-30"}, {"date_to": ["The date to must be a valid date."]}),
    ({"date_from": "28/03/2024"}, {"date_from": ["The date from must be a valid date."]}),
    ({"date_from": "2024-03-10", "date_to": "2024-03-09"},
     {"date_to": ["The date to must be a date after or equal to date from."]}),
    ({"status": "done", "direction": "sideways", "date_from": "x"},
     {"status": ["The selected status is invalid."],
      "direction": ["The selected direction is invalid."],
      "date_from": ["The date from must be a valid date."]}),
])
def test_calls_validation_422(api, params, errors):
    for path in ("/calls", "/agents/{}/calls"):
        if "{}" in path:
            agent_id = api("/agents").json()["data"][0]["id"]
            path = path.format(agent_id)
        r = api(path, **params)
        assert r.status_code == 422
        assert r.json() == {"success": False, "message": "The given data was invalid.",
                            "errors": errors}


def test_agents_listing_meta_filters_and_detail(served, api):
    sim, _ = served
    body = api("/agents").json()
    agents = sim.truth.agents(ENV)
    assert body["data"] == agents and 6 <= len(agents) <= 10
    assert body["meta"] == {"current_page": 1, "per_page": 20, "total": len(agents),
                            "last_page": 1}
    assert "pagination" not in body
    keys = {"id", "name", "label", "description", "language", "direction", "current_status",
            "is_sandbox", "created_at", "updated_at", "phone_numbers"}
    assert all(set(a) == keys for a in agents)
    paged = api("/agents", per_page=2, page=2).json()
    assert paged["data"] == agents[2:4]
    assert paged["meta"]["last_page"] == -(-len(agents) // 2)
    published = api("/agents", status="published").json()["data"]
    assert published == [a for a in agents if a["current_status"] == "published"]
    inbound = api("/agents", direction="inbound").json()["data"]
    assert inbound and all(a["direction"] == "inbound" for a in inbound)
    name = agents[0]["name"]
    assert agents[0] in api("/agents", search=name[:4].lower()).json()["data"]
    assert api(f"/agents/{agents[0]['id']}").json() == {"success": True, "data": agents[0]}
    assert api("/agents", status="active").json()["errors"] == {
        "status": ["The selected status is invalid."]}


def test_callback_agents(served, api):
    sim, _ = served
    body = api("/callback-agents").json()
    assert body == {"success": True, "data": sim.truth.callback_agents(ENV)}
    outbound = {a["id"] for a in sim.truth.agents(ENV) if a["direction"] == "outbound"}
    assert 1 <= len(body["data"]) <= 2
    for agent in body["data"]:
        assert agent["direction"] == "inbound"
        assert set(agent) == {"id", "name", "label", "direction", "current_status",
                              "callback_config"}
        assert agent["callback_config"]["source_agent_ids"]
        assert set(agent["callback_config"]["source_agent_ids"]) <= outbound


def test_callback_stats_endpoint(served, api):
    sim, _ = served
    default = api("/callback-agents/stats").json()
    assert default["success"] is True
    assert default["data"]["period"] == {"start": "2024-02-27", "end": "2024-03-28"}
    assert default["data"] == sim.truth.callback_stats(ENV)
    ranged = api("/callback-agents/stats", start_date="2024-03-20",
                 end_date="2024-03-22").json()["data"]
    assert ranged == sim.truth.callback_stats(ENV, date(2024, 3, 20), date(2024, 3, 22))
    assert ranged["total_callbacks_received"] > 0
    assert ranged["total_callbacks_received"] == ranged["callbacks_unmatched"] + sum(
        row["count"] for row in ranged["callbacks_by_source_agent"])
    counts = [row["count"] for row in ranged["callbacks_by_source_agent"]]
    assert counts == sorted(counts, reverse=True)
    bad = api("/callback-agents/stats", start_date="2024-03-22", end_date="2024-03-20")
    assert bad.status_code == 422
    assert bad.json()["errors"] == {
        "end_date": ["The end date must be a date after or equal to start date."]}
    bad = api("/callback-agents/stats", start_date="yesterday")
    assert bad.json()["errors"] == {"start_date": ["The start date must be a valid date."]}


def test_auth_error_shapes():
    with running_simulator(config(days=3)) as (sim, server):
        url = f"{server.talkover_url}/calls"
        r = requests.get(url, timeout=10)
        assert (r.status_code, r.json()) == (401, {"message": "Missing Bearer Token"})
        r = requests.get(url, headers={"Authorization": "Basic abc"}, timeout=10)
        assert (r.status_code, r.json()) == (401, {"message": "Missing Bearer Token"})
        for token in ("talq_wrong", sim.tokens["origins-demo"]):
            r = requests.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=10)
            assert (r.status_code, r.json()) == (401, {"success": False,
                                                       "message": "Unauthorized"})
        good = {"Authorization": f"Bearer {sim.tokens[ENV]}"}
        assert requests.get(url, headers=good, timeout=10).status_code == 200
        sim.revoke(ENV)
        r = requests.get(url, headers=good, timeout=10)
        assert r.status_code == 401
        assert r.json() == {"success": False, "error": {
            "code": "INVALID_TOKEN", "message": "Authentication token is invalid or missing",
            "details": {}}}
        other = {"Authorization": f"Bearer {sim.tokens['globex']}"}
        assert requests.get(url, headers=other, timeout=10).status_code == 200
        new = sim.rotate_token(ENV)
        assert new.startswith("talq_") and new != good["Authorization"][7:]
        fresh = {"Authorization": f"Bearer {new}"}
        assert requests.get(url, headers=fresh, timeout=10).status_code == 200
        assert requests.get(url, headers=good, timeout=10).status_code == 401
        assert [e.env for e in server.request_log][-3:] == ["globex", ENV, ENV]


def test_unknown_path_method_and_health(served, api):
    sim, server = served
    r = api("/campaigns")
    assert r.status_code == 404
    assert r.json() == {"success": False, "error": {
        "code": "NOT_FOUND", "message": "The requested resource was not found.",
        "details": {}}}
    assert requests.get(f"{server.base_url}/nothing", timeout=10).status_code == 404
    r = requests.post(f"{server.talkover_url}/calls", json={}, timeout=10,
                      headers={"Authorization": f"Bearer {sim.tokens[ENV]}"})
    assert r.status_code == 405 and r.json()["error"]["code"] == "METHOD_NOT_ALLOWED"
    health = requests.get(f"{server.base_url}/healthz", timeout=10)
    assert health.status_code == 200 and health.json()["status"] == "ok"


def test_request_log_and_count(served, api):
    _, server = served
    before, sent = server.request_count, time.time()
    api("/agents", per_page=5)
    assert server.request_count == before + 1
    entry = server.request_log[-1]
    assert entry[:5] == ("GET", "/api/v1/agents", {"per_page": "5"}, 200, ENV)
    assert entry.status == 200 and entry.env == ENV
    assert sent <= entry.at <= time.time(), "the arrival time, for rates per token"


def test_server_stop_is_clean():
    with running_simulator(config(days=2)) as (sim, server):
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {sim.tokens[ENV]}"
        assert session.get(f"{server.talkover_url}/agents", timeout=10).ok
        server.stop()
        server.stop()
        assert not server._thread.is_alive()
        with pytest.raises(requests.ConnectionError):
            session.get(f"{server.talkover_url}/agents", timeout=2)
