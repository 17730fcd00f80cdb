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

from django.db.models import Q, QuerySet

from portal.models import Environment
from reports.queries.common import (
    Delta,
    Interval,
    check_range,
    delta,
    normalize_choice,
    period_start,
    periods,
    previous_period,
    rate,
    resolve_environments,
)
from reports.queries.histogram import add_histograms, percentile
from sync.models import ANSWERED_STATUSES, Agent, Call, CallRollup, CallStatus, Direction
from sync.rollups import BUCKET_COUNT, local_day_bounds

ANSWERED = {str(s) for s in ANSWERED_STATUSES}


@dataclasses.dataclass(frozen=True)
class CallTotals:
    """The headline figures of a set of calls. Durations are seconds over connected calls."""

    total: int = 0
    answered: int = 0
    answer_rate: float | None = None
    failed: int = 0
    busy: int = 0
    no_answer: int = 0
    # initiated / ringing / queued: calls still in progress (or never resolved) upstream.
    other: int = 0
    inbound: int = 0
    outbound: int = 0
    talk_time_total: int = 0
    talk_time_avg: float | None = None
    duration_median: int | None = None
    duration_p90: int | None = None
    duration_max: int | None = None


@dataclasses.dataclass(frozen=True)
class SeriesPoint:
    """One day, week or month of the series; `start`/`end` are clipped to the report range."""

    start: date
    end: date
    figures: CallTotals


@dataclasses.dataclass(frozen=True)
class AgentRow:
    """One agent's figures; `name` is the mirrored agent's name ('' when never mirrored)."""

    environment_id: int
    agent_id: str
    name: str
    figures: CallTotals


@dataclasses.dataclass(frozen=True)
class CallsSummary:
    """Answer of `calls_summary`. `heatmap[weekday][hour]` counts calls (Monday = 0)."""

    environment_ids: list[int]
    timezone: str
    start: date
    end: date
    interval: str
    filters: dict[str, object]
    totals: CallTotals
    previous_start: date
    previous_end: date
    previous: CallTotals
    deltas: dict[str, Delta]
    series: list[SeriesPoint]
    agents: list[AgentRow]
    heatmap: list[list[int]]


class _Acc:
    """Running sums for one group of rollup rows."""

    __slots__ = ("counts", "dirs", "talk", "hist", "max")

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self.dirs: dict[str, int] = {}
        self.talk = 0
        self.hist = [0] * BUCKET_COUNT
        self.max = 0

    def add(self, direction: str, status: str, count: int, dsum: int, dmax: int,
            hist: Sequence[int]) -> None:
        self.counts[status] = self.counts.get(status, 0) + count
        self.dirs[direction] = self.dirs.get(direction, 0) + count
        if status in ANSWERED:
            self.talk += dsum
            self.max = max(self.max, dmax)
            add_histograms(self.hist, hist)

    def totals(self) -> CallTotals:
        total = sum(self.counts.values())
        answered = sum(self.counts.get(s, 0) for s in ANSWERED)
        failed = self.counts.get(CallStatus.FAILED, 0)
        busy = self.counts.get(CallStatus.BUSY, 0)
        no_answer = self.counts.get(CallStatus.NO_ANSWER, 0)
        return CallTotals(
            total=total, answered=answered, answer_rate=rate(answered, total),
            failed=failed, busy=busy, no_answer=no_answer,
            other=total - answered - failed - busy - no_answer,
            inbound=self.dirs.get(Direction.INBOUND, 0),
            outbound=self.dirs.get(Direction.OUTBOUND, 0),
            talk_time_total=self.talk,
            talk_time_avg=round(self.talk / answered, 1) if answered else None,
            duration_median=percentile(self.hist, 0.5, self.max),
            duration_p90=percentile(self.hist, 0.9, self.max),
            duration_max=self.max if answered else None,
        )


DELTA_FIELDS = ("total", "answered", "answer_rate", "failed", "busy", "no_answer",
                "talk_time_total", "talk_time_avg", "duration_median", "duration_p90")


def _filter_q(agent_ids: list[str] | None, directions: list[str] | None,
              statuses: list[str] | None, include_testing: bool) -> Q:
    q = Q()
    if agent_ids:
        q &= Q(agent_external_id__in=agent_ids)
    if directions:
        q &= Q(direction__in=directions)
    if statuses:
        q &= Q(status__in=statuses)
    if not include_testing:
        q &= Q(is_testing=False)
    return q


def calls_summary(
    environments: Iterable[Environment] | QuerySet[Environment],
    start: date,
    end: date,
    *,
    agent_ids: Sequence[str] | str | None = None,
    direction: Sequence[str] | str | None = None,
    status: Sequence[str] | str | None = None,
    include_testing: bool = False,
    interval: Interval | str = Interval.DAY,
) -> CallsSummary:
    """Calls of `environments` on the organisation-local days start..end (inclusive).

    Filters take one value or a list; None means all. `is_testing` calls are left out unless
    `include_testing`. Three queries at most: environments (if a queryset), rollups, agent names.
    """
    check_range(start, end)
    interval = Interval(interval)
    envs, org = resolve_environments(environments)
    agents, directions, statuses = (
        normalize_choice(agent_ids), normalize_choice(direction), normalize_choice(status)
    )
    prev_start, prev_end = previous_period(start, end)
    rows = CallRollup.objects.filter(
        _filter_q(agents, directions, statuses, include_testing),
        environment__in=[e.pk for e in envs], day__gte=prev_start, day__lte=end,
    ).values_list("environment_id", "day", "agent_external_id", "direction", "status",
                  "count", "duration_sum", "duration_max", "duration_hist", "hour_counts")

    current, previous = _Acc(), _Acc()
    by_period: dict[date, _Acc] = {}
    by_agent: dict[tuple[int, str], _Acc] = {}
    heatmap = [[0] * 24 for _ in range(7)]
    for env_id, day, agent_id, dirn, stat, count, dsum, dmax, hist, hours in rows:
        if day < start:
            previous.add(dirn, stat, count, dsum, dmax, hist)
            continue
        current.add(dirn, stat, count, dsum, dmax, hist)
        by_period.setdefault(period_start(day, interval), _Acc()).add(
            dirn, stat, count, dsum, dmax, hist)
        by_agent.setdefault((env_id, agent_id), _Acc()).add(dirn, stat, count, dsum, dmax, hist)
        weekday = heatmap[day.weekday()]
        for hour, n in enumerate(hours[:24]):
            weekday[hour] += n

    totals, prev_totals = current.totals(), previous.totals()
    return CallsSummary(
        environment_ids=[e.pk for e in envs],
        timezone=org.timezone,
        start=start,
        end=end,
        interval=interval.value,
        filters={"agent_id": agents, "direction": directions, "status": statuses,
                 "include_testing": include_testing},
        totals=totals,
        previous_start=prev_start,
        previous_end=prev_end,
        previous=prev_totals,
        deltas={f: delta(getattr(totals, f), getattr(prev_totals, f)) for f in DELTA_FIELDS},
        series=[
            SeriesPoint(first, last, by_period.get(period_start(first, interval), _Acc()).totals())
            for first, last in periods(start, end, interval)
        ],
        agents=_agent_rows(by_agent),
        heatmap=heatmap,
    )


def _agent_rows(by_agent: dict[tuple[int, str], _Acc]) -> list[AgentRow]:
    """Per-agent rows, busiest first, with names from the mirror (one query)."""
    if not by_agent:
        return []
    names = {
        (env_id, ext): name
        for env_id, ext, name in Agent.objects.filter(
            environment_id__in={env for env, _ in by_agent},
            external_id__in={ext for _, ext in by_agent if ext},
        ).values_list("environment_id", "external_id", "name")
    }
    rows = [
        AgentRow(env_id, ext, names.get((env_id, ext), ""), acc.totals())
        for (env_id, ext), acc in by_agent.items()
    ]
    rows.sort(key=lambda r: (-r.figures.total, r.name, r.agent_id))
    return rows


def calls_in_range(
    environments: Iterable[Environment] | QuerySet[Environment],
    start: date,
    end: date,
    *,
    agent_ids: Sequence[str] | str | None = None,
    direction: Sequence[str] | str | None = None,
    status: Sequence[str] | str | None = None,
    include_testing: bool = False,
) -> QuerySet[Call]:
    """Raw calls behind a summary (drill-down): same days, same filters, newest first."""
    check_range(start, end)
    envs, org = resolve_environments(environments)
    first, _ = local_day_bounds(start, org.tzinfo)
    _, after = local_day_bounds(end, org.tzinfo)
    q = _filter_q(normalize_choice(agent_ids), normalize_choice(direction),
                  normalize_choice(status), include_testing)
    return Call.objects.filter(
        q, environment__in=[e.pk for e in envs], started_at__gte=first, started_at__lt=after,
    ).order_by("-started_at", "-id")
