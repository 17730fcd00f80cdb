"""Each recipient their own summary.

One subscription, three recipients with three scopes: alice (owner: the whole organisation),
bob (viewer restricted to team Red: Red's figures), and a plain address (the subscription
names team Blue: Blue's figures). Each email's figures are compared with the reports API
asked as that recipient (the address: as a member restricted to Blue), in both languages;
each email names its scope and no other team's agents, and each is sent exactly once.
"""
from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core import mail

from portal.models import Membership, Role, Team, TeamAgent
from reports.summaries.dispatch import dispatch
from sync.models import Agent
from tests.support.cast import make_member
from tests.support.factories import make_calls, make_subscription

RUN = datetime(2026, 11, 23, 11, 0, tzinfo=UTC)  # Monday 08:00 in Sao Paulo
START, END = date(2026, 11, 16), date(2026, 11, 22)
WORDS = {"en": ("Calls", "Scope: team", "Scope: the whole organisation"),
         "pt-br": ("Chamadas", "Escopo: equipe", "Escopo: a organização inteira")}


@pytest.fixture
def teams(env_a, alice, bob, django_user_model):
    org = env_a.organization
    agents = {name: Agent.objects.create(environment=env_a, external_id=f"ag-{name}",
                                         name=f"Agent {name.title()}")
              for name in ("red1", "red2", "blue1")}
    make_calls(env_a, 240, START - timedelta(days=7), END, seed=4, agents=list(agents.values()))
    red = Team.objects.create(organization=org, name="Red")
    blue = Team.objects.create(organization=org, name="Blue")
    for team, names in ((red, ("red1", "red2")), (blue, ("blue1",))):
        for name in names:
            TeamAgent.objects.create(team=team, environment=env_a, agent_external_id=f"ag-{name}")
    Membership.objects.get(user=bob).teams.set([red])
    bea = make_member(django_user_model, "bea", org, Role.VIEWER)  # the address's yardstick
    Membership.objects.get(user=bea).teams.set([blue])
    return {"red": red, "blue": blue, "bea": bea}


def _calls_in(text: str, word: str) -> int:
    found = re.search(rf"^{word}: ([\d.,]+)", text, re.M)
    assert found, text
    return int(found.group(1).replace(",", "").replace(".", ""))


def _api_total(api_client_for, user, env) -> tuple[int, set[str]]:
    answer = api_client_for(user).get("/api/v1/reports/calls/", {
        "environment": env.pk, "start_date": START.isoformat(),
        "end_date": END.isoformat()})
    assert answer.status_code == 200, answer.content
    summary = answer.json()["summary"]
    return summary["totals"]["total"], {a["agent_id"] for a in summary["agents"]}


@pytest.mark.parametrize("language", ["en", "pt-br"])
def test_one_subscription_three_recipients_three_scopes(env_a, alice, bob, teams, language,
                                                        api_client_for):
    make_subscription(env_a.organization, members=[alice, bob], addresses=["ops@example.com"],
                      next_run_at=RUN, team=teams["blue"], language=language)
    result = dispatch(RUN + timedelta(minutes=2))
    assert result.statuses == {"sent": 1}
    by = {m.to[0]: m for m in mail.outbox}
    assert sorted(by) == ["alice@example.com", "bob@example.com", "ops@example.com"]
    calls_word, team_word, org_word = WORDS[language]
    expected = {"alice@example.com": (alice, None), "bob@example.com": (bob, "Red"),
                "ops@example.com": (teams["bea"], "Blue")}
    totals = {}
    for email, (user, team) in expected.items():
        text = by[email].body
        total, agent_ids = _api_total(api_client_for, user, env_a)
        totals[email] = _calls_in(text, calls_word)
        assert totals[email] == total, (email, totals[email], total)
        assert (f"{team_word} {team}" if team else org_word) in text
        names = {f"Agent {a[3:].title()}" for a in agent_ids}
        others = {"Agent Red1", "Agent Red2", "Agent Blue1"} - names
        assert not [n for n in others if n in text], (email, others)
        if team:
            assert team in by[email].subject
    assert totals["alice@example.com"] == (totals["bob@example.com"]
                                           + totals["ops@example.com"])
    # Exactly once per recipient and period: a later tick sends nothing more.
    assert dispatch(RUN + timedelta(minutes=9)).claimed == 0
    assert len(mail.outbox) == 3
