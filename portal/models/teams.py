"""Teams: a set of agents across one organisation's environments, with leads.

A member given teams (`Membership.teams`) is *restricted*: inside a request the tenant
context carries their teams' (environment, upstream agent id) pairs and every tenant model's
manager narrows to them (`portal.tenancy.restriction`). A member without teams sees the whole
organisation. Leading a team restricts an analyst or a viewer to it too (`restrict_leads`:
the lead's membership is given the team, so the one list of a member's teams is the rule),
without ticking it again under Members. Agents are named by their upstream id, as the
Talkover-compatible API shows it, so a team may name an agent the mirror has not read yet and
rollups (keyed by that id) need no join.
"""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from portal.models.environments import Environment
from portal.models.tenants import Organization, Role
from portal.tenancy.registry import TenantModel

# Roles that may be restricted to teams: owners and admins run the whole organisation.
RESTRICTABLE_ROLES = (Role.ANALYST, Role.VIEWER)


class Team(TenantModel):
    """A named set of agents of one organisation, and the members who lead it."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE,
                                     related_name="teams", verbose_name=_("organization"))
    name = models.CharField(max_length=100, verbose_name=_("name"))
    leads = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True,
                                   related_name="led_teams", verbose_name=_("leads"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["organization", "name"],
                                               name="team_unique_name")]

    def __str__(self) -> str:
        return self.name


class TeamAgent(TenantModel):
    """One agent of a team: an environment of the team's organisation and an upstream id."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="agents",
                             verbose_name=_("team"))
    environment = models.ForeignKey(Environment, on_delete=models.CASCADE,
                                    related_name="team_agents", verbose_name=_("environment"))
    agent_external_id = models.CharField(max_length=255, verbose_name=_("agent ID"))

    class Meta:
        verbose_name = _("team agent")
        verbose_name_plural = _("team agents")
        constraints = [models.UniqueConstraint(
            fields=["team", "environment", "agent_external_id"], name="teamagent_unique")]

    def __str__(self) -> str:
        return f"{self.environment_id}:{self.agent_external_id}"


def restrict_leads(team: Team, before: set[int] | None = None) -> None:
    """After `team`'s leads were set: each lead with a restrictable role is restricted to it
    (their membership is given the team); a lead removed since `before` (user ids) is no
    longer restricted by it. Owners and admins lead without being restricted."""
    from portal.models.tenants import Membership

    leads = set(team.leads.values_list("pk", flat=True))
    members = Membership.objects.for_organization(team.organization_id)
    for member in members.filter(user_id__in=leads, role__in=RESTRICTABLE_ROLES):
        member.teams.add(team)
    for member in members.filter(user_id__in=(before or set()) - leads):
        member.teams.remove(team)


def led_teams(membership) -> list[Team]:
    """The teams of its organisation the member leads (kept when their teams are changed:
    a restrictable lead is restricted to what they lead)."""
    if membership.role not in RESTRICTABLE_ROLES:
        return []
    return list(Team.objects.for_organization(membership.organization_id).filter(
        leads=membership.user_id))
