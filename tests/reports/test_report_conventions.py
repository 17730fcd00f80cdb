"""Report conventions below the browser walk: one parameter vocabulary and the
same period presets everywhere, one wording for a reversed range, CSVs Excel reads (BOM,
true/false), the API's previous period labelled with the days it holds, "other" calls split
at the sync's horizon, callback sources named with their environment, and an hourly series
for a one-day range whose every bar opens exactly its calls.
"""
from __future__ import annotations

import random
from datetime import date, timedelta

import pytest
from django.utils import timezone

from reports.pages.params import preset_range
from reports.summaries.render import summary_csv
from tests.support.cast import make_env
from tests.support.factories import (
    build_call,
    make_agents,
    make_callback_days,
    make_calls,
    mark_read,
    save_calls,
)

REVERSED = "The end date is before the start date."


def test_presets_cover_days_and_iso_weeks():
    wednesday = date(2026, 11, 25)
    assert preset_range("today", wednesday) == (wednesday, wednesday)
    assert preset_range("yesterday", wednesday) == (date(2026, 11, 24),) * 2
    assert preset_range("this_week", wednesday) == (date(2026, 11, 23), wednesday)
    assert preset_range("last_week", wednesday) == (date(2026, 11, 16), date(2026, 11, 22))
    assert preset_range("7d", wednesday) == (date(2026, 11, 19), wednesday)
    monday = date(2026, 11, 23)
    assert preset_range("this_week", monday) == (monday, monday)


@pytest.fixture
def world(org_a, env_a):
    env_2 = make_env(org_a, "Second", "talq_cccccccccccccccccccccccccccc3333")
    today = timezone.localdate(timezone=org_a.tzinfo)
    make_calls(env_a, 40, today - timedelta(days=5), today, agents=make_agents(env_a, 2),
               seed=1)
    make_calls(env_2, 20, today - timedelta(days=5), today, agents=make_agents(env_2, 2),
               seed=2)
    return {"org": org_a, "envs": [env_a, env_2], "today": today}


def test_explorer_takes_the_common_names_and_keeps_the_old_ones(client, alice, world):
    env, today = world["envs"][0], world["today"]
    agent = env.agents.order_by("external_id").first().external_id
    first = (today - timedelta(days=3)).isoformat()
    client.force_login(alice)
    common = client.get(f"/o/org-a/calls/?start={first}&end={today}&env={env.pk}"
                        f"&agent={agent}")
    old = client.get(f"/o/org-a/calls/?date_from={first}&date_to={today}"
                     f"&environment={env.pk}&agent_id={agent}")
    assert common.status_code == old.status_code == 200
    listed = list(common.context["page"].object_list)
    assert listed and listed == list(old.context["page"].object_list)
    assert {c.agent_external_id for c in listed} == {agent}
    html = common.content.decode()
    for name in ("range", "start", "end", "env", "agent"):
        assert f'name="{name}"' in html, name
    assert 'name="date_from"' not in html and 'name="agent_id"' not in html
    # The presets of the report pages, resolved in the organisation's days.
    yesterday = client.get("/o/org-a/calls/?range=yesterday")
    assert yesterday.context["filter"].form.cleaned_data["start"] == today - timedelta(days=1)
    for page in ("/o/org-a/", "/o/org-a/calls/", "/o/org-a/agents/", "/o/org-a/callbacks/"):
        html = client.get(page).content.decode()
        for preset in ("today", "yesterday", "this_week", "last_week", "7d", "30d", "90d"):
            assert f'<option value="{preset}"' in html, (page, preset)


def test_a_reversed_range_is_worded_one_way(client, alice, world, api_client_for):
    client.force_login(alice)
    for url in ("/o/org-a/?range=custom&start=2026-03-10&end=2026-03-01",
                "/o/org-a/calls/?start=2026-03-10&end=2026-03-01",
                "/o/org-a/calls/?date_from=2026-03-10&date_to=2026-03-01"):
        response = client.get(url)
        assert response.status_code == 400 and REVERSED in response.content.decode(), url
    api = api_client_for(alice).get("/api/v1/reports/calls/", {
        "environment": world["envs"][0].pk, "start_date": "2026-03-10",
        "end_date": "2026-03-01"})
    assert api.status_code == 400 and REVERSED in api.content.decode()


def test_csvs_start_with_a_bom_and_write_true_false(client, alice, world, api_client_for):
    env = world["envs"][0]
    env.name = "Cobrança"
    env.save()
    client.force_login(alice)
    body = b"".join(client.get("/o/org-a/calls/?testing=on&format=csv").streaming_content)
    assert body.startswith(b"\xef\xbb\xbf")
    lines = body.decode("utf-8-sig").splitlines()
    column = lines[0].split(",").index("is_testing")
    assert {line.split(",")[column] for line in lines[1:]} == {"true", "false"}
    assert any(line.startswith("Cobrança,") for line in lines)
    api = api_client_for(alice).get("/api/v1/reports/calls/", {
        "environment": env.pk, "format": "csv"})
    assert b"".join(api.streaming_content).startswith(b"\xef\xbb\xbf")
    from reports.summaries.figures import build_summary
    from reports.summaries.schedule import Period

    today = world["today"]
    summary = build_summary(world["org"], world["envs"], Period(today - timedelta(days=3),
                                                                today))
    assert summary_csv(summary).startswith("\ufeffenvironment,")


def test_previous_period_is_labelled_with_the_days_it_holds(alice, world, api_client_for):
    today = world["today"]
    for env in world["envs"]:
        mark_read(env, today - timedelta(days=13), today)
    body = api_client_for(alice).get("/api/v1/reports/calls/", {
        "environment": [e.pk for e in world["envs"]],
        "start_date": (today - timedelta(days=6)).isoformat(),
        "end_date": today.isoformat()}).json()["summary"]
    # Today is open, so six whole days are compared with the six days before them.
    assert body["comparison"]["available"], body["comparison"]
    first, last = (date.fromisoformat(body[k]) for k in ("previous_start", "previous_end"))
    assert (first, last) == (today - timedelta(days=13), today - timedelta(days=8))


def test_calls_without_a_final_status_go_stale_after_the_lookback(client, alice, world):
    env = world["envs"][0]
    now = timezone.now()
    save_calls(env, [build_call(env, now - timedelta(days=4), status="queued",
                                rng=random.Random(1)),
                     build_call(env, now - timedelta(minutes=5), status="ringing",
                                rng=random.Random(2))])
    client.force_login(alice)
    response = client.get("/o/org-a/?range=7d")
    rows = {label: (n, d) for label, n, d in dict(response.context["breakdowns"])[
        "By outcome"]}
    stale = next(label for label in rows if label.startswith("Unknown outcome"))
    assert "2 days" in stale
    for label in ("In progress", stale):
        n, door = rows[label]
        assert n >= 1 and door.calls == n
        assert client.get(door.url).context["page"].paginator.count == n, label


def test_callback_sources_name_their_environment(client, alice, world):
    today = world["today"]
    for env in world["envs"]:
        make_callback_days(env, [today - timedelta(days=1)])
    client.force_login(alice)
    html = client.get("/o/org-a/callbacks/?range=7d").content.decode()
    assert "Source 1 (A main)" in html and "Source 1 (Second)" in html


def test_a_one_day_range_is_drawn_per_hour(client, alice, world, api_client_for):
    client.force_login(alice)
    yesterday = world["today"] - timedelta(days=1)
    response = client.get("/o/org-a/?range=yesterday")
    data = response.context["chart_data"]
    assert data["hourly"] and data["labels"][0] == "00:00" and len(data["labels"]) == 24
    total = sum(n for values in data["status"].values() for n in values)
    assert total == response.context["calls"].totals.total > 0
    hour = max(range(24), key=lambda h: data["status"]["Answered"][h])
    url = data["doors"]["status"][0][hour]
    assert f"start={yesterday}" in url and f"hour={hour}" in url
    opened = client.get(url).context["page"].paginator.count
    assert opened == data["status"]["Answered"][hour]
    # The reports API serves the same hours for a one-day range (and none for longer ones).
    envs = [e.pk for e in world["envs"]]
    api = api_client_for(alice)
    hours = api.get("/api/v1/reports/calls/", {"environment": envs, "start_date": yesterday,
                                               "end_date": yesterday}).json()["summary"]["hours"]
    assert [h["answered"] for h in hours] == data["status"]["Answered"]
    week = api.get("/api/v1/reports/calls/", {"environment": envs, "start_date": yesterday
                                              - timedelta(days=6), "end_date": yesterday})
    assert week.json()["summary"]["hours"] is None
