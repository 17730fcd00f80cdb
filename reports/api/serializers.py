"""API serializers: our own resources, Talkover-shaped calls, and report dataclasses.

Report payloads are the `reports.queries` dataclasses serialised field for field
(djangorestframework-dataclasses), so the OpenAPI schema follows the dataclasses by itself.
"""
from __future__ import annotations

import zoneinfo

from rest_framework import serializers
from rest_framework_dataclasses.serializers import DataclassSerializer

from portal.models import Environment
from reports.queries import CallbacksSummary, CallsSummary, Freshness
from reports.queries.callback_funnel import CallbackFunnel
from reports.queries.kpis import KpiSummary
from sync.models import Agent, Call

UTC = zoneinfo.ZoneInfo("UTC")
# Talkover writes instants as "2024-01-01T00:00:00Z".
TALKOVER_DATETIME = "%Y-%m-%dT%H:%M:%SZ"


def talkover_datetime(**kwargs) -> serializers.DateTimeField:
    return serializers.DateTimeField(format=TALKOVER_DATETIME, default_timezone=UTC,
                                     read_only=True, **kwargs)


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


class TalkoverAgentRefSerializer(serializers.Serializer):
    """Talkover's embedded `agent` object on a call."""

    id = serializers.CharField(source="external_id", read_only=True)
    name = serializers.CharField(read_only=True)
    label = serializers.CharField(read_only=True)


class TalkoverCallSerializer(serializers.Serializer):
    """A call exactly as Talkover lists it (`id` is the upstream call id)."""

    id = serializers.CharField(source="external_id", read_only=True)
    sid = serializers.CharField(read_only=True)
    to = serializers.CharField(source="to_number", read_only=True)
    to_formatted = serializers.CharField(read_only=True)
    # `from` is a keyword: declared through the class namespace.
    locals()["from"] = serializers.CharField(source="from_number", read_only=True)
    from_formatted = serializers.CharField(read_only=True)
    is_testing = serializers.BooleanField(read_only=True)
    direction = serializers.CharField(read_only=True)
    status = serializers.CharField(read_only=True)
    duration = serializers.IntegerField(read_only=True)
    created_at = talkover_datetime(source="started_at")
    updated_at = talkover_datetime(source="upstream_updated_at", allow_null=True)


class TalkoverCallWithAgentSerializer(TalkoverCallSerializer):
    """A call of the environment-wide listing, which embeds its agent (or null)."""

    agent = TalkoverAgentRefSerializer(read_only=True, allow_null=True)


class CallDetailSerializer(serializers.ModelSerializer):
    """One call with everything mirrored, including the provider's raw record."""

    agent = TalkoverAgentRefSerializer(read_only=True, allow_null=True)
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


# --- Talkover envelopes (documentation of the compatible endpoints) ---------------------------

class TalkoverPaginationSerializer(serializers.Serializer):
    current_page = serializers.IntegerField()
    last_page = serializers.IntegerField()
    per_page = serializers.IntegerField()
    total = serializers.IntegerField()
    # Null on an empty page, as Laravel does.
    locals()["from"] = serializers.IntegerField(allow_null=True)
    to = serializers.IntegerField(allow_null=True)


class TalkoverCallListSerializer(serializers.Serializer):
    success = serializers.BooleanField()
    data = TalkoverCallWithAgentSerializer(many=True)
    pagination = TalkoverPaginationSerializer()


class TalkoverAgentCallListSerializer(serializers.Serializer):
    success = serializers.BooleanField()
    data = TalkoverCallSerializer(many=True)
    pagination = TalkoverPaginationSerializer()


class TalkoverPeriodSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()


class TalkoverSourceAgentSerializer(serializers.Serializer):
    source_agent_id = serializers.CharField()
    name = serializers.CharField()
    count = serializers.IntegerField()


class TalkoverCallbackStatsSerializer(serializers.Serializer):
    """Talkover's callback stats plus what the mirror lacks (`missing_days`)."""

    period = TalkoverPeriodSerializer()
    total_callbacks_received = serializers.IntegerField()
    callbacks_answered = serializers.IntegerField()
    callbacks_unmatched = serializers.IntegerField()
    callbacks_by_source_agent = TalkoverSourceAgentSerializer(many=True)
    complete = serializers.BooleanField(help_text="False when some day was never mirrored.")
    days_mirrored = serializers.IntegerField()
    missing_days = serializers.ListField(
        child=serializers.DateField(),
        help_text="Days in the period never mirrored: not counted, not assumed zero.",
    )


class TalkoverCallbackStatsEnvelopeSerializer(serializers.Serializer):
    success = serializers.BooleanField()
    data = TalkoverCallbackStatsSerializer()


class TalkoverErrorSerializer(serializers.Serializer):
    success = serializers.BooleanField()
    message = serializers.CharField()
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()), required=False
    )


# --- Reports ---------------------------------------------------------------------------------

class FreshnessSerializer(DataclassSerializer):
    class Meta:
        dataclass = Freshness


class CallsSummarySerializer(DataclassSerializer):
    class Meta:
        dataclass = CallsSummary


class CallbacksSummarySerializer(DataclassSerializer):
    class Meta:
        dataclass = CallbacksSummary


class CallsReportSerializer(serializers.Serializer):
    """A calls report: the summary and how fresh each environment's mirror is."""

    summary = CallsSummarySerializer()
    freshness = FreshnessSerializer(many=True)


class CallbacksReportSerializer(serializers.Serializer):
    """A callbacks report: the summary and how fresh each environment's mirror is."""

    summary = CallbacksSummarySerializer()
    freshness = FreshnessSerializer(many=True)


class CallbackFunnelSerializer(DataclassSerializer):
    class Meta:
        dataclass = CallbackFunnel


class CallbackFunnelReportSerializer(serializers.Serializer):
    """The callback funnel (UTC days, the vendor's figures beside ours) and how fresh each
    environment's mirror is."""

    summary = CallbackFunnelSerializer()
    freshness = FreshnessSerializer(many=True)


class KpiSummarySerializer(DataclassSerializer):
    class Meta:
        dataclass = KpiSummary


class KpisReportSerializer(serializers.Serializer):
    """The KPI report (`reports.queries.kpis`: null figures carry their reason) and how
    fresh each environment's mirror is."""

    summary = KpiSummarySerializer()
    freshness = FreshnessSerializer(many=True)
