"""The report scope: what a report covers, built and validated in one place.

Every face of a report (portal pages, reports API, CSV, Talkover-compatible API, emailed
summaries) turns its own parameters into one `ReportScope` and asks for the same summaries
through it, so the range rules, the defaults and the cache key exist once:

- a range is inclusive local days (organisation timezone), read and checked by the one
  day parser and range rules (`reports.days`): reversed ranges, ranges over
  `MAX_RANGE_DAYS` days and dates outside 2000-01-01 … 2100-12-31 are refused with a
  message per field (`ScopeError`, which every face turns into a 4xx);
- one cache key per report kind and scope (`reports.cache`), whichever face asked: each
  kind's key params are its declaration's (`reports.registry`, most of them
  `ReportScope.cache_params(kind)`), and reports are read only through the registry's
  `run(kind, scope)`.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from portal.models import Environment, Organization
from reports.days import DEFAULT_DAYS, check_range, parse_day, resolve_range
from reports.queries import Interval
from reports.queries.common import normalize_choice
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
