"""Teams on top of the resolver walk's world: org A's agents split between two teams.

Red: org A's world agent (`ag-<env_a>`) with its call. Blue: a second agent in env_a and an
agent in a second environment of org A ("A second"), each with a call. bob (viewer in A) is
restricted to Red; vic is an unrestricted viewer in A, the answer bob's is compared with.
`samples_red` are org A's ids (bob's own team); `samples_blue_other` / `samples_blue_same` a
Blue call and agent in the second environment / in env_a.
"""
from __future__ import annotations

from datetime import UTC, datetime

from portal.models import Membership, Role, Team, TeamAgent
from reports.models import AlertEvent, AlertRule
from sync.models import Agent
from tests.support.cast import make_env, make_member
from tests.support.factories import make_call


def add_teams(world, django_user_model):
    env_a = world.env_a
    org = env_a.organization
    env_a2 = make_env(org, "A second zq-env", "talq_cccccccccccccccccccccccccccc3333")
    red_agent = world.pairs[Agent][0]
    blue_same = Agent.objects.create(environment=env_a, external_id="ag-blue-1",
                                     name="Agent Bluefin zq1")
    blue_other = Agent.objects.create(environment=env_a2, external_id="ag-blue-2",
                                      name="Agent Bluebird zq2")
    call_same = make_call(env_a, blue_same, 7, sid="SID-BLUE-SAME-zq")
    call_other = make_call(env_a2, blue_other, 8, sid="SID-BLUE-OTHER-zq")
    red = Team.objects.create(organization=org, name="Red")
    blue = Team.objects.create(organization=org, name="Blue")
    TeamAgent.objects.create(team=red, environment=env_a, agent_external_id=red_agent.external_id)
    TeamAgent.objects.create(team=blue, environment=env_a, agent_external_id="ag-blue-1")
    TeamAgent.objects.create(team=blue, environment=env_a2, agent_external_id="ag-blue-2")
    bob = world.users["bob"]
    Membership.objects.get(user=bob, organization=org).teams.set([red])
    vic = make_member(django_user_model, "vic", org, Role.VIEWER)
    red.leads.add(world.users["alice"])
    world.users["vic"] = vic
    world.teams = {"red": red, "blue": blue}
    world.env_a2 = env_a2
    # Org A's rule watches team Red (an organisation-wide rule is hidden from bob: its figures
    # are every agent's); team Blue has its own rule and event.
    rule_red = world.pairs[AlertRule][0]
    rule_red.team = red
    rule_red.save(update_fields=["team"])
    rule_blue = AlertRule.objects.create(organization=org, name="Alert Blue zq-rule",
                                         metric="calls", condition="below", threshold=1,
                                         team=blue)
    rule_blue.environments.set([env_a, env_a2])
    event_blue = AlertEvent.objects.create(
        rule=rule_blue, organization=org, seq=1, state="firing", metric="calls", value=0,
        threshold=1, created_at=datetime(2026, 11, 20, tzinfo=UTC), notify_status="sent")
    base = {**world.samples[0], "team": red.pk}
    world.samples_red = base
    world.samples_blue_other = {**base, "env": env_a2.pk, "call": call_other.pk,
                                "agent_ext": "ag-blue-2", "rule": rule_blue.pk, "team": blue.pk,
                                "event": event_blue.pk}
    world.samples_blue_same = {**base, "call": call_same.pk, "agent_ext": "ag-blue-1",
                               "team": blue.pk,
                               "rule": rule_blue.pk, "event": event_blue.pk}
    world.blue_markers = ["Agent Bluefin zq1", "Agent Bluebird zq2", "SID-BLUE-SAME-zq",
                          "SID-BLUE-OTHER-zq", "A second zq-env", "Alert Blue zq-rule"]
    return world
