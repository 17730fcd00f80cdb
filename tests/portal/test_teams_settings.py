"""Settings → Teams and Members: a lead who is an analyst or a
viewer is restricted to the team without ticking it under Members; a member's row has one
Save (role and teams together); a team is changed in place, never by saving a new one under
its name; teams are in the admin."""
from __future__ import annotations

import re

import pytest
from django.urls import reverse

from portal.models import Membership, Role, Team, TeamAgent
from portal.tenancy.access import restriction_of
from sync.models import Agent

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(env_a, alice, client):
    Agent.objects.create(environment=env_a, external_id="ag-1", name="Ana")
    Agent.objects.create(environment=env_a, external_id="ag-2", name="Bia")
    client.force_login(alice)
    return env_a


def test_a_lead_is_restricted_to_the_team_and_a_team_is_changed_in_place(desk, bob, client):
    env = desk
    bob_m = Membership.objects.get(user=bob)
    answer = client.post("/o/org-a/settings/teams/", {
        "name": "Sales", "agents": [f"{env.pk}:ag-1"], "leads": [str(bob.pk)]})
    assert answer.status_code == 302
    team = Team.objects.get(name="Sales")
    assert list(bob_m.teams.all()) == [team]  # leading it restricts the viewer
    assert restriction_of(bob_m).agents == {(env.pk, "ag-1")}
    # The Members page shows it ticked, as a lead's (not to be unticked there).
    members = client.get("/o/org-a/settings/members/").content.decode()
    assert re.search(rf'name="t{bob_m.pk}-teams" value="{team.pk}" checked disabled', members)
    # A new team under an existing name is refused: a team is changed in place.
    again = client.post("/o/org-a/settings/teams/", {"name": "sales", "agents": []})
    assert again.status_code == 400 and Team.objects.count() == 1
    assert TeamAgent.objects.filter(team=team).count() == 1
    page = client.get(f"/o/org-a/settings/teams/{team.pk}/")
    assert page.status_code == 200 and f'value="{env.pk}:ag-1"' in page.content.decode()
    assert client.post(f"/o/org-a/settings/teams/{team.pk}/", {
        "name": "Sales North", "agents": [f"{env.pk}:ag-2"], "leads": []}).status_code == 302
    team.refresh_from_db()
    assert team.name == "Sales North" and Team.objects.count() == 1
    assert [a.agent_external_id for a in team.agents.all()] == ["ag-2"]
    assert list(bob_m.teams.all()) == []  # no longer leading it: no longer restricted by it
    # Another organisation's team is not editable here.
    assert client.get("/o/org-a/settings/teams/999999/").status_code == 404


def test_one_save_per_member_row_sets_role_and_teams(desk, bob, client):
    team = Team.objects.create(organization=desk.organization, name="Support")
    bob_m = Membership.objects.get(user=bob)
    page = client.get("/o/org-a/settings/members/").content.decode()
    row = page[page.index("<td>bob</td>"):]
    row = row[:row.index("</tr>")]
    assert row.count('type="submit"') == 2  # Save, Remove
    assert f'form="member-{bob_m.pk}" name="t{bob_m.pk}-teams"' in row
    client.post(f"/o/org-a/settings/members/{bob_m.pk}/role/", {
        f"m{bob_m.pk}-role": "analyst", f"t{bob_m.pk}-shown": "1",
        f"t{bob_m.pk}-teams": [str(team.pk)]})
    bob_m.refresh_from_db()
    assert bob_m.role == Role.ANALYST and list(bob_m.teams.all()) == [team]
    client.post(f"/o/org-a/settings/members/{bob_m.pk}/role/", {
        f"m{bob_m.pk}-role": "analyst", f"t{bob_m.pk}-shown": "1"})
    assert list(bob_m.teams.all()) == [] and restriction_of(bob_m) is None


def test_teams_are_in_the_admin(world):
    client = world.client("alice")
    team = Team.objects.create(organization=world.env_a.organization, name="Night shift")
    listing = client.get(reverse("admin:portal_team_changelist"))
    assert listing.status_code == 200 and "Night shift" in listing.content.decode()
    assert client.get(reverse("admin:portal_team_change", args=[team.pk])).status_code == 200
    other = Team.objects.create(organization=world.env_b.organization, name="Theirs")
    assert client.get(reverse("admin:portal_team_change", args=[other.pk])).status_code == 404


def test_a_lead_named_by_the_api_or_the_command_is_restricted_too(desk, bob, api_client_for):
    from django.core.management import call_command

    bob_m = Membership.objects.get(user=bob)
    answer = api_client_for(Membership.objects.get(role="owner").user).post(
        "/api/v1/teams/", {"organization": "org-a", "name": "Api desk", "leads": ["bob"],
                           "agents": [{"environment": desk.pk, "agent_id": "ag-1"}]},
        format="json")
    assert answer.status_code == 201, answer.content
    assert {t.name for t in bob_m.teams.all()} == {"Api desk"}
    call_command("addteam", "org-a", "Cli desk", "--agent", f"{desk.pk}:ag-2", "--lead", "bob")
    assert {t.name for t in bob_m.teams.all()} == {"Api desk", "Cli desk"}
