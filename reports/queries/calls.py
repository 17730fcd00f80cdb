"""Calls summary: totals, series, per-agent table, heatmap and period-over-period deltas.

Everything is read from `sync.models.CallRollup` (one row per environment, local day, agent,
direction, status, is_testing) in one query, so the cost follows days, not calls. Duration
figures (talk time, average, median, p90, max) cover connected calls only (answered or
completed): a failed call's zero seconds would otherwise drag every duration figure down.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal
from itertools import islice
from operator import add
from typing import TypedDict, Unpack

from django.db.models import QuerySet

from portal.models import Environment
from reports.call_filter import CallCriteria, filter_calls
from reports.days import check_range
from reports.queries import rollup_sql as sql
from reports.queries.common import (
    Comparison,
    Delta,
    Interval,
    compare_spans,
    days_in,
    delta,
    normalize_choice,
    period_start,
    periods,
    previous_period,
    ratio,
    resolve_environments,
)
from reports.queries.histogram import percentile
from reports.queries.hourly import HourPoint, OutcomeCounts, hourly_points
from reports.queries.rollup_sql import figures_per_agent, figures_per_day
from sync.coverage import Coverage, DayState, calls_coverage
from sync.models import Call
from sync.models.core import ANSWERED_STATUSES, CallStatus

ANSWERED = {str(s) for s in ANSWERED_STATUSES}
ANSWERED_AT = tuple(sql.STATUS_AT[s] for s in sorted(ANSWERED))


@dataclasses.dataclass(frozen=True)
class CallTotals(OutcomeCounts):
    """The headline figures of a set of calls. Durations are seconds over connected calls."""

    inbound: int = 0
    outbound: int = 0
    talk_time_total: int = 0
    talk_time_avg: float | None = None
    duration_median: int | None = None
    duration_p90: int | None = None
    duration_max: int | None = None
    # The vendor's own cost of the calls that carry one (Vapi's `cost`), exact; None when no
    # call of the set carries one ("not reported", never 0), and how many do.
    vendor_cost: Decimal | None = dataclasses.field(default=None, metadata={
        "serializer_kwargs": {"max_digits": 24, "decimal_places": 10, "allow_null": True}})
    costed: int = 0


@dataclasses.dataclass(frozen=True)
class SeriesPoint:
    """One day, week or month of the series; `start`/`end` are clipped to the report range.

    `figures` is None when a day of the point was never mirrored (a gap, not a zero);
    `state` is "covered", "partial" (some day still being read: today) or "missing".
    """

    start: date
    end: date
    figures: CallTotals | None
    state: str = DayState.COVERED


@dataclasses.dataclass(frozen=True)
class AgentRow:
    """One agent's figures; `name` is the mirrored agent's name ('' when never mirrored)."""

    environment_id: int
    agent_id: str
    name: str
    figures: CallTotals


@dataclasses.dataclass(frozen=True)
class CallFilters:
    """The filters a summary was computed with (None = all)."""

    agent_id: list[str] | None
    direction: list[str] | None
    status: list[str] | None
    include_testing: bool


@dataclasses.dataclass(frozen=True)
class CallsSummary:
    """Answer of `calls_summary`. `heatmap[weekday][hour]` counts calls (Monday = 0)."""

    environment_ids: list[int]
    timezone: str
    start: date
    end: date
    interval: str
    filters: CallFilters
    totals: CallTotals
    previous_start: date
    previous_end: date
    # None when there is no like-for-like comparison (`comparison.reason` says why).
    previous: CallTotals | None
    deltas: dict[str, Delta]
    series: list[SeriesPoint]
    agents: list[AgentRow]
    heatmap: list[list[int]]
    coverage: Coverage
    comparison: Comparison
    # A one-day range only: its 24 local hours by outcome (`reports.queries.hourly`), so
    # a single day has a series to draw; None over longer ranges or a never-mirrored day.
    hours: list[HourPoint] | None = None


class _Acc:
    """Sums of figure vectors (laid out as `rollup_sql.FIGURES`: Python ints, never None),
    each set of rows summed at once column by column in C, the longest talk as a max: a
    summary sums some 400 rows, and a Python loop over their 33 columns, row by row, was a
    sixth of a cold summary's time."""

    __slots__ = ("v",)

    def __init__(self) -> None:
        self.v = [0] * sql.WIDTH

    @classmethod
    def of(cls, rows: Sequence[Sequence[int]]) -> _Acc:
        """The sums of `rows` at once, column by column (`zip` in C; extra columns past the
        figures are never read), the longest talk as a max."""
        acc = cls()
        if len(rows) == 1:
            acc.v = list(rows[0][:sql.WIDTH])
        elif rows:
            acc.v = [sum(column) for column in islice(zip(*rows, strict=True), sql.WIDTH)]
            acc.v[sql.TALK_MAX] = max(0, *(row[sql.TALK_MAX] for row in rows))
        return acc

    def totals(self) -> CallTotals:
        v = self.v
        total = v[0]
        answered = sum(v[i] for i in ANSWERED_AT)
        failed = v[sql.STATUS_AT[CallStatus.FAILED]]
        busy = v[sql.STATUS_AT[CallStatus.BUSY]]
        no_answer = v[sql.STATUS_AT[CallStatus.NO_ANSWER]]
        hist = v[sql.HIST:]
        talk = int(v[sql.TALK])
        return CallTotals(
            total=total, answered=answered, answer_rate=ratio(answered, total),
            failed=failed, busy=busy, no_answer=no_answer,
            other=total - answered - failed - busy - no_answer,
            inbound=v[sql.INBOUND], outbound=v[sql.OUTBOUND], talk_time_total=talk,
            talk_time_avg=ratio(talk, answered),
            duration_median=percentile(hist, 0.5, v[sql.TALK_MAX]),
            duration_p90=percentile(hist, 0.9, v[sql.TALK_MAX]),
            duration_max=v[sql.TALK_MAX] if answered else None,
            # Cost units may come as a numeric (Decimal) sum: exact either way.
            vendor_cost=Decimal(int(v[sql.COST])).scaleb(-10) if v[sql.COSTED] else None,
            costed=v[sql.COSTED],
        )


DELTA_FIELDS = ("total", "answered", "answer_rate", "failed", "busy", "no_answer",
                "talk_time_total", "talk_time_avg", "duration_median", "duration_p90")


class CallChoice(TypedDict, total=False):
    """The filters both functions below take: one value or a list each, None (or absent)
    meaning all; `is_testing` calls are left out unless `include_testing`."""

    agent_ids: Sequence[str] | str | None
    direction: Sequence[str] | str | None
    status: Sequence[str] | str | None
    include_testing: bool


def _call_filters(agent_ids: Sequence[str] | str | None = None,
                  direction: Sequence[str] | str | None = None,
                  status: Sequence[str] | str | None = None,
                  include_testing: bool = False) -> CallFilters:
    """The filters of a `CallChoice`, each a list (None = all)."""
    return CallFilters(normalize_choice(agent_ids), normalize_choice(direction),
                       normalize_choice(status), include_testing)


def calls_summary(
    environments: Iterable[Environment] | QuerySet[Environment],
    start: date,
    end: date,
    *,
    interval: Interval | str = Interval.DAY,
    **choice: Unpack[CallChoice],
) -> CallsSummary:
    """Calls of `environments` on the organisation-local days start..end (inclusive), with
    the filters of `choice`. Three queries (a fourth for a one-day range's hours, another if
    `environments` is a queryset): the calls cursors (coverage), figures per day over both
    periods, figures and names per agent.
    """
    check_range(start, end, max_days=None)  # the one range rule set (reports.days)
    interval = Interval(interval)
    envs, org = resolve_environments(environments)
    chosen = _call_filters(**choice)
    include_testing = chosen.include_testing
    prev_start, prev_end = previous_period(start, end)
    env_ids = [e.pk for e in envs]
    filters = {"agent_ids": chosen.agent_id, "directions": chosen.direction,
               "statuses": chosen.status, "include_testing": include_testing}
    both = calls_coverage(envs, prev_start, end)
    coverage = both.clip(start, end)
    comparison = compare_spans(both, start, end)
    missing = set(both.missing_days)
    per_day = {day: values for day, *values in figures_per_day(
        env_ids, prev_start, end, start, **filters) if day not in missing}
    sums = _Sums.of(per_day, start, interval, comparison)
    totals, prev_totals = sums.current.totals(), sums.then_side.totals()
    deltas = _deltas(totals, sums.now_side.totals(), prev_totals, comparison)
    covered = [d for d in days_in(start, end) if d not in missing]
    return CallsSummary(
        environment_ids=[e.pk for e in envs],
        timezone=org.timezone,
        start=start,
        end=end,
        interval=interval.value,
        filters=chosen,
        totals=totals,
        # The days the previous figures hold (like for like: an open day left out of both).
        previous_start=comparison.previous_start if comparison.available else prev_start,
        previous_end=comparison.previous_end if comparison.available else prev_end,
        previous=prev_totals if comparison.available else None,
        deltas=deltas,
        series=_series(start, end, interval, sums.by_period, coverage),
        agents=_agent_rows(figures_per_agent(env_ids, covered[0], covered[-1], **filters))
        if totals.total else [],
        heatmap=sums.heatmap,
        coverage=coverage,
        comparison=comparison,
        hours=hourly_points(envs, start, agent_ids=chosen.agent_id,
                            direction=chosen.direction, status=chosen.status,
                            include_testing=include_testing)
        if start == end and start not in missing else None,
    )


@dataclasses.dataclass
class _Sums:
    """What a calls summary adds up from its days: the report's figures, the comparison's two
    like-for-like sides, each period of the series and the weekday × hour heatmap."""

    current: _Acc
    now_side: _Acc
    then_side: _Acc
    by_period: dict[date, _Acc]
    heatmap: list[list[int]]

    @classmethod
    def of(cls, per_day: dict[date, list], start: date, interval: Interval,
           comparison: Comparison) -> _Sums:
        """The days' figures sorted to where they count (days before `start` only for the
        previous period), then each set summed at once (`_Acc.of`)."""
        sides: dict[str | None, list[list]] = {"now": [], "then": [], None: []}
        current: list[list] = []
        periods: dict[date, list[list]] = {}
        heatmap = [[0] * 24 for _ in range(7)]
        for day, values in per_day.items():
            sides[comparison.side(day)].append(values)
            if day < start:
                continue
            current.append(values)
            periods.setdefault(period_start(day, interval), []).append(values)
            weekday = heatmap[day.weekday()]
            weekday[:] = map(add, weekday, values[sql.WIDTH:])
        return cls(_Acc.of(current), _Acc.of(sides["now"]), _Acc.of(sides["then"]),
                   {first: _Acc.of(rows) for first, rows in periods.items()}, heatmap)


def _deltas(totals: CallTotals, compared: CallTotals, previous: CallTotals,
            comparison: Comparison) -> dict[str, Delta]:
    """Each delta field now against before, like for like; no change without a comparison."""
    if not comparison.available:
        return {f: Delta(getattr(totals, f), None, None, None) for f in DELTA_FIELDS}
    return {f: delta(getattr(compared, f), getattr(previous, f)) for f in DELTA_FIELDS}


def _series(start: date, end: date, interval: Interval, by_period: dict[date, _Acc],
            coverage: Coverage) -> list[SeriesPoint]:
    """The series' points, the coverage's missing and partial days read as sets once."""
    missing, partial = set(coverage.missing_days), set(coverage.partial_days)
    return [_point(first, last, by_period.get(period_start(first, interval)), missing, partial)
            for first, last in periods(start, end, interval)]


def _point(first: date, last: date, acc: _Acc | None, missing: set[date],
           partial: set[date]) -> SeriesPoint:
    """One series point: None figures over a never-mirrored day, partial over an open one."""
    days = days_in(first, last)
    if not missing.isdisjoint(days):
        return SeriesPoint(first, last, None, DayState.MISSING)
    state = DayState.COVERED if partial.isdisjoint(days) else DayState.PARTIAL
    return SeriesPoint(first, last, (acc or _Acc()).totals(), state)


def _agent_rows(per_agent: list[tuple]) -> list[AgentRow]:
    """Per-agent rows, busiest first, with their mirrored names (read in the same statement)."""
    rows = []
    for env_id, agent_id, *values, name in per_agent:
        rows.append(AgentRow(env_id, agent_id, name, _Acc.of([values]).totals()))
    rows.sort(key=lambda r: (-r.figures.total, r.name, r.agent_id))
    return rows


def calls_in_range(
    environments: Iterable[Environment] | QuerySet[Environment],
    start: date,
    end: date,
    *,
    search: str | None = None,
    **choice: Unpack[CallChoice],
) -> QuerySet[Call]:
    """Raw calls behind a summary (drill-down): same days, same filters, newest first, through
    the one call filter (`reports.call_filter`, the explorer's); `search` is its search rule."""
    check_range(start, end, max_days=None)  # the one range rule set (reports.days)
    envs, org = resolve_environments(environments)
    chosen = _call_filters(**choice)
    return filter_calls(CallCriteria(
        environment_ids=[e.pk for e in envs], timezone=org.tzinfo, start=start, end=end,
        agent_ids=chosen.agent_id, direction=chosen.direction, status=chosen.status,
        include_testing=chosen.include_testing, search=search)).order_by("-started_at", "-id")
