"""API serializers: our own resources and report dataclasses (the compatible API's are
`reports.talkover.serializers`).

Report payloads are the declarations' result dataclasses serialised field for field
(djangorestframework-dataclasses, `reports.api.reports.answer_serializer`), so the OpenAPI
schema follows the dataclasses by itself.
"""
from __future__ import annotations

from rest_framework import serializers
from rest_framework_dataclasses.serializers import DataclassSerializer

from portal.models import Environment
from reports.queries import Freshness
from sync.models import Agent, Call


class EnvironmentSerializer(serializers.ModelSerializer):
    """An environment with its sync freshness; the token appears only as its hint."""

    organization = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    # Empty when the environment uses its provider's default address: a URL or "" (so not
    # documented as format "uri", which "" would violate).
    base_url = serializers.CharField(
        read_only=True, help_text="The upstream API's address; empty: the provider's default.")

    class Meta:
        model = Environment
        fields = [
            "id", "organization", "name", "provider", "base_url", "token_hint", "status",
            "status_reason", "sync_enabled", "sync_interval_minutes", "last_synced_at",
        ]
        read_only_fields = fields


class AgentSerializer(serializers.ModelSerializer):
    """A mirrored agent; `id` is ours, `external_id` the upstream's."""

    class Meta:
        model = Agent
        fields = [
            "id", "environment", "external_id", "name", "label", "description", "language",
            "direction", "current_status", "is_sandbox", "is_callback", "source_agent_ids",
            "missing", "upstream_created_at", "upstream_updated_at", "first_seen_at",
            "last_seen_at",
        ]
        read_only_fields = fields


class AgentRefSerializer(serializers.Serializer):
    """A call's agent, embedded: its upstream id, name and label."""

    id = serializers.CharField(source="external_id", read_only=True)
    name = serializers.CharField(read_only=True)
    label = serializers.CharField(read_only=True)


class CallDetailSerializer(serializers.ModelSerializer):
    """One call with everything mirrored, including the provider's raw record."""

    agent = AgentRefSerializer(read_only=True, allow_null=True)
    # The record as sent (`Call.record`; `raw` may hold only what the columns do not).
    raw = serializers.JSONField(source="record", read_only=True)

    class Meta:
        model = Call
        fields = [
            "id", "environment", "external_id", "sid", "agent", "agent_external_id",
            "to_number", "to_formatted", "from_number", "from_formatted", "direction",
            "status", "provider_status", "duration", "billed_duration", "is_testing",
            "started_at", "answered_at", "ended_at", "upstream_updated_at", "hangup_cause",
            "hangup_source", "vendor_cost", "vendor_cost_currency", "cost_breakdown",
            "first_seen_at", "last_changed_at", "raw",
        ]
        read_only_fields = fields


# --- Reports ---------------------------------------------------------------------------------

class FreshnessSerializer(DataclassSerializer):
    class Meta:
        dataclass = Freshness
