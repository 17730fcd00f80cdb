"""Report endpoints: `GET /api/v1/reports/calls`, `/reports/callbacks`,
`/reports/callback-funnel` and `/reports/kpis`, JSON or CSV.

Both read their summary through the report scope (`reports.scope`: one parser, one range
rule set, one cache key); `?format=csv` streams one table of the summary (`table=`) as a
download, and JSON answers are rendered once and then served as cached bytes. Parameters are
validated strictly: unknown parameters, bad dates and unknown filter values are 400 with field
errors here; reversed, over-long or out-of-bounds ranges are 400 from the scope's rules.
"""
from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any

from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, OpenApiTypes, extend_schema
from rest_framework import exceptions, renderers, serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from portal.bounds import IdField
from portal.models import Environment
from portal.tenancy.api import TenantScopedViewSet
from portal.throttling import settle_before_error
from reports import exports
from reports.api.serializers import (
    CallbackFunnelReportSerializer,
    CallbacksReportSerializer,
    CallsReportSerializer,
    KpisReportSerializer,
)
from reports.cache import rendered_response
from reports.days import ApiDayField, ScopeError
from reports.queries import Interval, freshness
from reports.scope import (
    ReportScope,
    callback_funnel_report,
    callbacks_report,
    calls_report,
    kpis_report,
    rendered_report,
    scope_from_params,
)
from sync.models.core import CallStatus, Direction


class CSVRenderer(renderers.BaseRenderer):
    """Lets `?format=csv` through content negotiation; the view streams the body itself."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        return b"" if data is None else str(data).encode()


class CommaSeparatedList(serializers.ListField):
    """A list given as repeated parameters and/or comma-separated values."""

    def to_internal_value(self, data):
        values = [part.strip() for item in data for part in str(item).split(",")]
        return super().to_internal_value([v for v in values if v])


class RangeQuerySerializer(serializers.Serializer):
    """Parameters every report takes."""

    environment = CommaSeparatedList(child=IdField(),
                                     allow_empty=False,
                                     help_text="Environment id(s), repeated or comma-separated.")
    start_date = ApiDayField(required=False, help_text="First day (default: 30 days before end).")
    end_date = ApiDayField(required=False, help_text="Last day (default: today).")
    format = serializers.ChoiceField(choices=["json", "csv", "api"], required=False)

    list_fields = ("environment",)


class CallsQuerySerializer(RangeQuerySerializer):
    interval = serializers.ChoiceField(choices=[i.value for i in Interval], default="day")
    agent_id = CommaSeparatedList(child=serializers.CharField(max_length=64), required=False)
    direction = serializers.ChoiceField(choices=Direction.values, required=False)
    status = CommaSeparatedList(child=serializers.ChoiceField(choices=CallStatus.values),
                                required=False)
    include_testing = serializers.BooleanField(default=False)
    table = serializers.ChoiceField(choices=exports.CALLS_TABLES, default="series",
                                        help_text="Table written by format=csv.")

    list_fields = ("environment", "agent_id", "status")


class CallbacksQuerySerializer(RangeQuerySerializer):
    table = serializers.ChoiceField(choices=exports.CALLBACKS_TABLES, default="days",
                                        help_text="Table written by format=csv.")


class CallbackFunnelQuerySerializer(RangeQuerySerializer):
    interval = serializers.ChoiceField(choices=[i.value for i in Interval], default="day")
    table = serializers.ChoiceField(choices=exports.CALLBACK_FUNNEL_TABLES, default="series",
                                    help_text="Table written by format=csv.")


class KpisQuerySerializer(RangeQuerySerializer):
    interval = serializers.ChoiceField(choices=[i.value for i in Interval], default="day")
    agent_id = CommaSeparatedList(child=serializers.CharField(max_length=64), required=False)
    table = serializers.ChoiceField(choices=exports.KPIS_TABLES, default="series",
                                    help_text="Table written by format=csv.")

    list_fields = ("environment", "agent_id")


@functools.cache
def field_names(serializer_class: type[serializers.Serializer]) -> tuple[str, ...]:
    """A query serializer's parameter names, once per class: building a serializer's fields
    deep-copies them, a tenth of a cached report's time when done per request."""
    return tuple(serializer_class().fields)


@functools.lru_cache(maxsize=1024)
def validated_query(serializer_class: type[RangeQuerySerializer],
                    params: tuple[tuple[str, tuple[str, ...]], ...]) -> dict:
    """A report query's parameters checked by `serializer_class`, once per distinct query:
    the checks depend on nothing but the parameters (no database, no clock), and building a
    serializer (its fields deep-copied) was a tenth of a cached report's time. Refused
    queries are not kept (the error is raised again, in the request's language). Callers
    copy the lists before changing them."""
    data = {k: list(values) if k in serializer_class.list_fields else values[-1]
            for k, values in params}
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _query_params(serializer_class: type[RangeQuerySerializer]) -> list[OpenApiParameter]:
    """Document a query serializer's fields (lists as repeatable parameters)."""
    params = []
    for name, field in serializer_class().fields.items():
        many = name in serializer_class.list_fields
        if isinstance(field, serializers.DateField):
            kind = OpenApiTypes.DATE
        elif many and name == "environment":
            kind = OpenApiTypes.INT
        elif isinstance(field, serializers.BooleanField):
            kind = OpenApiTypes.BOOL
        else:
            kind = OpenApiTypes.STR
        choices = getattr(field.child if many else field, "choices", None)
        params.append(OpenApiParameter(
            name, kind, required=field.required, many=many or None, explode=True if many else None,
            enum=list(choices) if choices else None, description=str(field.help_text or ""),
        ))
    return params


CSV_RESPONSE = OpenApiResponse(OpenApiTypes.STR, description="CSV download (format=csv).")


def report_schema(query: type[RangeQuerySerializer], answer: object):
    """The schema of a report action: its query parameters, and its answer as JSON (`answer`)
    or, with `?format=csv`, as CSV — every report is both."""
    return extend_schema(parameters=_query_params(query),
                         responses={(200, "application/json"): answer,
                                    (200, "text/csv"): CSV_RESPONSE})


class CsvErrorsAsJson:
    """A viewset mixin: the errors of a CSV request (`?format=csv`) answer JSON, as the schema
    declares every error (portal/schema.py), so a client can read what to fix."""

    def handle_exception(self, exc: Exception) -> Response:
        response = super().handle_exception(exc)
        if isinstance(getattr(self.request, "accepted_renderer", None), CSVRenderer):
            self.request.accepted_renderer = renderers.JSONRenderer()
            self.request.accepted_media_type = "application/json"
        return response


class ReportViewSet(CsvErrorsAsJson, TenantScopedViewSet):
    """Calls and callbacks summaries of environments of one organisation."""

    queryset = Environment.objects.select_related("organization").order_by("id")
    filter_backends: list = []
    pagination_class = None
    renderer_classes = [renderers.JSONRenderer, renderers.BrowsableAPIRenderer, CSVRenderer]
    team_scoped = True

    def _validated(self, serializer_class: type[RangeQuerySerializer]) -> dict:
        # `team` is the base's team filter (`TenantScopedViewSet.team_scoped`), already read
        # into the tenant context: the report itself never sees it.
        params = {k: params for k, params in self.request.query_params.lists() if k != "team"}
        names = field_names(serializer_class)
        unknown = sorted(set(params) - set(names))
        if unknown:
            raise exceptions.ValidationError({name: [
                "Unknown parameter; expected one of: " + ", ".join((*names, "team")) + "."]
                for name in unknown})
        valid = validated_query(serializer_class,
                                tuple(sorted((k, tuple(v)) for k, v in params.items())))
        return {k: list(v) if isinstance(v, list) else v for k, v in valid.items()}

    def _environments(self, ids: list[int]) -> list[Environment]:
        envs = list(self.get_queryset().filter(pk__in=ids))
        missing = sorted(set(ids) - {e.pk for e in envs})
        if missing:
            raise exceptions.NotFound(f"No such environment: {', '.join(map(str, missing))}.")
        if len({e.organization_id for e in envs}) > 1:
            raise exceptions.ValidationError(
                {"environment": ["A report covers environments of one organisation."]})
        return envs

    def _scope(self, query: dict, envs: list[Environment]) -> ReportScope:
        """The report scope of the request (`reports.scope`: defaults and range rules)."""
        org = envs[0].organization
        today = timezone.now().astimezone(org.tzinfo).date()
        try:
            return scope_from_params(org, envs, query, today=today)
        except ScopeError as exc:
            raise exceptions.ValidationError(exc.errors) from None

    def _report(self, kind: str, query_class: type[RangeQuerySerializer],
                summary_of: Callable[[ReportScope], Any],
                serializer_class: type[serializers.Serializer],
                rows_of: Callable[[Any, str, list[Environment]], Iterable]
                ) -> Response | HttpResponse | StreamingHttpResponse:
        """One report action: its query checked, its scope, then the asked table as CSV
        (`?format=csv`: `rows_of(summary, table, environments)`, the file named after the
        kind) or the report as JSON."""
        query = self._validated(query_class)
        envs = self._environments(query["environment"])
        scope = self._scope(query, envs)
        if query.get("format") == "csv":
            name = exports.filename(kind.replace("_", "-"), envs[0].organization.slug,
                                    scope.start, scope.end, query["table"])
            return exports.stream_csv(rows_of(summary_of(scope), query["table"], envs), name)
        return self._report_response(kind, scope, summary_of, serializer_class)

    def _report_response(self, kind: str, scope: ReportScope,
                         summary_of: Callable[[ReportScope], Any],
                         serializer_class: type[serializers.Serializer]
                         ) -> Response | HttpResponse:
        """The report as JSON: rendered once per summary and freshness, then the cached bytes
        are sent as they are (no serialiser, no renderer: a cached report is a cache read).
        Other renderers (the browsable API) get the data as usual."""
        fresh = freshness(scope.environments)

        def data() -> dict:
            return serializer_class({"summary": summary_of(scope), "freshness": fresh}).data

        if type(self.request.accepted_renderer) is not renderers.JSONRenderer:
            return Response(data())
        # Freshness is computed per request from the environment rows (a stale flag turns on
        # with time alone, a name or status changes without a sync): the bytes depend on it,
        # so it is part of the variant.
        variant = "json:" + repr([(f.environment_id, f.name, f.status, f.stale) for f in fresh])
        deferred = getattr(self.request, "deferred_throttle", None)
        return rendered_response(rendered_report(
            kind, scope, variant, lambda: renderers.JSONRenderer().render(data()),
            deferred.read if deferred is not None else None))

    def throttle_with_cache_read(self, request: Request) -> bool:
        """A JSON report's first Redis call is its cached rendering's read: the API throttle
        counts the request in that same round trip (portal.throttling.DeferredHit). Before
        it only the token, the environments and the parameters are read; a request that
        fails before it is counted in `handle_exception`."""
        return (self.action in ("calls", "callbacks", "callback_funnel", "kpis")
                and type(request.accepted_renderer) is renderers.JSONRenderer
                and "format" not in request.query_params)

    def handle_exception(self, exc):
        # An invalid parameter or an unknown environment ended the request before the read:
        # it still counts against the throttle, and is refused with 429 when over it.
        return super().handle_exception(settle_before_error(self.request, exc))

    @report_schema(CallsQuerySerializer, CallsReportSerializer)
    @action(detail=False, url_path="calls")
    def calls(self, request: Request) -> Response | StreamingHttpResponse:
        """Calls summary: totals, series, per-agent table, heatmap, previous period, deltas."""
        return self._report("calls", CallsQuerySerializer, calls_report, CallsReportSerializer,
                            lambda summary, table, envs: exports.calls_rows(
                                summary, table, {e.pk: e.name for e in envs}))

    @report_schema(CallbacksQuerySerializer, CallbacksReportSerializer)
    @action(detail=False, url_path="callbacks")
    def callbacks(self, request: Request) -> Response | StreamingHttpResponse:
        """Callbacks summary: totals, per day (missing days marked), per source agent."""
        return self._report("callbacks", CallbacksQuerySerializer, callbacks_report,
                            CallbacksReportSerializer,
                            lambda summary, table, _envs: exports.callbacks_rows(summary, table))

    @report_schema(CallbackFunnelQuerySerializer, CallbackFunnelReportSerializer)
    @action(detail=False, url_path="callback-funnel")
    def callback_funnel(self, request: Request) -> Response | StreamingHttpResponse:
        """Callback funnel per UTC day (or week, month): unanswered outbound calls, called
        back, callbacks answered, time to callback, by source agent; the vendor's figures
        beside ours and every day where they differ."""
        return self._report("callback_funnel", CallbackFunnelQuerySerializer,
                            callback_funnel_report, CallbackFunnelReportSerializer,
                            lambda summary, table, _envs: exports.callback_funnel_rows(
                                summary, table))

    @report_schema(KpisQuerySerializer, KpisReportSerializer)
    @action(detail=False, url_path="kpis")
    def kpis(self, request: Request) -> Response | StreamingHttpResponse:
        """KPIs for AI agents per period, agent and vendor (`reports.queries.kpis`): answer,
        abandon, voicemail, transfer and containment rates, handle time, time to answer,
        peak concurrency, the vendors' success rate and how often "successful" calls came
        back; a figure a vendor sends nothing for is null, its reason in `reasons`."""
        return self._report("kpis", KpisQuerySerializer, kpis_report, KpisReportSerializer,
                            lambda summary, table, _envs: exports.kpis_rows(summary, table))
