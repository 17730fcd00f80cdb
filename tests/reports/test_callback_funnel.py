"""The callback funnel's faces (issue 38, points 2–4): the reports API (JSON and CSV) with the
vendor's figures beside ours, day by day, on the simulator's data; tenancy."""
from __future__ import annotations

import pytest

from sync.engine import sync_environment
from sync.models import CallbackDay, CallbackLink
from tests.support.sync_support import ENV, point_env, served, small_config

pytestmark = pytest.mark.django_db(transaction=True)
URL = "/api/v1/reports/callback-funnel/"


@pytest.fixture
def synced(org_a):
    with served(small_config(days=9, calls_per_day=150)) as (sim, server):
        env = point_env(org_a, sim, server)
        outcome = sync_environment(env, now=sim.now)
        assert not outcome.failed, [r.error for r in outcome.runs]
        yield sim, env


def test_funnel_api_agrees_with_vendor_day_by_day(synced, alice, carol, api_client_for):
    sim, env = synced
    first, last = sim.start_date, sim.today
    params = {"environment": env.pk, "start_date": first, "end_date": last}
    answer = api_client_for(alice).get(URL, params)
    assert answer.status_code == 200, answer.content
    summary = answer.json()["summary"]
    assert summary["differing_days"] == [] and summary["missing_days"] == []
    assert len(summary["series"]) == (last - first).days + 1
    for day in summary["series"]:
        stats = sim.truth.callback_stats(ENV, *[sim.start_date.fromisoformat(day["start"])] * 2)
        assert day["received"] == stats["total_callbacks_received"] == day["vendor"]["received"]
        assert day["answered"] == stats["callbacks_answered"]
        assert day["unmatched"] == stats["callbacks_unmatched"]
        assert {s["source_agent_id"]: s["count"] for s in day["by_source"]} == {
            s["source_agent_id"]: s["count"] for s in stats["callbacks_by_source_agent"]}
        assert day["differences"] == []
    totals = summary["totals"]
    assert totals["received"] == sum(d["received"] for d in summary["series"]) > 0
    assert totals["matched"] + totals["unmatched"] == totals["received"]
    assert 0 < totals["called_back"] <= totals["outbound_unanswered"]
    assert 0 < totals["median_seconds_to_callback"] <= totals["p90_seconds_to_callback"]
    # The first days' windows reach before the back-fill: said, not hidden.
    assert summary["series"][0]["window_complete"] is False
    assert summary["series"][-1]["window_complete"] is True
    weekly = api_client_for(alice).get(URL, {**params, "interval": "week"}).json()["summary"]
    assert sum(p["received"] for p in weekly["series"]) == totals["received"]
    # CSV through the one CSV module.
    csv = api_client_for(alice).get(URL, {**params, "format": "csv"})
    assert csv.status_code == 200
    lines = b"".join(csv.streaming_content).decode("utf-8-sig").splitlines()
    assert lines[0].startswith("period_start,period_end,mirrored,received,answered,matched")
    assert len(lines) == 1 + len(summary["series"])
    assert api_client_for(alice).get(URL, {**params, "table": "nope", "format": "csv"}
                                     ).status_code == 400
    # Another organisation's environment is a 404.
    assert api_client_for(carol).get(URL, params).status_code == 404


def test_a_day_that_differs_says_so_with_both_figures(synced, alice, api_client_for):
    sim, env = synced
    link = CallbackLink.objects.filter(environment=env).exclude(source_external_id="").first()
    day = link.callback_day
    link.delete()
    CallbackDay.objects.filter(environment=env, day=day).update(total_received=999)
    answer = api_client_for(alice).get(URL, {"environment": env.pk, "start_date": day,
                                             "end_date": day})
    summary = answer.json()["summary"]
    assert summary["differing_days"] == [day.isoformat()]
    fields = {d["field"]: (d["funnel"], d["vendor"]) for d in summary["series"][0]["differences"]}
    received = summary["series"][0]["received"]
    assert fields["received"] == (received, 999)
    assert any(f.startswith("by_source:") for f in fields)
