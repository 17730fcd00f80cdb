"""`GET /api/v1/reports/quality/`: the Quality report of Origins AI environments, JSON or CSV.

Built on the reports API's parameter checks (`ReportViewSet`: strict parameters, tenant-scoped
environments — another organisation's is 404 —, date range); its own parameters are `agent_id`
and the CSV `table`. A thin layer on purpose: the range comes from the one report scope
parser (`ReportViewSet._scope`).
"""
from __future__ import annotations

from django.http import StreamingHttpResponse
from drf_spectacular.utils import OpenApiResponse, OpenApiTypes
from rest_framework import exceptions, serializers
from rest_framework.request import Request
from rest_framework.response import Response

from portal.models import Environment
from reports import exports
from reports.api.reports import (
    CommaSeparatedList,
    RangeQuerySerializer,
    ReportViewSet,
    report_schema,
)
from reports.queries import freshness
from reports.queries.common import as_jsonable
from reports.queries.quality import origins_environments
from reports.scope import quality_report


class QualityQuerySerializer(RangeQuerySerializer):
    agent_id = CommaSeparatedList(child=serializers.CharField(max_length=64), required=False)
    table = serializers.ChoiceField(choices=exports.QUALITY_TABLES, default="days",
                                        help_text="Table written by format=csv.")

    list_fields = ("environment", "agent_id")


class QualityReportViewSet(ReportViewSet):
    """Voice quality of Origins AI environments per agent and day."""

    def _quality_query(self) -> tuple[dict, list[Environment]]:
        query = self._validated(QualityQuerySerializer)
        envs = self._environments(query["environment"])
        if not origins_environments(envs):
            raise exceptions.ValidationError({"environment": [
                "The Quality report covers Origins AI environments; none was given."]})
        return query, envs

    @report_schema(QualityQuerySerializer, OpenApiResponse(
        OpenApiTypes.OBJECT, description="Quality summary: totals, days with coverage, agents; "
        "null figures were not reported."))
    def quality(self, request: Request) -> Response | StreamingHttpResponse:
        """Latency p50/p90, billed minutes, cost, hang-up and insight breakdowns, coverage."""
        query, envs = self._quality_query()
        scope = self._scope(query, envs)  # the one range parser (reports.scope)
        summary = quality_report(scope)  # cached under the same key as the page's
        if query.get("format") == "csv":
            name = exports.filename("quality", envs[0].organization.slug, scope.start, scope.end,
                                    query["table"])
            return exports.stream_csv(exports.quality_rows(summary, query["table"]), name)
        return Response({"summary": as_jsonable(summary),
                         "freshness": as_jsonable(freshness(envs))})
