"""Callback metrics judged per team: a rule that watches a team computes its
callback figures from the team's links, as the funnel and the callbacks page count them for a
member restricted to that team — never from the vendor's daily stats (every agent's).

On a real sync's ten days the environment's agents are split into two disjoint teams. For
each callback metric a Red rule's value equals the Red funnel's (or callbacks summary's)
figure; the callback rate's sample (outbound calls not answered) and numerator (those called
back) of Red and Blue add up to the organisation's, so each is exactly its team's.
"""
from __future__ import annotations

from datetime import timedelta

import pytest

from portal.models import Team, TeamAgent
from portal.tenancy import context as tenant_context
from portal.tenancy.context import TenantContext
from reports.alerts.evaluate import Context, judge
from reports.alerts.models import AlertRule
from reports.alerts.teams import as_team, restriction_of_team
from reports.queries.callback_funnel import callback_funnel
from reports.queries.callbacks import callbacks_summary
from sync.models import Agent

pytestmark = pytest.mark.django_db(transaction=True)
METRICS = ("callback_rate", "median_time_to_callback", "callbacks_answered_rate",
           "callbacks_unmatched_rate")


@pytest.fixture
def split(org_a, callback_world):
    sim, world = callback_world
    env = world(org_a)
    teams = {"red": Team.objects.create(organization=org_a, name="Red"),
             "blue": Team.objects.create(organization=org_a, name="Blue")}
    for i, agent in enumerate(Agent.objects.filter(environment=env).order_by("external_id")):
        TeamAgent.objects.create(team=teams["red" if i % 2 else "blue"], environment=env,
                                 agent_external_id=agent.external_id)
    return sim, env, teams


def _judge(env, metric: str, now, team: Team | None):
    rule = AlertRule.objects.create(
        organization=env.organization, name=f"{metric} {team}", metric=metric, window="7d",
        condition="above", threshold=0, min_calls=1, emails=["ops@example.com"], team=team)
    rule.environments.set([env])
    with as_team(rule):
        return judge(rule, Context(now), [env.pk])


def _as(team: Team | None, read):
    """`read()` inside the context of a member restricted to `team` (None: the whole org)."""
    if team is None:
        return read()
    ctx = TenantContext(organizations=frozenset((team.organization_id,)),
                        teams=restriction_of_team(team))
    with tenant_context.using(ctx):
        return read()


def test_a_team_rules_callback_figures_are_the_teams_own(split):
    sim, env, teams = split
    # The sync read the calls up to the last second of its last UTC day: judged the day after
    # the one before, every day of the 7-day window was read whole.
    now = sim.now - timedelta(days=1) + timedelta(hours=4)
    rates = {}
    for who in ("red", "blue", None):
        team = teams.get(who)
        verdicts = {m: _judge(env, m, now, team) for m in METRICS}
        assert all(v.judged for v in verdicts.values()), {m: v.note for m, v in verdicts.items()}
        span = verdicts["callback_rate"].span
        funnel = _as(team, lambda s=span: callback_funnel([env], s.first_day, s.last_day)).totals
        summary = _as(team, lambda s=span: callbacks_summary([env], s.first_day, s.last_day)
                      ).totals
        rate = verdicts["callback_rate"]
        assert rate.calls == funnel.outbound_unanswered > 0, who
        assert 0 < rate.value <= 100
        assert rate.value == pytest.approx(
            100 * funnel.called_back / funnel.outbound_unanswered, abs=1e-3)
        median = verdicts["median_time_to_callback"]
        assert median.calls == funnel.matched
        assert median.value == round(funnel.median_seconds_to_callback / 60, 4)
        assert verdicts["callbacks_answered_rate"].calls == summary.received > 0
        assert verdicts["callbacks_answered_rate"].value == pytest.approx(
            100 * summary.answered / summary.received, abs=1e-3)
        assert verdicts["callbacks_unmatched_rate"].value == pytest.approx(
            100 * summary.unmatched / summary.received, abs=1e-3)
        rates[who] = (rate.calls, funnel.called_back)
    # Disjoint teams: each outbound call not answered, and each one called back, is exactly
    # one team's.
    assert rates["red"][0] + rates["blue"][0] == rates[None][0]
    assert rates["red"][1] + rates["blue"][1] == rates[None][1]
