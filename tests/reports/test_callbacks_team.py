"""Callbacks for a team's scope: the vendor's per-day callback stats count every
agent of an environment, so a team's funnel (a restricted member, or `?team=`) shows them as
absent — null in the API with `vendor_shown: false`, "—" and a note on the page, in both
languages — and compares nothing with them, while the organisation's funnel keeps them."""
from __future__ import annotations

import pytest

from portal.models import Team, TeamAgent
from sync.models import Agent

pytestmark = pytest.mark.django_db(transaction=True)
URL = "/api/v1/reports/callback-funnel/"
NOTE = {"en": "The vendor counts every agent; not shown for a team.",
        "pt-br": "O fornecedor conta todos os agentes; não mostrado para uma equipe."}


@pytest.fixture
def synced(org_a, callback_world):
    sim, world = callback_world
    env = world(org_a)
    red = Team.objects.create(organization=org_a, name="Red")
    for agent in Agent.objects.filter(environment=env).order_by("external_id")[::2]:
        TeamAgent.objects.create(team=red, environment=env, agent_external_id=agent.external_id)
    return sim, env, red


def test_the_funnel_api_leaves_the_vendor_out_of_a_team_scope(synced, alice, api_client_for):
    sim, env, red = synced
    params = {"environment": env.pk, "start_date": sim.start_date, "end_date": sim.today}
    whole = api_client_for(alice).get(URL, params).json()["summary"]
    assert whole["vendor_shown"] is True
    assert all(day["vendor"] is not None for day in whole["series"])
    team = api_client_for(alice).get(URL, {**params, "team": red.pk}).json()["summary"]
    assert team["vendor_shown"] is False and team["differing_days"] == []
    assert team["totals"]["vendor"] is None
    assert all(day["vendor"] is None and day["differences"] == [] for day in team["series"])
    assert 0 < team["totals"]["received"] <= whole["totals"]["received"]


@pytest.mark.parametrize("language", ["en", "pt-br"])
def test_the_callbacks_page_says_why_the_vendor_column_is_empty(synced, alice, client,
                                                                language):
    sim, env, red = synced
    client.force_login(alice)
    query = {"start": sim.start_date.isoformat(), "end": sim.today.isoformat()}
    whole = client.get("/o/org-a/callbacks/", query, HTTP_ACCEPT_LANGUAGE=language)
    assert NOTE[language] not in whole.content.decode()
    page = client.get("/o/org-a/callbacks/", {**query, "team": red.pk},
                      HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert NOTE[language] in page
    assert page.count("<span title=") >= (sim.today - sim.start_date).days


def test_the_funnel_steps_of_a_team_page_open_that_teams_calls(synced, alice, client):
    """Each funnel step of the team's callbacks page links to the explorer with `team=`, and
    the explorer lists exactly the calls the step counted (the walk of test_drill_links)."""
    from tests.reports.test_drill_links import _links, _walk

    sim, env, red = synced
    client.force_login(alice)
    url = (f"/o/org-a/callbacks/?start={sim.start_date.isoformat()}"
           f"&end={sim.today.isoformat()}&team={red.pk}")
    assert _walk(client, url) >= 3
    steps = [link["href"] for link in _links(client.get(url).content.decode())
             if "callback=" in link["href"]]
    assert len(steps) >= 3 and all(f"team={red.pk}" in href for href in steps), steps
