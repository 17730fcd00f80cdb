"""REST API viewsets for our own resources; each derives from TenantScopedViewSet.

The Talkover-compatible endpoints live in `reports.talkover.views`, the report endpoints in
`reports.api.reports`.
"""
from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, mixins

from portal.models import Environment
from portal.tenancy.access import environments_for_user
from portal.tenancy.api import TenantScopedViewSet
from reports.api.serializers import AgentSerializer, CallDetailSerializer, EnvironmentSerializer
from reports.filters import AgentFilterSet
from sync.models import Agent, Call

__all__ = ["AgentViewSet", "CallViewSet", "EnvironmentSerializer", "EnvironmentViewSet"]


class EnvironmentViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantScopedViewSet
):
    """Environments of the caller's organisations, with sync freshness."""

    queryset = Environment.objects.select_related("organization").order_by("id")
    serializer_class = EnvironmentSerializer
    team_scoped = True


@extend_schema(parameters=[
    OpenApiParameter("environment_pk", int, OpenApiParameter.PATH,
                     description="Switchboard id of the environment."),
])
class AgentViewSet(mixins.ListModelMixin, TenantScopedViewSet):
    """Mirrored agents of one environment (404 when the environment is not the caller's)."""

    queryset = Agent.objects.order_by("name", "id")
    serializer_class = AgentSerializer
    filterset_class = AgentFilterSet
    team_scoped = True

    def list(self, request, *args, **kwargs):
        visible = environments_for_user(request.user).filter(pk=kwargs["environment_pk"])
        if not visible.exists():
            raise exceptions.NotFound("No such environment.")
        return super().list(request, *args, **kwargs)

    def safely_filter_queryset(self, queryset: QuerySet) -> QuerySet:
        return queryset.filter(environment_id=self.kwargs["environment_pk"])


class CallViewSet(mixins.RetrieveModelMixin, TenantScopedViewSet):
    """One mirrored call with its raw provider record (a transcript and the like)."""

    queryset = Call.objects.select_related("agent")
    serializer_class = CallDetailSerializer
    filter_backends: list = []
    team_scoped = True
