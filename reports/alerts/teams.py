"""Alerts per team: a rule scoped to a team, and one rule fanned out to every team.

A rule with a `team` watches that team's agents only: it is judged inside a tenant context
carrying the team's restriction (`portal.tenancy.restriction`), so every figure it reads —
rollups per agent, the mirror, the hourly SQL — is narrowed by the same managers that narrow
a restricted member's pages; its environments are the team's among the rule's. It notifies the
team's leads as well as its own recipients.

A rule with `each_team` ("each team below 80 % answer rate") is not judged itself: before each
evaluation it keeps one child rule per team of its organisation (`parent`, `team`, its own
settings copied), and each child has its own state and events — so each team fires, notifies
its leads and resolves on its own, with the exactly-once guarantees every rule keeps.
Callback metrics are judged per team from the funnel's links, as a restricted member's pages
count them (the vendor's daily stats are one environment's, every agent's): received, answered
and unmatched callbacks are the links the team may read; the callback rate is its agents'
outbound calls not answered and, of them, the ones called back (links whose source agent is
theirs); the median time to callback is over its links. Their days count once the calls were
read whole (`reports.alerts.coverage`).
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext

from portal.models import Team, TeamAgent
from portal.tenancy import context as tenant_context
from portal.tenancy.context import TenantContext
from portal.tenancy.restriction import Restriction
from reports.alerts.models import AlertRule

# What a child rule copies from its fan-out parent (everything a user sets but the scope).
COPIED = ("metric", "window", "condition", "threshold", "compare_to", "sensitivity",
          "anomaly_direction", "min_calls", "severity", "emails", "webhook_url",
          "webhook_format", "webhook_secret_ciphertext", "language", "enabled", "snoozed_until",
          "agent_id")


def restriction_of_team(team: Team) -> Restriction:
    agents = TeamAgent.objects.across_organizations().filter(team=team)
    return Restriction(
        organizations=frozenset((team.organization_id,)), environments=frozenset(),
        agents=frozenset(agents.values_list("environment_id", "agent_external_id")),
        teams=frozenset((team.pk,)), names=(team.name,))


@contextmanager
def as_team(rule: AlertRule) -> Iterator[Restriction | None]:
    """Judge `rule` as its team (no team: as before, outside any context)."""
    if rule.team_id is None:
        with nullcontext():
            yield None
        return
    restriction = restriction_of_team(rule.team)
    ctx = TenantContext(organizations=frozenset((rule.organization_id,)), teams=restriction,
                        door="alerts")
    with tenant_context.using(ctx):
        yield restriction


def team_environment_ids(rule: AlertRule, env_ids: list[int],
                         restriction: Restriction | None) -> list[int]:
    if restriction is None:
        return env_ids
    return [e for e in env_ids if e in restriction.by_environment]


def keep_children(parent: AlertRule) -> list[AlertRule]:
    """One child per team of the parent's organisation, its settings the parent's (teams
    removed since: their child is deleted, with its history)."""
    teams = list(Team.objects.across_organizations().filter(
        organization_id=parent.organization_id))
    children = {c.team_id: c for c in AlertRule.objects.across_organizations().filter(
        parent=parent)}
    environments = list(parent.environments.all())
    members = list(parent.members.all())
    kept = []
    for team in teams:
        child = children.pop(team.pk, None) or AlertRule(
            organization_id=parent.organization_id, parent=parent, team=team)
        child.name = f"{parent.name} — {team.name}"[:200]
        for name in COPIED:
            setattr(child, name, getattr(parent, name))
        child.each_team = False
        child.save()
        child.environments.set(environments)
        child.members.set(members)
        kept.append(child)
    for stale in children.values():
        stale.delete()
    return kept
