"""The report scope: what a report covers, built and validated in one place.

Every face of a report (portal pages, reports API, CSV, Talkover-compatible API, emailed
summaries) turns its own parameters into one `ReportScope` and asks for the same summaries
through it, so the range rules, the defaults and the cache key exist once:

- a range is inclusive local days (organisation timezone); reversed ranges, ranges over
  `MAX_RANGE_DAYS` days and dates outside 2000-01-01 … 2100-12-31 are refused with a
  message per field (`ScopeError`, which every face turns into a 4xx);
- one cache key per summary kind and scope (`reports.cache`), whichever face asked: each
  kind's key params are `ReportScope.cache_params(kind)`, and the summaries are read only
  through `calls_report`, `callbacks_report` and `quality_report` below.
"""
from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from django.utils.translation import gettext as _

from portal.models import Environment, Organization
from reports.cache import cached_rendering, cached_report
from reports.queries import (
    MAX_RANGE_DAYS,
    CallbacksSummary,
    CallsSummary,
    Interval,
    callbacks_summary,
    calls_summary,
)
from reports.queries.common import normalize_choice
from reports.queries.quality import QualitySummary, quality_summary
from reports.queries.quality import cache_params as quality_cache_params

FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2100, 12, 31)
DEFAULT_DAYS = 30
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class ScopeError(ValueError):
    """Field errors of a scope: `errors[field] = [message]`, `codes[field] = code`.

    Codes: `out_of_bounds`, `reversed`, `too_long`, `invalid`, `required`. A face with its own
    wording (the Talkover-compatible API) maps codes to its words.
    """

    def __init__(self, errors: dict[str, list[str]], codes: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
        self.errors = errors
        self.codes = codes


def range_problems(start: date | None, end: date | None, *, start_field: str = "start",
                   end_field: str = "end", max_days: int | None = MAX_RANGE_DAYS
                   ) -> dict[str, tuple[str, str]]:
    """The range rules, once: {field: (code, message)} (empty when the range is fine).

    A listing (the Talkover-compatible API) may leave an end open (None) and has no maximum
    length (`max_days=None`); reports give both ends and keep `MAX_RANGE_DAYS`."""
    problems: dict[str, tuple[str, str]] = {}
    for field, day in ((start_field, start), (end_field, end)):
        if day is not None and not FIRST_DAY <= day <= LAST_DAY:
            problems[field] = ("out_of_bounds", _("Dates must lie between %(first)s and "
                                                  "%(last)s.") % {"first": FIRST_DAY.isoformat(),
                                                                  "last": LAST_DAY.isoformat()})
    if problems or start is None or end is None:
        return problems
    if end < start:
        problems[end_field] = ("reversed", _("The end date is before the start date."))
    elif max_days is not None and (end - start).days + 1 > max_days:
        problems[end_field] = ("too_long", _("Choose at most %(n)d days.") % {
            "n": max_days})
    return problems


def day_bound_error(field: str, day: date) -> str | None:
    """The Talkover-worded refusal of a day outside FIRST_DAY..LAST_DAY for parameter
    `field` (the compatible API's and the calls explorer's `date_from` / `date_to`), or None.

    A day of year 9999 has no next midnight, so its filter overflowed: every face refuses
    days outside the bounds, with its own words.
    """
    if FIRST_DAY <= day <= LAST_DAY:
        return None
    return (f"The {field.replace('_', ' ')} must be a date between {FIRST_DAY.isoformat()} "
            f"and {LAST_DAY.isoformat()}.")


def check_range(start: date, end: date, *, start_field: str = "start",
                end_field: str = "end") -> None:
    """Raise `ScopeError` unless start..end is an acceptable report range."""
    problems = range_problems(start, end, start_field=start_field, end_field=end_field)
    if problems:
        raise ScopeError({k: [m] for k, (_, m) in problems.items()},
                         {k: c for k, (c, _) in problems.items()})


def parse_day(value: str | date | None, field: str) -> date | None:
    """A YYYY-MM-DD day (or None when absent); anything else is a `ScopeError`. Every face
    that reads dates from text reads them here (the Talkover-compatible API too)."""
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    try:
        if not _DAY.fullmatch(value):  # fromisoformat alone takes "2026-W09-1" too
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise ScopeError({field: [_("Enter a valid date (YYYY-MM-DD).")]},
                         {field: "invalid"}) from None


def resolve_range(start: date | None, end: date | None, *, today: date,
                  default_days: int = DEFAULT_DAYS, start_field: str = "start",
                  end_field: str = "end") -> tuple[date, date]:
    """The range with the defaults every face shares (end: today; start: `default_days`
    before end), checked by the range rules. A problem with a defaulted date is blamed on
    the date the caller gave (that is what they can change)."""
    for field, day in ((start_field, start), (end_field, end)):
        if day is not None:  # bounds first: a default computed from year 1 would overflow
            check_range(day, day, start_field=field, end_field=field)
    if end is None and start is not None:
        end_field = start_field
    elif start is None and end is not None:
        start_field = end_field
    end = end or today
    start = start or end - timedelta(days=default_days)
    check_range(start, end, start_field=start_field, end_field=end_field)
    return start, end


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


def quality_report(scope: ReportScope) -> QualitySummary:
    """`quality_summary` of the scope (its Origins AI environments, agent filter), cached."""
    return cached_report("quality", scope.environments, scope.cache_params("quality"),
                         lambda: quality_summary(scope.environments, scope.start, scope.end,
                                                 agent_ids=scope.agent_ids or None))


def rendered_report(kind: str, scope: ReportScope, variant: str,
                    render: Callable[[], bytes]) -> bytes:
    """A rendering of the scope's `kind` summary (e.g. the API's JSON bytes), cached under
    the summary's own key plus `variant`, so a cached request sends the bytes as they are."""
    return cached_rendering(kind, scope.environments, scope.cache_params(kind), variant, render)
