"""Talkover-compatible endpoints: envelope, pagination, validation and error shapes, access."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from portal.models import ApiToken
from sync.models import Call
from sync.models.core import CallStatus
from tests.support.factories import (
    build_call,
    make_agents,
    make_callback_days,
    make_calls,
    save_calls,
)

CALL_KEYS = {"id", "sid", "to", "to_formatted", "from", "from_formatted", "is_testing",
             "direction", "status", "duration", "created_at", "updated_at"}


@pytest.fixture
def mirror(env_a):
    agents = make_agents(env_a, 2)
    make_calls(env_a, 45, date(2026, 3, 1), date(2026, 3, 10), seed=5, agents=agents,
               testing_share=0.2)
    return agents


def url(env, tail: str) -> str:
    return f"/api/v1/environments/{env.pk}/{tail}"


def test_calls_envelope_and_pagination(env_a, mirror, alice, api_client_for):
    response = api_client_for(alice).get(url(env_a, "calls"), {"per_page": 20, "page": 3})
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True
    assert body["pagination"] == {"current_page": 3, "last_page": 3, "per_page": 20,
                                  "total": 45, "from": 41, "to": 45}
    item = body["data"][0]
    assert set(item) == CALL_KEYS | {"agent"}
    assert set(item["agent"]) == {"id", "name", "label"}
    assert item["created_at"].endswith("Z")
    # Listings include testing calls, as Talkover's do.
    assert Call.objects.filter(environment=env_a, is_testing=True).exists()
    first = api_client_for(alice).get(url(env_a, "calls"), {"per_page": 100}).json()
    assert len(first["data"]) == 45 and any(c["is_testing"] for c in first["data"])
    assert first["data"][0]["created_at"] >= first["data"][-1]["created_at"]
    empty = api_client_for(alice).get(url(env_a, "calls"), {"page": 9}).json()
    assert empty["data"] == [] and empty["pagination"]["from"] is None


def test_calls_filters(env_a, mirror, alice, api_client_for):
    client = api_client_for(alice)
    agent = mirror[0].external_id
    data = client.get(url(env_a, "calls"), {"agent_id": agent, "status": "completed",
                                            "per_page": 100}).json()["data"]
    expected = Call.objects.filter(environment=env_a, agent_external_id=agent,
                                   status="completed").count()
    assert len(data) == expected and {c["agent"]["id"] for c in data} == {agent}
    one = Call.objects.filter(environment=env_a).first()
    found = client.get(url(env_a, "calls"), {"search": one.sid}).json()["data"]
    assert [c["id"] for c in found] == [one.external_id]
    by_phone = client.get(url(env_a, "calls"), {"search": one.to_number[-7:]}).json()["data"]
    assert one.external_id in {c["id"] for c in by_phone}


def test_date_filters_use_local_days(env_a, alice, api_client_for):
    import zoneinfo
    from datetime import datetime

    sp = zoneinfo.ZoneInfo("America/Sao_Paulo")
    late = build_call(env_a, datetime(2026, 3, 2, 23, 30, tzinfo=sp))  # 02:30 UTC on 3 March
    save_calls(env_a, [late])
    client = api_client_for(alice)
    on_2 = client.get(url(env_a, "calls"), {"date_from": "2026-03-02", "date_to": "2026-03-02"})
    assert on_2.json()["pagination"]["total"] == 1
    on_3 = client.get(url(env_a, "calls"), {"date_from": "2026-03-03"})
    assert on_3.json()["pagination"]["total"] == 0


@pytest.mark.parametrize("params,field,message", [
    ({"status": "bogus"}, "status", "The selected status is invalid."),
    ({"direction": "sideways"}, "direction", "The selected direction is invalid."),
    ({"date_from": "2026-13-01"}, "date_from", "The date from must be a valid date."),
    ({"date_from": "2026-W09-1"}, "date_from", "The date from must be a valid date."),
    ({"date_from": "2026-03-05", "date_to": "2026-03-01"}, "date_to",
     "The date to must be a date after or equal to date from."),
    # The report scope's bounds (reports/scope.py) under the listing's own names.
    ({"date_from": "0001-01-01"}, "date_from",
     "The date from must be a date between 2000-01-01 and 2100-12-31."),
    ({"date_to": "9999-12-31"}, "date_to",
     "The date to must be a date between 2000-01-01 and 2100-12-31."),
    ({"per_page": 101}, "per_page", "The per page must not be greater than 100."),
    ({"per_page": "ten"}, "per_page", "The per page must be an integer."),
    ({"page": 0}, "page", "The page must be at least 1."),
])
def test_validation_errors_are_talkovers(env_a, alice, api_client_for, params, field, message):
    response = api_client_for(alice).get(url(env_a, "calls"), params)
    assert response.status_code == 422
    assert response.json() == {"success": False, "message": "The given data was invalid.",
                               "errors": {field: [message]}}


def test_agent_calls(env_a, mirror, alice, api_client_for):
    agent = mirror[1]
    response = api_client_for(alice).get(url(env_a, f"agents/{agent.external_id}/calls"),
                                         {"per_page": 100})
    assert response.status_code == 200
    data = response.json()["data"]
    assert set(data[0]) == CALL_KEYS  # no agent object, as documented
    assert len(data) == Call.objects.filter(agent_external_id=agent.external_id).count()
    missing = api_client_for(alice).get(url(env_a, "agents/no-such-agent/calls"))
    assert missing.status_code == 404
    assert missing.json() == {"success": False, "message": "Agent not found"}
    invalid = api_client_for(alice).get(url(env_a, f"agents/{agent.external_id}/calls"),
                                        {"status": "x"})
    assert invalid.status_code == 422


def test_callback_stats_shape_and_missing_days(env_a, alice, api_client_for):
    days = [date(2026, 1, 1) + timedelta(days=i) for i in range(31)]
    make_callback_days(env_a, [d for d in days if d.day not in (10, 11)], seed=1)
    response = api_client_for(alice).get(url(env_a, "callback-agents/stats"),
                                         {"start_date": "2026-01-01", "end_date": "2026-01-31"})
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True
    data = body["data"]
    assert data["period"] == {"start": "2026-01-01", "end": "2026-01-31"}
    assert {"total_callbacks_received", "callbacks_answered", "callbacks_unmatched",
            "callbacks_by_source_agent"} <= set(data)
    assert set(data["callbacks_by_source_agent"][0]) == {"source_agent_id", "name", "count"}
    assert data["missing_days"] == ["2026-01-10", "2026-01-11"]
    assert data["complete"] is False and data["days_mirrored"] == 29
    full = api_client_for(alice).get(url(env_a, "callback-agents/stats"),
                                     {"start_date": "2026-01-01", "end_date": "2026-01-09"})
    assert full.json()["data"]["complete"] is True


@pytest.mark.parametrize("params,field", [
    ({"start_date": "yesterday"}, "start_date"),
    ({"start_date": "2026-02-01", "end_date": "2026-01-01"}, "end_date"),
    ({"start_date": "2024-01-01", "end_date": "2026-01-01"}, "end_date"),
    ({"start_date": "1999-12-31", "end_date": "2000-01-05"}, "start_date"),
    ({"end_date": "0001-01-01"}, "end_date"),
])
def test_callback_stats_validation(env_a, alice, api_client_for, params, field):
    response = api_client_for(alice).get(url(env_a, "callback-agents/stats"), params)
    assert response.status_code == 422
    assert response.json()["success"] is False and field in response.json()["errors"]


ENDPOINTS = ["calls", "agents/agent-x/calls", "callback-agents/stats"]


@pytest.mark.parametrize("tail", ENDPOINTS)
def test_access_matrix(env_a, cast, api_client_for, tail):
    agent = make_agents(env_a, 1, "agent-x")[0]
    save_calls(env_a, [build_call(env_a, timezone.now(), agent=agent,
                                  status=CallStatus.COMPLETED)])
    tail = tail.replace("agent-x", f"agent-x-{env_a.pk}-1")
    for who in ("alice", "bob"):
        assert api_client_for(cast[who]).get(url(env_a, tail)).status_code == 200
    carol = api_client_for(cast["carol"]).get(url(env_a, tail))
    assert carol.status_code == 404
    assert carol.json() == {"success": False, "message": "Environment not found"}
    anonymous = APIClient().get(url(env_a, tail))
    assert anonymous.status_code == 401
    assert anonymous.json() == {"success": False, "message": "Unauthorized"}
    # Nobody writes through these endpoints.
    assert api_client_for(cast["bob"]).post(url(env_a, tail), {}).status_code == 405


def test_bearer_token_works_and_bad_token_is_401(env_a, alice):
    _, raw = ApiToken.issue(alice)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert client.get(url(env_a, "calls")).status_code == 200
    client.credentials(HTTP_AUTHORIZATION="Bearer sbp_not-a-token")
    response = client.get(url(env_a, "calls"))
    assert response.status_code == 401 and response.json()["message"] == "Unauthorized"


def test_query_counts(env_a, mirror, alice, api_client_for, assert_max_queries):
    # As an API token's one lookup says it (portal/auth/authentication.py): no teams query.
    alice.restricted_somewhere = False
    client = api_client_for(alice)
    with assert_max_queries(3):  # environment, count, page (agents joined)
        assert client.get(url(env_a, "calls"), {"per_page": 100}).status_code == 200
    with assert_max_queries(4):
        client.get(url(env_a, f"agents/{mirror[0].external_id}/calls"), {"per_page": 100})
    make_callback_days(env_a, [date(2026, 1, 1)])
    with assert_max_queries(3):
        client.get(url(env_a, "callback-agents/stats"), {"start_date": "2026-01-01",
                                                         "end_date": "2026-01-31"})


def test_listing_spans_any_length(env_a, mirror, alice, api_client_for):
    """A listing is not a report: the scope's 366-day limit does not apply to it."""
    response = api_client_for(alice).get(url(env_a, "calls"), {
        "date_from": "2020-01-01", "date_to": "2026-12-31"})
    assert response.status_code == 200
    assert response.json()["pagination"]["total"] > 0
