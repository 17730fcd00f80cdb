"""Drill links keep the team filter: a page read as one team's (`?team=`) opens the
explorer on that team's calls, so every door lists exactly the calls its figure counted.

The walk of `test_drill_links` (render the page, follow every link to the explorer, compare
the explorer's total with the link's count) on pages filtered by a team that holds only some
of the agents: a door that lost `team=` would list the other agents' calls too and fail.
"""
from __future__ import annotations

import pytest

from portal.models import Team, TeamAgent
from sync.models import Agent
from tests.reports.test_drill_links import _links, _walk, world  # noqa: F401  (the fixture)


@pytest.fixture
def team(world):  # noqa: F811  (the imported fixture)
    """A team of one agent in each environment: a part of every figure."""
    red = Team.objects.create(organization=world["org"], name="Red")
    for env in world["envs"]:
        agent = Agent.objects.filter(environment=env).order_by("external_id").first()
        TeamAgent.objects.create(team=red, environment=env, agent_external_id=agent.external_id)
    return red


def _explorer_links(client, url: str) -> list[str]:
    html = client.get(url).content.decode()
    return [link["href"] for link in _links(html) if "/o/org-a/calls/" in link["href"]]


@pytest.mark.parametrize("page", ["/o/org-a/?range=7d", "/o/org-a/agents/?range=30d"])
def test_every_door_of_a_team_page_opens_that_teams_calls(client, alice, team, page):
    client.force_login(alice)
    url = f"{page}&team={team.pk}"
    assert _walk(client, url) > 10  # each door lists exactly the calls its figure counts
    links = _explorer_links(client, url)  # the kept page now: the same doors
    assert len(links) > 10
    assert all(f"team={team.pk}" in href for href in links), [
        href for href in links if f"team={team.pk}" not in href]
    whole = _explorer_links(client, page)
    assert not [href for href in whole if "team=" in href]


def test_navigation_keeps_the_team(client, alice, team):
    client.force_login(alice)
    html = client.get(f"/o/org-a/?range=7d&team={team.pk}").content.decode()
    for page in ("calls", "callbacks", "agents"):
        assert f'/o/org-a/{page}/?range=7d&amp;team={team.pk}"' in html, page
    html = client.get(f"/o/org-a/calls/?range=7d&team={team.pk}").content.decode()
    assert f'/o/org-a/?range=7d&amp;team={team.pk}"' in html
