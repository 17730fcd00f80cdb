"""REST API viewsets; each derives from TenantScopedViewSet, so tenant scoping is not optional."""
from __future__ import annotations

from rest_framework import mixins, serializers

from portal.api import TenantScopedViewSet
from portal.models import Environment


class EnvironmentSerializer(serializers.ModelSerializer):
    organization = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = Environment
        fields = [
            "id", "organization", "name", "provider", "base_url", "token_hint", "status",
            "status_reason", "sync_enabled", "sync_interval_minutes", "last_synced_at",
        ]
        read_only_fields = fields


class EnvironmentViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantScopedViewSet
):
    """Environments of the caller's organisations, with sync freshness."""

    queryset = Environment.objects.select_related("organization").order_by("id")
    serializer_class = EnvironmentSerializer
