"""Each recipient their own summary: which figures a recipient of a subscription may read.

A subscription is rendered once per recipient as that recipient: a member restricted to
teams gets their teams' figures and agents (their `Restriction`, `portal.models.teams`), a
member who sees the whole organisation gets the whole organisation's, and a plain address
(nobody we could render as) gets the scope the subscription names
(`ReportSubscription.team`; none: the whole organisation). The summary is
then built inside a tenant context carrying that restriction, so the same report functions
and the same managers narrow it as they narrow the portal's pages (`portal.tenancy`).
"""
from __future__ import annotations

from datetime import datetime

from portal.models import Environment, Membership, Organization, Team, TeamAgent
from portal.tenancy import context as tenant_context
from portal.tenancy import registry as tenancy
from portal.tenancy.access import restriction_of
from portal.tenancy.context import TenantContext
from portal.tenancy.restriction import Restriction
from reports.models import ReportSubscription
from reports.summaries.figures import Summary, build_summary
from reports.summaries.schedule import Period


def team_restriction(team: Team) -> Restriction:
    """What a plain address may read of a subscription naming `team`."""
    agents = TeamAgent.objects.for_organization(team.organization_id).filter(team=team)
    return Restriction(
        organizations=frozenset((team.organization_id,)), environments=frozenset(),
        agents=frozenset(agents.values_list("environment_id", "agent_external_id")),
        teams=frozenset((team.pk,)), names=(team.name,))


def recipient_scopes(sub: ReportSubscription) -> dict[str, Restriction | None]:
    """Every recipient's address → what they may read (None: the whole organisation)."""
    named = team_restriction(sub.team) if sub.team_id else None
    users = list(tenancy.scope(sub.members.all(), sub.organization).exclude(email=""))
    memberships = {m.user_id: m for m in Membership.objects.for_organization(
        sub.organization).filter(user__in=[u.pk for u in users])}
    scopes: dict[str, Restriction | None] = {}
    for user in users:
        membership = memberships.get(user.pk)
        mine = restriction_of(membership) if membership is not None else None
        scopes.setdefault(user.email.lower(), mine)
    for address in sub.addresses:
        scopes.setdefault(address.lower(), named)
    return scopes


def summary_as(restriction: Restriction | None, organization: Organization,
               envs: list[Environment], period: Period, now: datetime | None = None, *,
               build=build_summary) -> Summary | None:
    """The summary `restriction` may read (None: none of `envs` holds one of its agents)."""
    if restriction is None:
        return build(organization, envs, period, now)
    envs = [e for e in envs if e.pk in restriction.by_environment]
    if not envs:
        return None
    ctx = TenantContext(organizations=frozenset((organization.pk,)), teams=restriction,
                        known_environment_ids=lambda: [e.pk for e in envs], door="summary")
    with tenant_context.using(ctx):
        summary = build(organization, envs, period, now)
    summary.team_names = list(restriction.names)
    return summary


def scope_key(restriction: Restriction | None) -> str:
    return "" if restriction is None else restriction.fingerprint
