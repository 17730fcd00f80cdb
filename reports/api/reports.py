"""Report endpoints: `GET /api/v1/reports/<report>/`, one action per report declaration
(`reports.registry`: calls, callbacks, callback-funnel, outcomes, quality, …), JSON or CSV.

Each reads its report through the declaration (one parser, one range rule set, one cache key,
one typed result); `?format=csv` streams one of the declaration's tables (`table=`) as a
download, and JSON answers are rendered once and then served as cached bytes. Parameters are
validated strictly: unknown parameters, bad dates and unknown filter values are 400 with field
errors here; reversed, over-long or out-of-bounds ranges are 400 from the scope's rules.
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime

from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, OpenApiTypes, extend_schema
from rest_framework import exceptions, renderers, serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework_dataclasses.serializers import DataclassSerializer

from portal.models import Environment
from portal.tenancy.api import TenantScopedViewSet
from portal.throttling import settle_before_error
from reports import exports, registry
from reports.api.parameters import RangeParameters
from reports.api.serializers import FreshnessSerializer
from reports.cache import rendered_response
from reports.days import ScopeError
from reports.queries import freshness
from reports.registry import Report
from reports.scope import ReportScope, scope_from_params


class CSVRenderer(renderers.BaseRenderer):
    """Lets `?format=csv` through content negotiation; the view streams the body itself."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        return b"" if data is None else str(data).encode()


@functools.cache
def query_serializer(report: Report) -> type[RangeParameters]:
    """The API's parameters of a report: its declaration's, plus the CSV `table` choice from
    its tables."""
    return type(f"{report.parameters.__name__}With{report.kind.title().replace('_', '')}Table",
                (report.parameters,), {
                    "__module__": __name__,
                    "table": serializers.ChoiceField(
                        choices=report.table_names, default=report.default_table,
                        help_text="Table written by format=csv."),
                })


@functools.cache
def answer_serializer(report: Report) -> type[serializers.Serializer]:
    """A report's JSON answer: its typed result (the declaration's dataclass) and how fresh
    each environment's mirror is."""
    name = report.result.__name__
    summary = type(f"{name}Serializer", (DataclassSerializer,), {
        "__module__": __name__, "Meta": type("Meta", (), {"dataclass": report.result})})
    return type(f"{report.kind.title().replace('_', '')}ReportSerializer",
                (serializers.Serializer,), {
                    "__module__": __name__, "__doc__": f"A {report.kind} report.",
                    "summary": summary(), "freshness": FreshnessSerializer(many=True)})


@functools.cache
def field_names(serializer_class: type[serializers.Serializer]) -> tuple[str, ...]:
    """A query serializer's parameter names, once per class: building a serializer's fields
    deep-copies them, a tenth of a cached report's time when done per request."""
    return tuple(serializer_class().fields)


@functools.lru_cache(maxsize=1024)
def validated_query(serializer_class: type[RangeParameters],
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


def _query_params(serializer_class: type[RangeParameters]) -> list[OpenApiParameter]:
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


def report_schema(query: type[RangeParameters], answer: object):
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

    def _validated(self, serializer_class: type[RangeParameters]) -> dict:
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

    def _report(self, report: Report) -> Response | HttpResponse | StreamingHttpResponse:
        """One report action: its query checked, its scope, then the asked table as CSV
        (`?format=csv`, the file named after the kind) or the report as JSON."""
        query = self._validated(query_serializer(report))
        envs = self._environments(query["environment"])
        scope = self._scope(query, envs)
        try:
            report.check(scope)
        except ScopeError as exc:
            raise exceptions.ValidationError(exc.errors) from None
        if query.get("format") == "csv":
            name = exports.filename(report.path, envs[0].organization.slug,
                                    scope.start, scope.end, query["table"])
            return exports.stream_csv(report.rows(report.run(scope), query["table"],
                                                  {e.pk: e.name for e in envs}), name)
        return self._report_response(report, scope)

    def _report_response(self, report: Report, scope: ReportScope) -> Response | HttpResponse:
        """The report as JSON: rendered once per result and freshness, then the cached bytes
        are sent as they are (no serialiser, no renderer: a cached report is a cache read).
        Other renderers (the browsable API) get the data as usual."""
        fresh = freshness(scope.environments)
        answer = answer_serializer(report)

        def data(moment: datetime | None = None) -> dict:
            return answer({"summary": report.run(scope, moment), "freshness": fresh}).data

        if type(self.request.accepted_renderer) is not renderers.JSONRenderer:
            return Response(data())
        # Freshness is computed per request from the environment rows (a stale flag turns on
        # with time alone, a name or status changes without a sync): the bytes depend on it,
        # so it is part of the variant.
        variant = "json:" + repr([(f.environment_id, f.name, f.status, f.stale) for f in fresh])
        deferred = getattr(self.request, "deferred_throttle", None)
        return rendered_response(report.rendered(
            scope, variant, lambda moment: renderers.JSONRenderer().render(data(moment)),
            deferred.read if deferred is not None else None))

    def throttle_with_cache_read(self, request: Request) -> bool:
        """A JSON report's first Redis call is its cached rendering's read: the API throttle
        counts the request in that same round trip (portal.throttling.DeferredHit). Before
        it only the token, the environments and the parameters are read; a request that
        fails before it is counted in `handle_exception`."""
        return (self.action in registry.reports()
                and type(request.accepted_renderer) is renderers.JSONRenderer
                and "format" not in request.query_params)

    def handle_exception(self, exc):
        # An invalid parameter or an unknown environment ended the request before the read:
        # it still counts against the throttle, and is refused with 429 when over it.
        return super().handle_exception(settle_before_error(self.request, exc))


def _report_action(report: Report) -> Callable:
    """The viewset action of one declared report: `GET /api/v1/reports/<path>/`."""
    def view(self: ReportViewSet, request: Request) -> Response | StreamingHttpResponse:
        return self._report(report)

    view.__name__ = view.__qualname__ = report.kind
    view.__doc__ = report.description
    return report_schema(query_serializer(report), answer_serializer(report))(
        action(detail=False, url_path=report.path)(view))


for _declared in registry.reports().values():
    setattr(ReportViewSet, _declared.kind, _report_action(_declared))
