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

from django.db.models import IntegerField, Max, Q, QuerySet, Sum
from django.db.models.fields.json import KT
from django.db.models.functions import Cast

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
from reports.queries.histogram import percentile
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
    previous: CallTotals
    deltas: dict[str, Delta]
    series: list[SeriesPoint]
    agents: list[AgentRow]
    heatmap: list[list[int]]


# Figures are summed in the database, one row per day (and one per agent), so the work left
# to Python follows days and agents, not calls or rollup rows. A figure row is a vector laid
# out as FIGURE_COLUMNS; histogram buckets and hours come out of the JSON lists by index.
STATUSES = tuple(str(s) for s in CallStatus)
_ANSWERED_Q = Q(status__in=sorted(ANSWERED))


def _json_item_sum(field: str, index: int, **extra) -> Sum:
    return Sum(Cast(KT(f"{field}__{index}"), IntegerField()), **extra)


FIGURE_COLUMNS: dict[str, Sum | Max] = {
    "n_total": Sum("count"),
    **{f"n_status{i}": Sum("count", filter=Q(status=s)) for i, s in enumerate(STATUSES)},
    "n_inbound": Sum("count", filter=Q(direction=Direction.INBOUND)),
    "n_outbound": Sum("count", filter=Q(direction=Direction.OUTBOUND)),
    "talk": Sum("duration_sum", filter=_ANSWERED_Q),
    "talk_max": Max("duration_max", filter=_ANSWERED_Q),
    **{f"hist{i}": _json_item_sum("duration_hist", i, filter=_ANSWERED_Q)
       for i in range(BUCKET_COUNT)},
}


def hour_columns(start: date) -> dict[str, Sum]:
    """Calls per local hour, summed from `start` on (the previous period needs no heatmap)."""
    return {f"hour{i}": _json_item_sum("hour_counts", i, filter=Q(day__gte=start))
            for i in range(24)}
_STATUS_AT = {s: 1 + i for i, s in enumerate(STATUSES)}
_INBOUND, _OUTBOUND, _TALK, _MAX = (1 + len(STATUSES) + i for i in range(4))
_HIST = _MAX + 1
_WIDTH = _HIST + BUCKET_COUNT


class _Acc:
    """Running sums of figure vectors (see FIGURE_COLUMNS)."""

    __slots__ = ("v",)

    def __init__(self) -> None:
        self.v = [0] * _WIDTH

    def add(self, row: Sequence[int | None]) -> None:
        v = self.v
        for i in range(_WIDTH):
            if i != _MAX:
                v[i] += row[i] or 0
        v[_MAX] = max(v[_MAX], row[_MAX] or 0)

    def totals(self) -> CallTotals:
        v = self.v
        total = v[0]
        answered = sum(v[_STATUS_AT[s]] for s in ANSWERED)
        failed = v[_STATUS_AT[CallStatus.FAILED]]
        busy = v[_STATUS_AT[CallStatus.BUSY]]
        no_answer = v[_STATUS_AT[CallStatus.NO_ANSWER]]
        hist = v[_HIST:]
        return CallTotals(
            total=total, answered=answered, answer_rate=rate(answered, total),
            failed=failed, busy=busy, no_answer=no_answer,
            other=total - answered - failed - busy - no_answer,
            inbound=v[_INBOUND], outbound=v[_OUTBOUND], talk_time_total=v[_TALK],
            talk_time_avg=round(v[_TALK] / answered, 1) if answered else None,
            duration_median=percentile(hist, 0.5, v[_MAX]),
            duration_p90=percentile(hist, 0.9, v[_MAX]),
            duration_max=v[_MAX] if answered else None,
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
    `include_testing`. Three queries at most (four if `environments` is a queryset): figures
    per day over both periods, figures per agent, agent names.
    """
    check_range(start, end)
    interval = Interval(interval)
    envs, org = resolve_environments(environments)
    agents, directions, statuses = (
        normalize_choice(agent_ids), normalize_choice(direction), normalize_choice(status)
    )
    prev_start, prev_end = previous_period(start, end)
    rollups = CallRollup.objects.filter(
        _filter_q(agents, directions, statuses, include_testing),
        environment__in=[e.pk for e in envs],
    ).order_by()
    hours = hour_columns(start)
    per_day = (
        rollups.filter(day__gte=prev_start, day__lte=end).values("day")
        .annotate(**FIGURE_COLUMNS, **hours)
        .values_list("day", *FIGURE_COLUMNS, *hours)
    )
    current, previous = _Acc(), _Acc()
    by_period: dict[date, _Acc] = {}
    heatmap = [[0] * 24 for _ in range(7)]
    for day, *values in per_day:
        if day < start:
            previous.add(values)
            continue
        current.add(values)
        by_period.setdefault(period_start(day, interval), _Acc()).add(values)
        weekday = heatmap[day.weekday()]
        for hour, n in enumerate(values[_WIDTH:]):
            weekday[hour] += n or 0

    totals, prev_totals = current.totals(), previous.totals()
    return CallsSummary(
        environment_ids=[e.pk for e in envs],
        timezone=org.timezone,
        start=start,
        end=end,
        interval=interval.value,
        filters=CallFilters(agents, directions, statuses, include_testing),
        totals=totals,
        previous_start=prev_start,
        previous_end=prev_end,
        previous=prev_totals,
        deltas={f: delta(getattr(totals, f), getattr(prev_totals, f)) for f in DELTA_FIELDS},
        series=[
            SeriesPoint(first, last, by_period.get(period_start(first, interval), _Acc()).totals())
            for first, last in periods(start, end, interval)
        ],
        agents=_agent_rows(rollups.filter(day__gte=start, day__lte=end)) if totals.total else [],
        heatmap=heatmap,
    )


def _agent_rows(rollups: QuerySet[CallRollup]) -> list[AgentRow]:
    """Per-agent rows, busiest first, with names from the mirror (two queries)."""
    by_agent: dict[tuple[int, str], _Acc] = {}
    for env_id, agent_id, *values in (
        rollups.values("environment_id", "agent_external_id").annotate(**FIGURE_COLUMNS)
        .values_list("environment_id", "agent_external_id", *FIGURE_COLUMNS)
    ):
        by_agent.setdefault((env_id, agent_id), _Acc()).add(values)
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
