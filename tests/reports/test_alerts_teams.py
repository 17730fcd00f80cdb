"""Alerts per team: one rule fanned out to each team, a team's figures
judged as that team, and its leads notified; a restricted member sees only their team's rule.
"""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.core import mail
from django.test import Client

from portal.models import Membership, Team, TeamAgent
from reports.alerts.evaluate import evaluate_rules
from reports.alerts.models import AlertEvent, AlertRule
from sync.models import Agent
from tests.support.factories import build_call, mark_read, save_calls

DAY = date(2026, 11, 20)
JUDGED_AT = datetime(2026, 11, 21, 15, tzinfo=UTC)  # "last complete day" = DAY (Sao Paulo)


@pytest.fixture
def teams(env_a, alice, bob, django_user_model):
    org = env_a.organization
    tz = org.tzinfo
    calls = []
    for name, answered in (("red", 18), ("blue", 6)):  # of 20 calls each: 90 %, 30 %
        agent = Agent.objects.create(environment=env_a, external_id=f"ag-{name}",
                                     name=f"Agent {name}")
        for i in range(20):
            start = datetime.combine(DAY, time(9), tzinfo=tz) + timedelta(minutes=i)
            calls.append(build_call(env_a, start, agent=agent, external_id=f"{name}-{i}",
                                    status="completed" if i < answered else "no-answer",
                                    direction="inbound", duration=30))
    save_calls(env_a, calls, read=False)
    mark_read(env_a, DAY - timedelta(days=8), DAY + timedelta(days=1))
    red = Team.objects.create(organization=org, name="Red")
    blue = Team.objects.create(organization=org, name="Blue")
    TeamAgent.objects.create(team=red, environment=env_a, agent_external_id="ag-red")
    TeamAgent.objects.create(team=blue, environment=env_a, agent_external_id="ag-blue")
    blue.leads.add(bob)
    red.leads.add(alice)
    Membership.objects.get(user=bob).teams.set([blue])
    return {"red": red, "blue": blue}


def test_each_team_below_80_percent_fires_for_blue_only_and_tells_its_leads(env_a, teams,
                                                                             bob):
    rule = AlertRule.objects.create(organization=env_a.organization, name="Answer rate",
                                    metric="answer_rate", window="day", condition="below",
                                    threshold=80, min_calls=5, each_team=True)
    rule.environments.set([env_a])
    evaluate_rules(JUDGED_AT)
    children = {c.team.name: c for c in AlertRule.objects.across_organizations().filter(
        parent=rule)}
    assert set(children) == {"Red", "Blue"}
    assert children["Blue"].state == "firing" and children["Red"].state == "ok"
    assert children["Blue"].last_value == pytest.approx(30)
    assert children["Red"].last_value == pytest.approx(90)
    rule.refresh_from_db()
    assert rule.state == "ok"  # the fan-out rule itself is never judged
    events = AlertEvent.objects.across_organizations().filter(rule__parent=rule)
    assert [e.rule.team.name for e in events] == ["Blue"]
    assert [m.to for m in mail.outbox] == [["bob@example.com"]]  # Blue's lead
    # Judged again: nothing new (one notification per state change).
    evaluate_rules(JUDGED_AT + timedelta(minutes=5))
    assert len(mail.outbox) == 1
    # bob, restricted to Blue, sees Blue's rule, never Red's nor the organisation-wide parent.
    client = Client()
    client.force_login(bob)
    listed = {r["name"] for r in client.get("/api/v1/alert-rules/").json()["results"]}
    assert listed == {"Answer rate — Blue"}
    assert client.get(f"/api/v1/alert-rules/{children['Red'].pk}/").status_code == 404


def test_a_team_rule_judges_the_teams_figures(env_a, teams):
    rule = AlertRule.objects.create(organization=env_a.organization, name="Red calls",
                                    metric="calls", window="day", condition="below",
                                    threshold=25, team=teams["red"])
    rule.environments.set([env_a])
    evaluate_rules(JUDGED_AT)
    rule.refresh_from_db()
    assert rule.last_value == 20 and rule.state == "firing"  # 20 of the day's 40 are Red's
    assert [m.to for m in mail.outbox] == [["alice@example.com"]]  # Red's lead
