"""Report queries: plain typed functions returning frozen dataclasses.

The API, the portal pages, CSV exports and the emailed summaries all call these; nothing else
computes report figures. Aggregates read rollups (`CallRollup`, `CallbackDay`,
`CallbackSourceDay`), never raw calls, so a report's cost follows its days, not its calls.

Interface (stable; other branches depend on it)::

    calls_summary(environments, start, end, *, agent_ids=None, direction=None, status=None,
                  include_testing=False, interval="day") -> CallsSummary
    callbacks_summary(environments, start, end) -> CallbacksSummary
    freshness(environments) -> list[Freshness]
    calls_in_range(environments, start, end, *, agent_ids=None, direction=None, status=None,
                   include_testing=False, search=None) -> QuerySet[Call]  # raw calls, drill-down
    as_jsonable(summary) -> dict                                  # JSON-ready, dates as ISO

- `environments`: a list or queryset of `Environment` of ONE organisation (ValueError
  otherwise). Scope it with `portal.tenancy.access` first: these functions do not check access.
- `start`, `end`: inclusive `date`s. Calls use organisation-local days; callbacks use the
  upstream's days. A range the rules of `reports.days` refuse (reversed, outside
  2000..2100) raises `ScopeError` (a ValueError); callers validate user input first
  (`MAX_RANGE_DAYS`).
- Filters take one value, a list, or None (= all). `is_testing` calls are excluded unless
  `include_testing=True`.
- `CallsSummary`: `totals` (`CallTotals`: total, answered = answered + completed,
  answer_rate, failed, busy, no_answer, other, inbound, outbound, talk_time_total,
  talk_time_avg, duration_median, duration_p90, duration_max — durations over connected
  calls, median/p90 exact to within one histogram bucket), `series` (`SeriesPoint(start, end,
  figures)` per day/week/month, dense, clipped to the range), `agents` (`AgentRow`),
  `heatmap[weekday][hour]` (Monday = 0, local hours), `previous` (same figures for the
  period of equal length just before) and `deltas[field]` (`Delta(current, previous,
  change, change_pct)`).
- `CallbacksSummary`: `totals` (`CallbackTotals`: received, answered, unmatched,
  answer_rate, unmatched_rate, days_mirrored), `days` (`CallbackDayRow`, `mirrored` False
  for days never mirrored), `by_source_agent`, `previous`, `deltas`, `missing_days`.
"""
from __future__ import annotations

from reports.days import MAX_RANGE_DAYS
from reports.queries.callbacks import (
    CallbackDayRow,
    CallbacksSummary,
    CallbackTotals,
    SourceAgentRow,
    callbacks_summary,
)
from reports.queries.calls import (
    AgentRow,
    CallFilters,
    CallsSummary,
    CallTotals,
    SeriesPoint,
    calls_in_range,
    calls_summary,
)
from reports.queries.common import Delta, Interval, as_jsonable
from reports.queries.freshness import Freshness, freshness

__all__ = [
    "MAX_RANGE_DAYS", "AgentRow", "CallFilters", "CallTotals", "CallbackDayRow", "CallbackTotals",
    "CallbacksSummary", "CallsSummary", "Delta", "Freshness", "Interval", "SeriesPoint",
    "SourceAgentRow", "as_jsonable", "calls_in_range", "calls_summary", "callbacks_summary",
    "freshness",
]
