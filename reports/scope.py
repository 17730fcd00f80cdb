"""The report scope: what a report covers, built and validated in one place.

Every face of a report (portal pages, reports API, CSV, Talkover-compatible API, emailed
summaries) turns its own parameters into one `ReportScope` and asks for the same summaries
through it, so the range rules, the defaults and the cache key exist once:

- a range is inclusive local days (organisation timezone), read and checked by the one
  day parser and range rules (`reports.days`): reversed ranges, ranges over
  `MAX_RANGE_DAYS` days and dates outside 2000-01-01 … 2100-12-31 are refused with a
  message per field (`ScopeError`, which every face turns into a 4xx);
- one cache key per summary kind and scope (`reports.cache`), whichever face asked: each
  kind's key params are `ReportScope.cache_params(kind)`, and the summaries are read only
  through `calls_report`, `callbacks_report`, `callback_funnel_report`,
  `quality_report` and `kpis_report` below.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from django.utils import timezone

from portal.models import Environment, Organization
from reports.cache import cached_rendering, cached_report
from reports.days import DEFAULT_DAYS, check_range, parse_day, resolve_range
from reports.queries import (
    CallbacksSummary,
    CallsSummary,
    Interval,
    callbacks_summary,
    calls_summary,
)
from reports.queries.callback_funnel import CallbackFunnel, callback_funnel
from reports.queries.common import normalize_choice
from reports.queries.kpis import KpiSummary, kpis_summary
from reports.queries.quality import QualitySummary, quality_summary
from reports.queries.quality import cache_params as quality_cache_params


@dataclasses.dataclass(frozen=True)
class ReportScope:
    """What one report covers: environments of one organisation, inclusive local days,
    interval and filters (None = all)."""

    organization: Organization
    environments: list[Environment]
    start: date
    end: date
    interval: str = Interval.DAY.value
    agent_ids: list[str] | None = None
    direction: list[str] | None = None
    status: list[str] | None = None
    include_testing: bool = False

    def __post_init__(self) -> None:
        check_range(self.start, self.end)
        if any(e.organization_id != self.organization.pk for e in self.environments):
            raise ValueError("a scope covers environments of its own organisation only")

    def filters(self) -> dict[str, Any]:
        """The calls filters as `calls_summary` takes them."""
        return {"agent_ids": self.agent_ids, "direction": self.direction,
                "status": self.status, "include_testing": self.include_testing,
                "interval": self.interval}

    def cache_params(self, kind: str = "calls") -> dict[str, Any]:
        """The one cache-key scheme: what a `kind` summary of this scope depends on (beyond
        the environments' data versions), so the same scope has the same key from every face.
        Callback stats take no filters; a Quality summary also depends on prices."""
        days = {"start": self.start, "end": self.end}
        if kind == "callbacks":
            return days
        if kind == "callback_funnel":
            return {**days, "interval": self.interval}
        if kind == "kpis":
            return {**days, "interval": self.interval, "agent_ids": sorted(self.agent_ids or []),
                    "as_of": kpis_as_of().isoformat()}
        if kind == "quality":
            return {**days, "agent_ids": sorted(self.agent_ids or []),
                    **quality_cache_params(self.environments)}
        return {**days, **{k: sorted(v) if isinstance(v, list) else v
                           for k, v in self.filters().items()}}


def build_scope(organization: Organization, environments: Sequence[Environment], start: date,
                end: date, *, interval: str = Interval.DAY.value,
                agent_ids: Sequence[str] | str | None = None,
                direction: Sequence[str] | str | None = None,
                status: Sequence[str] | str | None = None,
                include_testing: bool = False) -> ReportScope:
    """A scope with filters normalised (one value or a list; empty = all)."""
    return ReportScope(organization, list(environments), start, end, Interval(interval).value,
                       normalize_choice(agent_ids), normalize_choice(direction),
                       normalize_choice(status), include_testing)


def scope_from_params(organization: Organization, environments: Sequence[Environment],
                      params: Mapping[str, Any], *, today: date,
                      start_field: str = "start_date", end_field: str = "end_date",
                      default_days: int = DEFAULT_DAYS) -> ReportScope:
    """A scope from request-like parameters (already type-checked where the face has its
    own parser); dates may be strings or `date`s."""
    start = parse_day(params.get(start_field), start_field)
    end = parse_day(params.get(end_field), end_field)
    start, end = resolve_range(start, end, today=today, default_days=default_days,
                               start_field=start_field, end_field=end_field)
    return build_scope(organization, environments, start, end,
                       interval=params.get("interval") or Interval.DAY.value,
                       agent_ids=params.get("agent_id"), direction=params.get("direction"),
                       status=params.get("status"),
                       include_testing=bool(params.get("include_testing", False)))


def scope_from_subscription(subscription: Any, start: date, end: date) -> ReportScope:
    """The scope of one emailed summary: its environments over the period it reports."""
    return build_scope(subscription.organization, subscription.selected_environments(), start,
                       end)


def calls_report(scope: ReportScope) -> CallsSummary:
    """`calls_summary` of the scope, cached until one of its environments syncs new data."""
    return cached_report("calls", scope.environments, scope.cache_params("calls"),
                         lambda: calls_summary(scope.environments, scope.start, scope.end,
                                               **scope.filters()))


def callbacks_report(scope: ReportScope) -> CallbacksSummary:
    """`callbacks_summary` of the scope (filters do not apply to callback stats), cached."""
    return cached_report("callbacks", scope.environments, scope.cache_params("callbacks"),
                         lambda: callbacks_summary(scope.environments, scope.start, scope.end))


def callback_funnel_report(scope: ReportScope) -> CallbackFunnel:
    """`callback_funnel` of the scope (UTC days, per interval; no call filters), cached."""
    return cached_report("callback_funnel", scope.environments,
                         scope.cache_params("callback_funnel"),
                         lambda: callback_funnel(scope.environments, scope.start, scope.end,
                                                 scope.interval))


def quality_report(scope: ReportScope) -> QualitySummary:
    """`quality_summary` of the scope (its Origins AI environments, agent filter), cached."""
    return cached_report("quality", scope.environments, scope.cache_params("quality"),
                         lambda: quality_summary(scope.environments, scope.start, scope.end,
                                                 agent_ids=scope.agent_ids or None))


# The KPI report's settled / pending split moves with time alone: it is computed as of the
# start of the current KPI_STEP_SECONDS, and cached under that moment.
KPI_STEP_SECONDS = 600


def kpis_as_of(now: datetime | None = None) -> datetime:
    """The moment the KPI report of `now` (default: now) is computed as of."""
    seconds = int((now or timezone.now()).timestamp())
    return datetime.fromtimestamp(seconds - seconds % KPI_STEP_SECONDS, UTC)


def kpis_report(scope: ReportScope) -> KpiSummary:
    """`kpis_summary` of the scope (its agent filter), as of `kpis_as_of`, cached."""
    params = scope.cache_params("kpis")
    return cached_report("kpis", scope.environments, params, lambda: kpis_summary(
        scope.environments, scope.start, scope.end, scope.interval,
        now=datetime.fromisoformat(params["as_of"]), agent_ids=scope.agent_ids))


def rendered_report(kind: str, scope: ReportScope, variant: str,
                    render: Callable[[], bytes],
                    read: Callable[[str], object | None] | None = None) -> bytes:
    """A rendering of the scope's `kind` summary (e.g. the API's JSON bytes), cached under
    the summary's own key plus `variant`, so a cached request sends the bytes as they are."""
    return cached_rendering(kind, scope.environments, scope.cache_params(kind), variant, render,
                            read)
