"""The API's team filter: unrestricted members get a team filter everywhere.

On a real sync's ten days (the callback world), the environment's agents are split into two
disjoint teams, Red and Blue; bob is a viewer restricted to Red, bea one restricted to Blue.
Every endpoint family — the reports API, the calls/agents API and the Talkover-compatible
API — asked by the owner with `?team=<Red>` answers exactly what bob gets (the JSON compared
whole, pagination totals included), and the owner's totals are Red's plus Blue's. A bad, a
foreign or (for a restricted member) another team's id is a 404; the schema documents `team`.
"""
from __future__ import annotations

import pytest

from portal.models import Membership, Role, Team, TeamAgent
from sync.models import Agent, Call
from tests.support.cast import make_member

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def split(org_a, org_b, callback_world, bob, django_user_model):
    """(env, start, end, teams, bea): the synced environment's agents in two teams."""
    sim, world = callback_world
    env = world(org_a)
    agents = sorted(Agent.objects.filter(environment=env).values_list("external_id", flat=True))
    assert len(agents) >= 2
    teams = {"red": Team.objects.create(organization=org_a, name="Red"),
             "blue": Team.objects.create(organization=org_a, name="Blue")}
    for i, agent in enumerate(agents):
        TeamAgent.objects.create(team=teams["red" if i % 2 else "blue"], environment=env,
                                 agent_external_id=agent)
    Membership.objects.get(user=bob, organization=org_a).teams.set([teams["red"]])
    bea = make_member(django_user_model, "bea", org_a, Role.VIEWER)
    Membership.objects.get(user=bea).teams.set([teams["blue"]])
    teams["foreign"] = Team.objects.create(organization=org_b, name="Elsewhere")
    return env, sim.start_date, sim.today, teams, bea


def _urls(env, start, end) -> dict[str, tuple[str, dict]]:
    days = {"start_date": start.isoformat(), "end_date": end.isoformat()}
    report = {"environment": env.pk, **days}
    agent = Call.objects.filter(environment=env).order_by("pk").first().agent_external_id
    return {
        "reports/calls": ("/api/v1/reports/calls/", report),
        "reports/callbacks": ("/api/v1/reports/callbacks/", report),
        "reports/callback-funnel": ("/api/v1/reports/callback-funnel/", report),
        "reports/outcomes": ("/api/v1/reports/outcomes/", report),
        "environments": ("/api/v1/environments/", {}),
        "agents": (f"/api/v1/environments/{env.pk}/agents/", {}),
        "talkover calls": (f"/api/v1/environments/{env.pk}/calls", {"per_page": 100}),
        "talkover agent calls": (f"/api/v1/environments/{env.pk}/agents/{agent}/calls", {}),
        "talkover callback stats": (f"/api/v1/environments/{env.pk}/callback-agents/stats",
                                    days),
    }


def _json(client, path: str, params: dict):
    response = client.get(path, params)
    return response.status_code, response.json()


def test_team_filter_answers_as_a_member_restricted_to_that_team(split, alice, bob,
                                                                 api_client_for):
    env, start, end, teams, bea = split
    owner = api_client_for(alice)
    red, blue = teams["red"].pk, teams["blue"].pk
    for name, (path, params) in _urls(env, start, end).items():
        whole = _json(owner, path, params)  # first: a cached organisation-wide answer
        as_red = _json(owner, path, {**params, "team": red})
        assert as_red == _json(api_client_for(bob), path, params), name
        assert as_red[0] in (200, 404), name
        # A restricted member may name their own team: the same answer again.
        assert _json(api_client_for(bob), path, {**params, "team": red}) == as_red, name
        assert _json(owner, path, {**params, "team": blue}) == _json(
            api_client_for(bea), path, params), name
        if name in ("reports/calls", "reports/outcomes"):
            assert as_red != whole, "the cache served the organisation's answer"


def test_owner_totals_are_the_sum_over_disjoint_teams(split, alice, api_client_for):
    env, start, end, teams, _ = split
    owner = api_client_for(alice)
    urls = _urls(env, start, end)

    def figures(team: int | None) -> tuple[int, int, int, int]:
        extra = {"team": team} if team else {}
        path, params = urls["reports/calls"]
        calls = owner.get(path, {**params, **extra}).json()["summary"]
        path, params = urls["talkover calls"]
        listing = owner.get(path, {**params, **extra}).json()["pagination"]
        path, params = urls["agents"]
        agents = owner.get(path, {**params, **extra}).json()["count"]
        return calls["totals"]["total"], len(calls["agents"]), listing["total"], agents

    whole = figures(None)
    red, blue = figures(teams["red"].pk), figures(teams["blue"].pk)
    assert all(part > 0 for part in (*red, *blue)), (red, blue)
    assert whole == tuple(r + b for r, b in zip(red, blue, strict=True))


def test_a_bad_foreign_or_not_own_team_is_a_404(split, alice, bob, api_client_for):
    env, start, end, teams, _ = split
    red_call = Call.objects.filter(
        environment=env, agent_external_id__in=TeamAgent.objects.filter(
            team=teams["red"]).values("agent_external_id")).first()
    blue_call = Call.objects.filter(
        environment=env, agent_external_id__in=TeamAgent.objects.filter(
            team=teams["blue"]).values("agent_external_id")).first()
    owner, restricted = api_client_for(alice), api_client_for(bob)
    assert owner.get(f"/api/v1/calls/{red_call.pk}", {"team": teams["red"].pk}
                     ).status_code == 200
    assert owner.get(f"/api/v1/calls/{blue_call.pk}", {"team": teams["red"].pk}
                     ).status_code == 404
    for path, params in _urls(env, start, end).values():
        # A blank team is no id either (schemathesis: `team=` answered 200 as if absent).
        for client, team in ((owner, "abc"), (owner, ""), (owner, "-1"),
                             (owner, teams["foreign"].pk), (owner, 10**12),
                             (restricted, teams["blue"].pk)):
            response = client.get(path, {**params, "team": team})
            assert response.status_code == 404, (path, team, response.content)
    talkover = owner.get(f"/api/v1/environments/{env.pk}/calls", {"team": "abc"}).json()
    assert talkover == {"success": False, "message": "Not found"}
    # Anonymous: the 401 comes first, whatever the team.
    assert api_client_for().get("/api/v1/environments/", {"team": teams["red"].pk}
                                ).status_code == 401


def test_the_schema_documents_team_on_every_filtered_read(db, alice, api_client_for):
    paths = api_client_for(alice).get("/api/schema/", {"format": "json"}).json()["paths"]
    for path in ("/api/v1/reports/calls/", "/api/v1/reports/callbacks/",
                 "/api/v1/reports/callback-funnel/", "/api/v1/reports/quality/",
                 "/api/v1/reports/outcomes/",
                 "/api/v1/environments/", "/api/v1/environments/{environment_pk}/agents/",
                 "/api/v1/calls/{id}", "/api/v1/environments/{id}/calls",
                 "/api/v1/environments/{id}/agents/{agent_id}/calls",
                 "/api/v1/environments/{id}/callback-agents/stats"):
        team = [p for p in paths[path]["get"]["parameters"] if p["name"] == "team"]
        assert len(team) == 1 and team[0]["in"] == "query", path
        assert team[0]["schema"]["type"] == "integer", path
    assert not [p for p in paths["/api/v1/teams/"]["get"].get("parameters", [])
                if p["name"] == "team"]


def test_a_method_the_view_does_not_answer_is_a_405_whatever_the_team(db, alice,
                                                                        api_client_for):
    """Schemathesis found TRACE …?team=1 answered 404 (the team looked up first)."""
    client = api_client_for(alice)
    assert client.generic("TRACE", "/api/v1/environments/?team=1").status_code == 405
    assert client.post("/api/v1/environments/?team=abc", {}).status_code == 405


def test_a_caller_restricted_in_one_organisation_reads_another_whole(
        db, env_a, env_b, bob, carol, api_client_for):
    """bob, restricted to a team in org A and an owner in org B, gets org B's callback figures
    as carol (B's owner) does: the vendor's stats and their comparison, not a team's."""
    from datetime import date, timedelta

    from tests.support.factories import make_callback_days

    red = Team.objects.create(organization=env_a.organization, name="Red")
    Membership.objects.get(user=bob, organization=env_a.organization).teams.set([red])
    Membership.objects.create(user=bob, organization=env_b.organization, role=Role.OWNER)
    days = [date(2026, 3, 1) + timedelta(days=n) for n in range(5)]
    make_callback_days(env_b, days)
    params = {"environment": env_b.pk, "start_date": days[0], "end_date": days[-1]}
    for path in ("/api/v1/reports/callbacks/", "/api/v1/reports/callback-funnel/"):
        mine = api_client_for(bob).get(path, params)
        assert mine.status_code == 200, mine.content
        assert mine.json() == api_client_for(carol).get(path, params).json(), path
    funnel = api_client_for(bob).get("/api/v1/reports/callback-funnel/", params).json()
    assert funnel["summary"]["vendor_shown"] is True
    callbacks = api_client_for(bob).get("/api/v1/reports/callbacks/", params).json()
    assert callbacks["summary"]["totals"]["received"] > 0


def test_a_restricted_members_talkover_listing_holds_their_teams_calls_only(split, bob,
                                                                          api_client_for):
    """Every page of the compatible listing a member restricted to Red reads holds Red's
    calls and no others (its page statement, compiled once, is the ORM's with the team's
    conditions where a context restricts: reports.talkover.listing._page_rows)."""
    env, start, end, teams, bea = split
    red = TeamAgent.objects.filter(team=teams["red"]).values_list("agent_external_id",
                                                                  flat=True)
    expected = set(Call.objects.filter(environment=env, agent_external_id__in=list(red))
                   .values_list("external_id", flat=True))
    assert 0 < len(expected) < Call.objects.filter(environment=env).count()
    client, seen, page = api_client_for(bob), [], 1
    while True:
        body = client.get(f"/api/v1/environments/{env.pk}/calls",
                          {"per_page": 100, "page": page}).json()
        seen += [item["id"] for item in body["data"]]
        if not body["data"]:
            break
        page += 1
    assert set(seen) == expected and len(seen) == len(expected)
