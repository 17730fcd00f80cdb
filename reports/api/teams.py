"""`/api/v1/teams/`: an organisation's teams (agents across its environments, and leads).

Listed for every member (a member restricted to teams sees their own teams only: the tenant
context, `portal.tenancy.restriction`); created by an owner or admin of the organisation
named by `organization` (its slug). Agents are `{"environment": <our id>, "agent_id":
<upstream id>}`, as the Talkover-compatible API names them; leads are members' usernames.
"""
from __future__ import annotations

from django.db import transaction
from rest_framework import exceptions, mixins, serializers

from portal import audit
from portal.models import (
    Environment,
    Membership,
    Organization,
    Role,
    Team,
    TeamAgent,
    restrict_leads,
)
from portal.tenancy.access import membership_for, organizations_for_user
from portal.tenancy.api import TenantScopedViewSet


class TeamAgentSerializer(serializers.Serializer):
    environment = serializers.IntegerField(min_value=1, max_value=2**31 - 1)
    agent_id = serializers.CharField(max_length=255)


class TeamSerializer(serializers.ModelSerializer):
    organization = serializers.SlugField(max_length=64)
    agents = TeamAgentSerializer(many=True, required=False, max_length=500)
    leads = serializers.ListField(child=serializers.CharField(max_length=150), required=False,
                                  max_length=50)

    class Meta:
        model = Team
        fields = ["id", "organization", "name", "agents", "leads", "created_at"]
        read_only_fields = ["created_at"]

    def to_representation(self, team: Team) -> dict:
        return {
            "id": team.pk, "organization": team.organization.slug, "name": team.name,
            "agents": [{"environment": a.environment_id, "agent_id": a.agent_external_id}
                       for a in team.agents.all()],
            "leads": sorted(u.username for u in team.leads.all()),
            "created_at": team.created_at,
        }

    def validate_organization(self, slug: str) -> Organization:
        org = organizations_for_user(self.context["request"].user).filter(slug=slug).first()
        if org is None:
            raise serializers.ValidationError("No such organisation.")
        membership = membership_for(self.context["request"].user, org)
        if membership is None or not membership.has_role(Role.ADMIN):
            raise exceptions.PermissionDenied(
                "Your role in this organisation is read-only for this resource.")
        return org

    def validate(self, data: dict) -> dict:
        org = data["organization"]
        name = data["name"].strip()
        if not name:
            raise serializers.ValidationError({"name": "A team needs a name."})
        if Team.objects.for_organization(org).filter(name=name).exists():
            raise serializers.ValidationError({"name": "A team of that name exists."})
        envs = set(Environment.objects.for_organization(org).values_list("pk", flat=True))
        unknown = sorted({a["environment"] for a in data.get("agents", [])} - envs)
        if unknown:
            raise serializers.ValidationError(
                {"agents": f"Environments not of this organisation: {unknown}."})
        leads = data.get("leads", [])
        found = {m.user.username: m.user for m in Membership.objects.for_organization(org)
                 .select_related("user").filter(user__username__in=leads)}
        missing = sorted(set(leads) - set(found))
        if missing:
            raise serializers.ValidationError({"leads": f"Not members: {missing}."})
        return {**data, "name": name, "leads": list(found.values())}

    @transaction.atomic
    def create(self, data: dict) -> Team:
        team = Team.objects.create(organization=data["organization"], name=data["name"])
        TeamAgent.objects.bulk_create([
            TeamAgent(team=team, environment_id=a["environment"], agent_external_id=a["agent_id"])
            for a in {(a["environment"], a["agent_id"]): a for a in data.get("agents", [])
                      }.values()])
        team.leads.set(data["leads"])
        restrict_leads(team)  # an analyst or viewer who leads it sees only it
        audit.record("team.created", organization=team.organization, target=team,
                     name=team.name)
        return team


class TeamViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                  TenantScopedViewSet):
    """Teams of the caller's organisations; owners and admins create them."""

    queryset = Team.objects.select_related("organization").prefetch_related(
        "agents", "leads").order_by("organization_id", "name")
    serializer_class = TeamSerializer


__all__ = ["TeamSerializer", "TeamViewSet"]
