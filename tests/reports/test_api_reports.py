"""Report endpoints: JSON and streamed CSV, validation, access, caching by data version."""
from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from django.core.cache import cache
from django.db.models import F
from rest_framework.test import APIClient

from portal.models import Environment
from reports import registry
from reports.api.reports import answer_serializer
from reports.cache import report_key
from reports.queries import calls_summary
from reports.scope import build_scope
from tests.support.cast import make_env
from tests.support.factories import make_agents, make_callback_days, make_calls

START, END = date(2026, 3, 1), date(2026, 3, 28)
RANGE = {"start_date": "2026-03-01", "end_date": "2026-03-28"}


@pytest.fixture
def data(env_a, env_b):
    agents = make_agents(env_a, 3)
    make_calls(env_a, 400, date(2026, 2, 1), END, seed=11, agents=agents)
    make_calls(env_b, 50, START, END, seed=12)
    make_callback_days(env_a, [date(2026, 3, d) for d in range(1, 29) if d != 15])
    return agents


def get(client, kind: str, **params):
    return client.get(f"/api/v1/reports/{kind}/", params)


def test_calls_report_json(env_a, data, alice, api_client_for):
    response = get(api_client_for(alice), "calls", environment=env_a.pk, interval="week",
                   **RANGE)
    assert response.status_code == 200
    body = response.json()
    expected = calls_summary([env_a], START, END, interval="week")
    assert body["summary"]["totals"]["total"] == expected.totals.total > 0
    assert body["summary"]["previous"]["total"] == expected.previous.total > 0
    assert body["summary"]["deltas"]["total"]["change"] == expected.deltas["total"].change
    assert [p["start"] for p in body["summary"]["series"]][:2] == ["2026-03-01", "2026-03-02"]
    assert len(body["summary"]["heatmap"]) == 7
    assert {a["agent_id"] for a in body["summary"]["agents"]} == {a.external_id for a in data}
    assert body["freshness"][0]["environment_id"] == env_a.pk


def test_calls_report_filters(env_a, data, alice, api_client_for):
    agent = data[0].external_id
    body = get(api_client_for(alice), "calls", environment=env_a.pk, agent_id=agent,
               direction="inbound", status="completed,answered", **RANGE).json()
    expected = calls_summary([env_a], START, END, agent_ids=[agent], direction="inbound",
                             status=["completed", "answered"])
    assert body["summary"]["totals"]["total"] == expected.totals.total
    assert body["summary"]["filters"]["status"] == ["completed", "answered"]


def test_calls_report_csv_streams(env_a, data, alice, api_client_for):
    response = get(api_client_for(alice), "calls", environment=env_a.pk, format="csv", **RANGE)
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"] == (
        'attachment; filename="switchboard-calls-series-org-a-2026-03-01_2026-03-28.csv"')
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0][:3] == ["period_start", "period_end", "total"]
    assert len(rows) == 1 + 28
    assert sum(int(r[2]) for r in rows[1:]) == calls_summary([env_a], START, END).totals.total
    agents = get(api_client_for(alice), "calls", environment=env_a.pk, format="csv",
                 table="agents", **RANGE)
    agent_rows = list(csv.reader(io.StringIO(
        b"".join(agents.streaming_content).decode("utf-8-sig"))))
    assert agent_rows[0][:4] == ["environment_id", "environment", "agent_id", "agent_name"]
    assert len(agent_rows) == 4
    heatmap = get(api_client_for(alice), "calls", environment=env_a.pk, format="csv",
                  table="heatmap", **RANGE)
    grid = list(csv.reader(io.StringIO(b"".join(heatmap.streaming_content).decode("utf-8-sig"))))
    assert grid[0][:2] == ["weekday", "00:00"] and grid[1][0] == "Monday" and len(grid) == 8
    assert sum(int(n) for row in grid[1:] for n in row[1:]) == int(sum(int(r[2])
                                                                       for r in rows[1:]))


def test_callbacks_report_json_and_csv(env_a, data, alice, api_client_for):
    body = get(api_client_for(alice), "callbacks", environment=env_a.pk, **RANGE).json()
    assert body["summary"]["missing_days"] == ["2026-03-15"]
    assert body["summary"]["totals"]["days_mirrored"] == 27
    response = get(api_client_for(alice), "callbacks", environment=env_a.pk, format="csv",
                   **RANGE)
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0] == ["day", "mirrored", "received", "answered", "unmatched"]
    assert ["2026-03-15", "false", "", "", ""] in rows  # never mirrored: a gap, not zeros


@pytest.mark.parametrize("kind", ["calls", "callbacks"])
@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_access_matrix(env_a, data, cast, api_client_for, kind, fmt):
    for who in ("alice", "bob"):
        response = get(api_client_for(cast[who]), kind, environment=env_a.pk, format=fmt,
                       **RANGE)
        assert response.status_code == 200, who
    carol = get(api_client_for(cast["carol"]), kind, environment=env_a.pk, format=fmt, **RANGE)
    assert carol.status_code == 404
    assert str(env_a.pk) in carol.json()["detail"]
    assert get(APIClient(), kind, environment=env_a.pk, **RANGE).status_code == 401
    assert api_client_for(cast["bob"]).post(f"/api/v1/reports/{kind}/", {}).status_code == 405


@pytest.mark.parametrize("params,field", [
    ({}, "environment"),
    ({"environment": "abc"}, "environment"),
    ({"start_date": "2026-02-30"}, "start_date"),
    ({"start_date": "2026-03-10", "end_date": "2026-03-01"}, "end_date"),
    ({"start_date": "2024-01-01", "end_date": "2026-01-01"}, "end_date"),
    ({"start_date": "2020-01-01"}, "start_date"),
    # Bounds are the scope's; a defaulted date's problem is blamed on the date given.
    ({"end_date": "0001-01-05"}, "end_date"),
    ({"end_date": "2000-01-10"}, "end_date"),
    ({"start_date": "2100-12-20"}, "start_date"),
    ({"start_date": "1999-12-31", "end_date": "2000-01-10"}, "start_date"),
    ({"interval": "hour"}, "interval"),
    ({"direction": "sideways"}, "direction"),
    ({"status": "completed,bogus"}, "status"),
    ({"include_testing": "maybe"}, "include_testing"),
    ({"table": "nope"}, "table"),
    ({"start": "2026-03-01"}, "start"),
])
def test_bad_input_is_400_with_field_errors(env_a, alice, api_client_for, params, field):
    params = {"environment": env_a.pk, **params} if "environment" not in params and params \
        else params
    response = get(api_client_for(alice), "calls", **params)
    assert response.status_code == 400, response.content
    assert field in response.json()


def test_environments_of_two_orgs_are_refused(env_a, env_b, django_user_model, api_client_for):
    from portal.models import Membership

    both = django_user_model.objects.create_user("dave", password="dave-pw-123")
    Membership.objects.create(user=both, organization=env_a.organization, role="viewer")
    Membership.objects.create(user=both, organization=env_b.organization, role="viewer")
    response = get(api_client_for(both), "calls", environment=f"{env_a.pk},{env_b.pk}")
    assert response.status_code == 400 and "environment" in response.json()


def test_several_environments_of_one_org(env_a, data, org_a, alice, api_client_for):
    second = make_env(org_a, "A second", "talq_cccccccccccccccccccccccccccc3333")
    make_calls(second, 30, START, END, seed=13, testing_share=0)
    one = get(api_client_for(alice), "calls", environment=env_a.pk, **RANGE).json()
    two = get(api_client_for(alice), "calls", environment=[env_a.pk, second.pk],
              **RANGE).json()
    assert two["summary"]["totals"]["total"] == one["summary"]["totals"]["total"] + 30


def test_cache_follows_data_version(env_a, data, alice, api_client_for):
    client = api_client_for(alice)
    before = get(client, "calls", environment=env_a.pk, **RANGE).json()
    # New calls land without a version bump: the cached answer is still served…
    make_calls(env_a, 25, START, END, seed=99)
    assert get(client, "calls", environment=env_a.pk, **RANGE).json() == before
    # …and the sync's version bump makes it unreachable at once.
    Environment.objects.filter(pk=env_a.pk).update(data_version=F("data_version") + 1)
    after = get(client, "calls", environment=env_a.pk, **RANGE).json()
    assert after["summary"]["totals"]["total"] > before["summary"]["totals"]["total"]


def test_query_counts(env_a, data, alice, api_client_for, assert_max_queries):
    # As an API token's one lookup says it (portal/auth/authentication.py): no teams query.
    alice.restricted_somewhere = False
    client = api_client_for(alice)
    with assert_max_queries(5):  # environments, coverage, figures per day, per agent, names
        get(client, "calls", environment=env_a.pk, **RANGE)
    with assert_max_queries(1):  # cached: the environments only (for their data versions)
        get(client, "calls", environment=env_a.pk, **RANGE)
    with assert_max_queries(3):
        get(client, "callbacks", environment=env_a.pk, **RANGE)


def test_cached_report_is_sent_as_stored_bytes(env_a, data, alice, api_client_for,
                                               monkeypatch):
    """A cached report is a cache read; the JSON is not serialised again."""
    client = api_client_for(alice)
    first = get(client, "calls", environment=env_a.pk, **RANGE)
    assert first.status_code == 200 and first["Content-Type"] == "application/json"

    def no_serialising(self, instance):
        raise AssertionError("a cached report was serialised again")

    monkeypatch.setattr(answer_serializer(registry.report("calls")), "to_representation",
                        no_serialising)
    again = get(client, "calls", environment=env_a.pk, **RANGE)
    assert again.status_code == 200 and again.content == first.content
    # The bytes carry freshness, computed per request: a renamed environment renders anew
    # (and here fails loudly, proving the rename is part of the cached rendering's key).
    Environment.objects.filter(pk=env_a.pk).update(name="Renamed")
    with pytest.raises(AssertionError, match="serialised again"):
        get(client, "calls", environment=env_a.pk, **RANGE)
    monkeypatch.undo()
    renamed = get(client, "calls", environment=env_a.pk, **RANGE).json()
    assert renamed["freshness"][0]["name"] == "Renamed"
    assert renamed["summary"] == first.json()["summary"]


def test_page_and_api_share_one_cached_summary(env_a, data, alice, api_client_for):
    """One cache-key scheme: the summary the API computed is the one the scope reads."""
    get(api_client_for(alice), "calls", environment=env_a.pk, **RANGE)
    env = Environment.objects.select_related("organization").get(pk=env_a.pk)
    scope = build_scope(env.organization, [env], START, END)
    assert cache.get(report_key("calls", [env], scope.cache_params("calls"))) is not None
    assert cache.get(report_key("callbacks", [env], scope.cache_params("callbacks"))) is None
