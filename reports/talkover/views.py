"""Talkover-compatible endpoints answered from the mirror.

`GET /api/v1/environments/{id}/calls`, `…/agents/{agent_id}/calls` and
`…/callback-agents/stats` keep Talkover's parameter names, validation messages, envelope and
error shapes; `id`, `agent_id` and `agent` are the upstream's identifiers (only the
environment id is ours). Listings include `is_testing` calls, as Talkover's do. Calls'
`date_from` / `date_to` are days in the organisation's timezone; callback stats use the
upstream's days, as mirrored. Days never mirrored are listed in `data.missing_days`.
"""
from __future__ import annotations

from datetime import timedelta

from django.http import Http404
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, OpenApiTypes, extend_schema
from rest_framework import renderers
from rest_framework.request import Request
from rest_framework.response import Response

from portal.models import Environment
from portal.tenancy import context as tenant_context
from portal.tenancy.api import TenantScopedViewSet
from portal.tenancy.environment_lookup import member_environment
from portal.throttling import settle_before_error
from reports import registry
from reports.cache import rendered_response
from reports.scope import build_scope
from reports.talkover.compat import (
    MAX_STATS_DAYS,
    TalkoverNotFound,
    TalkoverValidationError,
    day_param,
    envelope,
    json_bytes,
    range_errors,
    talkover_exception_handler,
)
from reports.talkover.listing import agent_known, list_calls, parse_call_query
from reports.talkover.serializers import (
    TalkoverAgentCallListSerializer,
    TalkoverCallbackStatsEnvelopeSerializer,
    TalkoverCallListSerializer,
    TalkoverCallWithAgentSerializer,
    TalkoverErrorSerializer,
)

ERRORS = {401: TalkoverErrorSerializer, 404: TalkoverErrorSerializer,
          422: TalkoverErrorSerializer}
CALL_PARAMETERS = [
    OpenApiParameter("status", str, enum=["initiated", "ringing", "answered", "completed",
                                          "failed", "busy", "no-answer"]),
    OpenApiParameter("direction", str, enum=["inbound", "outbound"]),
    OpenApiParameter("date_from", OpenApiTypes.DATE, description="First local day (YYYY-MM-DD)."),
    OpenApiParameter("date_to", OpenApiTypes.DATE, description="Last local day (YYYY-MM-DD)."),
    OpenApiParameter("search", str,
                     description="Part of a phone number (any writing) or of a call SID, "
                                 "or a call id."),
    OpenApiParameter("per_page", int, description="Items per page (default 20, max 100)."),
    OpenApiParameter("page", int, description="Page number (default 1)."),
]
# Talkover's default period for callback stats: 30 days before today, to today.
DEFAULT_STATS_DAYS = 30
ENV_ID = OpenApiParameter("id", int, OpenApiParameter.PATH,
                          description="Switchboard id of the environment.")


class TalkoverCompatViewSet(TenantScopedViewSet):
    """Talkover's calls and callback stats, per environment, from the mirror."""

    queryset = Environment.objects.select_related("organization")
    serializer_class = TalkoverCallWithAgentSerializer
    filter_backends: list = []
    pagination_class = None
    team_scoped = True
    reads_reports = True

    def get_exception_handler(self):
        return talkover_exception_handler

    def throttle_with_cache_read(self, request: Request) -> bool:
        """A listing's first Redis call is its day counts' read (`reports.talkover.listing`):
        the API throttle counts the request in that same round trip (portal.throttling.
        DeferredHit). Before it only the token, the environment and the parameters are read;
        a request that fails before it is counted in `handle_exception`. A search reads no
        day counts: its request is counted first, as any other."""
        return (self.action in ("calls", "agent_calls")
                and not (request.query_params.get("search") or "").strip())

    def handle_exception(self, exc):
        # An invalid parameter or an unknown environment or agent ended the request before
        # the read: it still counts against the throttle, and is refused with 429 when over.
        return super().handle_exception(settle_before_error(self.request, exc))

    def _environment(self) -> Environment:
        """The environment, if the compatible API serves its provider (`ProviderSpec.
        compatible_api`): another provider's environment is a clear 404, not a listing in an
        envelope its calls do not fit."""
        ctx = tenant_context.current()
        if ctx is not None and ctx.teams is None:
            # The caller's organisations, unrestricted: one statement scoped by membership
            # (`portal.tenancy.environment_lookup`), the same rows as `get_object`'s.
            env = member_environment(int(self.kwargs["pk"]), self.request.user.pk)
        else:
            try:
                env = self.get_object()
            except Http404:
                env = None
        if env is None:
            raise TalkoverNotFound("Environment not found")
        if not env.spec.compatible_api:
            raise TalkoverNotFound(f"This environment's provider ({env.spec.label}) has no "
                                   f"Talkover-compatible API; its calls are in the reports API and "
                                   f"/api/v1/calls/{{id}}")
        return env

    def _call_page(self, request: Request, env: Environment, *, agent_id: str | None = None
                   ) -> Response:
        query = parse_call_query(request.query_params, env, agent_id=agent_id)
        deferred = getattr(request, "deferred_throttle", None)
        items, pagination = list_calls(env, query, with_agent=agent_id is None,
                                       read=deferred.read if deferred is not None else None)
        if deferred is not None:
            deferred.settle()  # counted now if no cache read did (a listing from the calls)
        body = envelope(items, pagination)
        if type(request.accepted_renderer) is not renderers.JSONRenderer:
            return Response(body)  # the browsable API
        return rendered_response(json_bytes(body))

    @extend_schema(
        operation_id="talkover_calls_list", parameters=[ENV_ID, *CALL_PARAMETERS,
                                                        OpenApiParameter("agent_id", str)],
        responses={200: TalkoverCallListSerializer, **ERRORS}, tags=["talkover-compatible"],
    )
    def calls(self, request: Request, pk: int) -> Response:
        """Talkover `GET /api/v1/calls`: every call of the environment, newest first."""
        return self._call_page(request, self._environment())

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
        if not agent_known(env, agent_id):
            raise TalkoverNotFound("Agent not found")
        return self._call_page(request, env, agent_id=agent_id)

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
        # Each date has its own documented default (30 days ago, today): a lone end_date
        # before the default start is a 422, as upstream, never a silently moved window.
        start = day_param(request.query_params, "start_date", errors)
        end = day_param(request.query_params, "end_date", errors)
        start = start or today - timedelta(days=DEFAULT_STATS_DAYS)
        end = end or today
        if not errors:  # the range rules (reports/days.py) in Talkover's words
            errors = range_errors(start, end, start_field="start_date", end_field="end_date",
                                  max_days=MAX_STATS_DAYS)
        if errors:
            raise TalkoverValidationError(errors)
        summary = registry.run("callbacks", build_scope(env.organization, [env], start, end))
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
