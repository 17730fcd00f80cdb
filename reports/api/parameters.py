"""The reports' query parameters, checked strictly (unknown values and bad dates are 400 with
field errors): the range every report takes, and each report's own. A report's declaration
(`reports.registry`) names its class here; the API adds the CSV `table` choice from the
declaration's tables (`reports.api.reports.query_serializer`)."""
from __future__ import annotations

from rest_framework import serializers

from portal.bounds import IdField
from reports.days import ApiDayField
from reports.queries import Interval
from sync.models.core import CallStatus, Direction


class CommaSeparatedList(serializers.ListField):
    """A list given as repeated parameters and/or comma-separated values."""

    def to_internal_value(self, data):
        values = [part.strip() for item in data for part in str(item).split(",")]
        return super().to_internal_value([v for v in values if v])


class RangeParameters(serializers.Serializer):
    """Parameters every report takes."""

    environment = CommaSeparatedList(child=IdField(),
                                     allow_empty=False,
                                     help_text="Environment id(s), repeated or comma-separated.")
    start_date = ApiDayField(required=False, help_text="First day (default: 30 days before end).")
    end_date = ApiDayField(required=False, help_text="Last day (default: today).")
    format = serializers.ChoiceField(choices=["json", "csv", "api"], required=False)

    list_fields: tuple[str, ...] = ("environment",)


def interval_field() -> serializers.ChoiceField:
    return serializers.ChoiceField(choices=[i.value for i in Interval], default="day")


def agents_field() -> CommaSeparatedList:
    return CommaSeparatedList(child=serializers.CharField(max_length=64), required=False)


class CallsParameters(RangeParameters):
    interval = interval_field()
    agent_id = agents_field()
    direction = serializers.ChoiceField(choices=Direction.values, required=False)
    status = CommaSeparatedList(child=serializers.ChoiceField(choices=CallStatus.values),
                                required=False)
    include_testing = serializers.BooleanField(default=False)

    list_fields = ("environment", "agent_id", "status")


class IntervalParameters(RangeParameters):
    interval = interval_field()


class AgentParameters(RangeParameters):
    agent_id = agents_field()

    list_fields = ("environment", "agent_id")


class OutcomesParameters(RangeParameters):
    interval = interval_field()
    agent_id = agents_field()
    direction = serializers.ChoiceField(choices=Direction.values, required=False)

    list_fields = ("environment", "agent_id")


class IntervalAgentParameters(RangeParameters):
    interval = interval_field()
    agent_id = agents_field()

    list_fields = ("environment", "agent_id")
