"""`GET /api/v1/reports/outcomes/`: what a resolved call costs, and repeat contacts, JSON or CSV.

Built on the reports API's parameter checks (`ReportViewSet`: strict parameters, tenant-scoped
environments — another organisation's is 404 —, the one range parser, `?team=` read into the
tenant context by the base viewset); its own parameters are `interval` and the CSV `table`.
The figures and their rule: `reports.queries.outcomes`.
"""
from __future__ import annotations

from django.http import StreamingHttpResponse
from drf_spectacular.utils import OpenApiResponse, OpenApiTypes
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from reports import exports
from reports.api.reports import RangeQuerySerializer, ReportViewSet, report_schema
from reports.queries import Interval, freshness
from reports.queries.common import as_jsonable
from reports.queries.outcomes import outcomes_summary


class OutcomesQuerySerializer(RangeQuerySerializer):
    interval = serializers.ChoiceField(choices=[i.value for i in Interval], default="day")
    table = serializers.ChoiceField(choices=exports.OUTCOMES_TABLES, default="series",
                                    help_text="Table written by format=csv.")


class OutcomesReportViewSet(ReportViewSet):
    """Resolution and cost of the calls of environments of one organisation."""

    @report_schema(OutcomesQuerySerializer, OpenApiResponse(
        OpenApiTypes.OBJECT, description="Outcome summary: totals, series, agents, vendors; "
        "null figures: a day not mirrored or no cost known."))
    def outcomes(self, request: Request) -> Response | StreamingHttpResponse:
        """Calls, answered, settled, resolved, repeat contacts, pending, cost and its source,
        cost per call, per answered and per resolved call."""
        query = self._validated(OutcomesQuerySerializer)
        envs = self._environments(query["environment"])
        scope = self._scope(query, envs)  # the one range parser (reports.scope)
        summary = outcomes_summary(envs, scope.start, scope.end, scope.interval)
        if query.get("format") == "csv":
            name = exports.filename("outcomes", envs[0].organization.slug, scope.start,
                                    scope.end, query["table"])
            return exports.stream_csv(exports.outcomes_rows(summary, query["table"]), name)
        return Response({"summary": as_jsonable(summary),
                         "freshness": as_jsonable(freshness(envs))})
