"""Small edges an ops lead met walking the portal: two agents of one name in the alert form
told apart by their environment, another team's environment a 404 on the Calls page as from
the API, and the agents page's price days as local days."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.test import Client

from portal.models import Membership, Role, Team, TeamAgent
from reports.alerts.forms import agent_choices
from sync.models import Agent, AgentPrice
from tests.support.cast import make_env, make_member
from tests.support.factories import make_call


def test_the_alert_forms_agents_of_one_name_name_their_environment(env_a):
    org = env_a.organization
    env_2 = make_env(org, "Support desk", "talq_cccccccccccccccccccccccccccc3333")
    Agent.objects.create(environment=env_a, external_id="cb-1", name="Callback Desk")
    Agent.objects.create(environment=env_2, external_id="cb-2", name="Callback Desk")
    Agent.objects.create(environment=env_2, external_id="ann", name="Ann Lee")
    Agent.objects.create(environment=env_2, external_id="4012")
    options = dict(o for _group, group in agent_choices(org, "")[1:] for o in group)
    assert options["cb-1"] == "Callback Desk (A main)"
    assert options["cb-2"] == "Callback Desk (Support desk)"
    assert options["ann"] == "Ann Lee"  # one of its name: nothing added
    assert options["4012"] == "Agent #4012"


def test_a_restricted_lead_asking_for_another_teams_environment_gets_404(
        env_a, django_user_model):
    org = env_a.organization
    env_2 = make_env(org, "Blue desk", "talq_cccccccccccccccccccccccccccc3333")
    ann = Agent.objects.create(environment=env_a, external_id="ann", name="Ann Lee")
    make_call(env_a, ann, 1)
    red = Team.objects.create(organization=org, name="Red")
    TeamAgent.objects.create(team=red, environment=env_a, agent_external_id="ann")
    lead = make_member(django_user_model, "lena", org, Role.ANALYST)
    Membership.objects.get(user=lead, organization=org).teams.set([red])
    red.leads.add(lead)
    client = Client()
    client.force_login(lead)
    assert client.get(f"/o/org-a/calls/?env={env_a.pk}").status_code == 200
    assert client.get(f"/o/org-a/calls/?env={env_2.pk}").status_code == 404
    assert client.get(f"/api/v1/environments/{env_2.pk}/calls").status_code == 404
    # An id that is no environment at all is still a bad request, as before.
    assert client.get("/o/org-a/calls/?env=abc").status_code == 400


def test_the_agents_pages_price_days_are_local_days(alice, env_a):
    ann = Agent.objects.create(environment=env_a, external_id="ann", name="Ann Lee")
    make_call(env_a, ann, 1)
    AgentPrice.objects.create(environment=env_a, agent_external_id="ann",
                              valid_from=date(2026, 11, 28), checked_on=date(2026, 11, 28),
                              currency="USD", per_minute=Decimal("0.09"))
    client = Client()
    client.force_login(alice)
    html = client.get("/o/org-a/agents/?range=90d").content.decode()
    prices = html[html.index("<h2>Prices</h2>"):]
    # The UTC day 11/28 began at 9 PM on 11/27 in São Paulo.
    assert "<td>11/27/2026</td><td>11/27/2026</td>" in prices
