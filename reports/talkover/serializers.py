"""The Talkover-compatible API's serializers: calls exactly as Talkover lists them, and its
envelopes (documentation of the compatible endpoints)."""
from __future__ import annotations

import zoneinfo

from rest_framework import serializers

from reports.api.serializers import AgentRefSerializer

UTC = zoneinfo.ZoneInfo("UTC")
# Talkover writes instants as "2024-01-01T00:00:00Z".
TALKOVER_DATETIME = "%Y-%m-%dT%H:%M:%SZ"


def talkover_datetime(**kwargs) -> serializers.DateTimeField:
    return serializers.DateTimeField(format=TALKOVER_DATETIME, default_timezone=UTC,
                                     read_only=True, **kwargs)


class TalkoverAgentRefSerializer(AgentRefSerializer):
    """Talkover's embedded `agent` object on a call."""


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
