"""Callbacks summary from the mirrored per-day Talkover callback stats.

Talkover's stats are counts per day, so any range is the sum of its days. Days are the
upstream's calendar days (as the days were requested), not the organisation's. A day with no
`CallbackDay` row was never mirrored: it is listed in `missing_days`, never counted as zero.
A member restricted to teams reads their agents' callbacks from the funnel's links instead
(`_team_rows`): the vendor's stats are one environment's, every agent's.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta

from django.db.models import Count, QuerySet

from portal.models import Environment
from portal.tenancy.restriction import narrowing
from reports.days import check_range
from reports.queries.common import (
    Comparison,
    Delta,
    compare_spans,
    days_in,
    delta,
    previous_period,
    ratio,
    resolve_environments,
)
from sync.coverage import Coverage, DayState, call_windows, callbacks_coverage
from sync.models import CallbackDay, CallbackLink, CallbackSourceDay


@dataclasses.dataclass(frozen=True)
class CallbackTotals:
    """Callback counts; rates are over `received` (None when nothing was received)."""

    received: int = 0
    answered: int = 0
    unmatched: int = 0
    answer_rate: float | None = None
    unmatched_rate: float | None = None
    days_mirrored: int = 0


@dataclasses.dataclass(frozen=True)
class CallbackDayRow:
    """One day; `mirrored` is False (and the counts None) when no environment has the day."""

    day: date
    mirrored: bool
    received: int | None
    answered: int | None
    unmatched: int | None
    # Fetched while the day was still running (today): the counts may still grow.
    partial: bool = False


@dataclasses.dataclass(frozen=True)
class SourceAgentRow:
    """Matched callbacks attributed to one source (outbound) agent over the range."""

    environment_id: int
    source_agent_id: str
    name: str
    count: int


@dataclasses.dataclass(frozen=True)
class CallbacksSummary:
    """Answer of `callbacks_summary`.

    `missing_days` lists days some environment never mirrored (details per environment in
    `missing_by_environment`); the totals cover only the mirrored days.
    """

    environment_ids: list[int]
    start: date
    end: date
    totals: CallbackTotals
    previous_start: date
    previous_end: date
    # None when there is no like-for-like comparison (`comparison.reason` says why).
    previous: CallbackTotals | None
    deltas: dict[str, Delta]
    days: list[CallbackDayRow]
    by_source_agent: list[SourceAgentRow]
    missing_days: list[date]
    missing_by_environment: dict[int, list[date]]
    coverage: Coverage
    comparison: Comparison


def _totals(received: int, answered: int, unmatched: int, days: int) -> CallbackTotals:
    return CallbackTotals(received, answered, unmatched, ratio(answered, received),
                          ratio(unmatched, received), days)


DELTA_FIELDS = ("received", "answered", "unmatched", "answer_rate", "unmatched_rate")


def callbacks_summary(
    environments: Iterable[Environment] | QuerySet[Environment],
    start: date,
    end: date,
) -> CallbacksSummary:
    """Callback figures of `environments` for the days start..end (inclusive); three queries."""
    check_range(start, end, max_days=None)  # the one range rule set (reports.days)
    envs, _ = resolve_environments(environments)
    # Only a provider with callback statistics has days to miss: an Origins AI environment
    # beside Talkover ones must not make every day "not mirrored yet".
    envs = [e for e in envs if e.spec.callback_stats] or envs
    env_ids = [e.pk for e in envs]
    prev_start, prev_end = previous_period(start, end)
    rows = _day_rows(envs, prev_start, end)
    both = callbacks_coverage(envs, prev_start, end, rows=(r[:3] for r in rows))
    coverage = both.clip(start, end)
    comparison = compare_spans(both, start, end)
    per_day, now_side, then_side = _sum_rows(rows, start, comparison)
    all_days = days_in(start, end)
    received = sum(v[0] for v in per_day.values())
    answered = sum(v[1] for v in per_day.values())
    unmatched = sum(v[2] for v in per_day.values())
    totals = _totals(received, answered, unmatched, len(per_day))
    if comparison.available:
        compared, previous = _totals(*now_side), _totals(*then_side)
        deltas = {f: delta(getattr(compared, f), getattr(previous, f)) for f in DELTA_FIELDS}
    else:
        previous = None
        deltas = {f: Delta(getattr(totals, f), None, None, None) for f in DELTA_FIELDS}
    return CallbacksSummary(
        environment_ids=env_ids,
        start=start,
        end=end,
        totals=totals,
        # The days the previous figures hold (like for like: an open day left out of both).
        previous_start=comparison.previous_start if comparison.available else prev_start,
        previous_end=comparison.previous_end if comparison.available else prev_end,
        previous=previous,
        deltas=deltas,
        days=[
            CallbackDayRow(d, True, *per_day[d], partial=d in coverage.partial_days)
            if d in per_day else CallbackDayRow(d, False, None, None, None)
            for d in all_days
        ],
        by_source_agent=_source_rows(env_ids, start, end),
        missing_days=coverage.missing_days,
        missing_by_environment=coverage.missing_by_environment,
        coverage=coverage,
        comparison=comparison,
    )


def _day_rows(envs: list[Environment], start: date, end: date) -> list[tuple]:
    """(environment id, day, fetched at, received, answered, unmatched) per environment and
    day: the vendor's `CallbackDay`, or the funnel's links for a member restricted to teams
    (a caller restricted in another organisation reads these whole)."""
    if narrowing([e.pk for e in envs]) is not None:
        return _team_rows(envs, start, end)
    return list(CallbackDay.objects.filter(
        environment_id__in=[e.pk for e in envs], day__gte=start, day__lte=end
    ).values_list("environment_id", "day", "fetched_at", "total_received", "answered",
                  "unmatched"))


def _sum_rows(rows: list[tuple], start: date, comparison: Comparison
              ) -> tuple[dict[date, list[int]], list[int], list[int]]:
    """({day from `start`: [received, answered, unmatched]}, and the comparison's two sides as
    [received, answered, unmatched, days])."""
    per_day: dict[date, list[int]] = {}
    sides = {"now": [0, 0, 0, 0], "then": [0, 0, 0, 0]}
    for _, day, _, received, answered, unmatched in rows:
        side = comparison.side(day)
        if side:
            sides[side] = [a + b for a, b in zip(sides[side], (received, answered, unmatched, 1),
                                                 strict=True)]
        if day < start:
            continue
        sums = per_day.setdefault(day, [0, 0, 0])
        sums[0] += received
        sums[1] += answered
        sums[2] += unmatched
    return per_day, sides["now"], sides["then"]


def _team_rows(envs: list[Environment], start: date, end: date) -> list[tuple]:
    """A member restricted to teams: the day rows `callbacks_summary` reads, from the funnel's
    links (the vendor's `CallbackDay` counts every agent's callbacks; the context hides it).
    A day counts as read when the environment's calls were (the links come from them), and
    as partial while it ran, as the vendor's rows would."""
    counts: dict[tuple[int, date], list[int]] = {}
    for env_id, day, answered, source, n in CallbackLink.objects.filter(
            environment_id__in=[e.pk for e in envs], callback_day__gte=start,
            callback_day__lte=end, is_testing=False).values_list(
            "environment_id", "callback_day", "callback_answered", "source_external_id"
    ).annotate(n=Count("id")).order_by():
        row = counts.setdefault((env_id, day), [0, 0, 0])
        row[0] += n
        row[1] += n if answered else 0
        row[2] += 0 if source else n
    windows = call_windows(envs)
    rows = []
    for env in envs:
        for day in days_in(start, end):
            first = datetime.combine(day, time.min, tzinfo=UTC)
            ended = first + timedelta(days=1)
            state = windows[env.pk].state(first, ended)
            if state == DayState.MISSING:
                continue
            fetched = ended if state == DayState.COVERED else first
            rows.append((env.pk, day, fetched, *counts.get((env.pk, day), (0, 0, 0))))
    return rows


def _source_rows(env_ids: list[int], start: date, end: date) -> list[SourceAgentRow]:
    """Per source agent over the range, biggest first; the latest day's name wins."""
    counts: dict[tuple[int, str], int] = {}
    names: dict[tuple[int, str], str] = {}
    for env_id, source, name, count in CallbackSourceDay.objects.filter(
        environment_id__in=env_ids, day__gte=start, day__lte=end
    ).order_by("day").values_list("environment_id", "source_agent_id", "name", "count"):
        key = (env_id, source)
        counts[key] = counts.get(key, 0) + count
        names[key] = name or names.get(key, "")
    rows = [SourceAgentRow(env, src, names[(env, src)], n) for (env, src), n in counts.items()]
    rows.sort(key=lambda r: (-r.count, r.name, r.source_agent_id))
    return rows
