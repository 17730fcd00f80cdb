"""Talkover-compatible endpoints answered from the mirror.

`GET /api/v1/environments/{id}/calls`, `…/agents/{agent_id}/calls` and
`…/callback-agents/stats` keep Talkover's parameter names, validation messages, envelope and
error shapes; `id`, `agent_id` and `agent` are the upstream's identifiers (only the
environment id is ours). Listings include `is_testing` calls, as Talkover's do. Calls'
`date_from` / `date_to` are days in the organisation's timezone; callback stats use the
upstream's days, as mirrored. Days never mirrored are listed in `data.missing_days`.
"""
from __future__ import annotations

from datetime import date, timedelta

from django.http import Http404
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, OpenApiTypes, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from portal.api import TenantScopedViewSet
from portal.models import Environment
from reports.cache import cached_report
from reports.filters import CallFilterSet
from reports.queries import MAX_RANGE_DAYS, callbacks_summary
from reports.serializers import (
    TalkoverAgentCallListSerializer,
    TalkoverCallbackStatsEnvelopeSerializer,
    TalkoverCallListSerializer,
    TalkoverCallSerializer,
    TalkoverCallWithAgentSerializer,
    TalkoverErrorSerializer,
)
from reports.talkover_compat import (
    TalkoverNotFound,
    TalkoverValidationError,
    envelope,
    page_params,
    paginate,
    talkover_exception_handler,
)
from sync.models import Agent, Call

ERRORS = {401: TalkoverErrorSerializer, 404: TalkoverErrorSerializer,
          422: TalkoverErrorSerializer}
CALL_PARAMETERS = [
    OpenApiParameter("status", str, enum=["initiated", "ringing", "answered", "completed",
                                          "failed", "busy", "no-answer", "queued"]),
    OpenApiParameter("direction", str, enum=["inbound", "outbound"]),
    OpenApiParameter("date_from", OpenApiTypes.DATE, description="First local day (YYYY-MM-DD)."),
    OpenApiParameter("date_to", OpenApiTypes.DATE, description="Last local day (YYYY-MM-DD)."),
    OpenApiParameter("search", str, description="Phone number (part) or call SID."),
    OpenApiParameter("per_page", int, description="Items per page (default 20, max 100)."),
    OpenApiParameter("page", int, description="Page number (default 1)."),
]
ENV_ID = OpenApiParameter("id", int, OpenApiParameter.PATH,
                          description="Switchboard id of the environment.")


def _date_param(params, name: str, label: str, default: date,
                errors: dict[str, list[str]]) -> date:
    raw = params.get(name)
    if raw in (None, ""):
        return default
    try:
        return date.fromisoformat(raw)
    except ValueError:
        errors[name] = [f"The {label} is not a valid date (YYYY-MM-DD)."]
        return default


class TalkoverCompatViewSet(TenantScopedViewSet):
    """Talkover's calls and callback stats, per environment, from the mirror."""

    queryset = Environment.objects.select_related("organization")
    organization_field = "organization"
    serializer_class = TalkoverCallWithAgentSerializer
    filter_backends: list = []
    pagination_class = None

    def get_exception_handler(self):
        return talkover_exception_handler

    def _environment(self) -> Environment:
        try:
            return self.get_object()
        except Http404:
            raise TalkoverNotFound("Environment not found") from None

    def _call_page(self, request: Request, env: Environment, queryset, serializer_class):
        errors: dict[str, list[str]] = {}
        page, per_page = page_params(request.query_params, errors)
        filterset = CallFilterSet(request.query_params, queryset,
                                  timezone=env.organization.tzinfo)
        if not filterset.is_valid():
            errors.update({k: list(v) for k, v in filterset.errors.items()})
        if errors:
            raise TalkoverValidationError(errors)
        items, pagination = paginate(filterset.qs, page, per_page)
        return Response(envelope(serializer_class(items, many=True).data, pagination))

    @extend_schema(
        operation_id="talkover_calls_list", parameters=[ENV_ID, *CALL_PARAMETERS,
                                                        OpenApiParameter("agent_id", str)],
        responses={200: TalkoverCallListSerializer, **ERRORS}, tags=["talkover-compatible"],
    )
    def calls(self, request: Request, pk: int) -> Response:
        """Talkover `GET /api/v1/calls`: every call of the environment, newest first."""
        env = self._environment()
        queryset = Call.objects.filter(environment=env).select_related("agent")
        return self._call_page(request, env, queryset.order_by("-started_at", "-id"),
                               TalkoverCallWithAgentSerializer)

    @extend_schema(
        operation_id="talkover_agent_calls_list",
        parameters=[ENV_ID, OpenApiParameter("agent_id", str, OpenApiParameter.PATH,
                                             description="Upstream agent id."),
                    *CALL_PARAMETERS],
        responses={200: TalkoverAgentCallListSerializer, **ERRORS},
        tags=["talkover-compatible"],
    )
    def agent_calls(self, request: Request, pk: int, agent_id: str) -> Response:
        """Talkover `GET /api/v1/agents/{agent_id}/calls` (no agent object in the items)."""
        env = self._environment()
        calls = Call.objects.filter(environment=env, agent_external_id=agent_id)
        known = Agent.objects.filter(environment=env, external_id=agent_id).exists()
        if not known and not calls.exists():
            raise TalkoverNotFound("Agent not found")
        return self._call_page(request, env, calls.order_by("-started_at", "-id"),
                               TalkoverCallSerializer)

    @extend_schema(
        operation_id="talkover_callback_stats",
        parameters=[
            ENV_ID,
            OpenApiParameter("start_date", OpenApiTypes.DATE,
                             description="First day, inclusive (default 30 days ago)."),
            OpenApiParameter("end_date", OpenApiTypes.DATE,
                             description="Last day, inclusive (default today)."),
        ],
        responses={200: TalkoverCallbackStatsEnvelopeSerializer, **ERRORS},
        tags=["talkover-compatible"],
    )
    def callback_stats(self, request: Request, pk: int) -> Response:
        """Talkover `GET /api/v1/callback-agents/stats` for any range, from mirrored days."""
        env = self._environment()
        errors: dict[str, list[str]] = {}
        today = timezone.now().date()
        end = _date_param(request.query_params, "end_date", "end date", today, errors)
        start = _date_param(request.query_params, "start_date", "start date",
                            end - timedelta(days=30), errors)
        if not errors and end < start:
            errors["end_date"] = ["The end date must be a date after or equal to start date."]
        elif not errors and (end - start).days + 1 > MAX_RANGE_DAYS:
            errors["end_date"] = [f"The period may cover at most {MAX_RANGE_DAYS} days."]
        if errors:
            raise TalkoverValidationError(errors)
        summary = cached_report("callbacks", [env], {"start": start, "end": end},
                                lambda: callbacks_summary([env], start, end))
        return Response(envelope({
            "period": {"start": start.isoformat(), "end": end.isoformat()},
            "total_callbacks_received": summary.totals.received,
            "callbacks_answered": summary.totals.answered,
            "callbacks_unmatched": summary.totals.unmatched,
            "callbacks_by_source_agent": [
                {"source_agent_id": r.source_agent_id, "name": r.name, "count": r.count}
                for r in summary.by_source_agent
            ],
            "complete": not summary.missing_days,
            "days_mirrored": summary.totals.days_mirrored,
            "missing_days": [d.isoformat() for d in summary.missing_days],
        }))
