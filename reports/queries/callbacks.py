"""Callbacks summary from the mirrored per-day Talkover callback stats.

Talkover's stats are counts per day, so any range is the sum of its days. Days are the
upstream's calendar days (as the days were requested), not the organisation's. A day with no
`CallbackDay` row was never mirrored: it is listed in `missing_days`, never counted as zero.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import date

from django.db.models import QuerySet

from portal.models import Environment
from reports.queries.common import (
    Delta,
    check_range,
    days_in,
    delta,
    previous_period,
    rate,
    resolve_environments,
)
from sync.models import CallbackDay, CallbackSourceDay


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
    previous: CallbackTotals
    deltas: dict[str, Delta]
    days: list[CallbackDayRow]
    by_source_agent: list[SourceAgentRow]
    missing_days: list[date]
    missing_by_environment: dict[int, list[date]]


def _totals(received: int, answered: int, unmatched: int, days: int) -> CallbackTotals:
    return CallbackTotals(received, answered, unmatched, rate(answered, received),
                          rate(unmatched, received), days)


DELTA_FIELDS = ("received", "answered", "unmatched", "answer_rate", "unmatched_rate")


def callbacks_summary(
    environments: Iterable[Environment] | QuerySet[Environment],
    start: date,
    end: date,
) -> CallbacksSummary:
    """Callback figures of `environments` for the days start..end (inclusive); three queries."""
    check_range(start, end)
    envs, _ = resolve_environments(environments)
    env_ids = [e.pk for e in envs]
    prev_start, prev_end = previous_period(start, end)
    per_day: dict[date, list[int]] = {}
    seen: dict[int, set[date]] = {env_id: set() for env_id in env_ids}
    prev = [0, 0, 0, 0]
    for env_id, day, received, answered, unmatched in CallbackDay.objects.filter(
        environment_id__in=env_ids, day__gte=prev_start, day__lte=end
    ).values_list("environment_id", "day", "total_received", "answered", "unmatched"):
        if day < start:
            prev = [prev[0] + received, prev[1] + answered, prev[2] + unmatched, prev[3] + 1]
            continue
        seen[env_id].add(day)
        sums = per_day.setdefault(day, [0, 0, 0])
        sums[0] += received
        sums[1] += answered
        sums[2] += unmatched

    all_days = days_in(start, end)
    missing_by_env = {
        env_id: [d for d in all_days if d not in days] for env_id, days in seen.items()
    }
    missing = sorted({d for days in missing_by_env.values() for d in days})
    received = sum(v[0] for v in per_day.values())
    answered = sum(v[1] for v in per_day.values())
    unmatched = sum(v[2] for v in per_day.values())
    totals = _totals(received, answered, unmatched, len(per_day))
    previous = _totals(*prev)
    return CallbacksSummary(
        environment_ids=env_ids,
        start=start,
        end=end,
        totals=totals,
        previous_start=prev_start,
        previous_end=prev_end,
        previous=previous,
        deltas={f: delta(getattr(totals, f), getattr(previous, f)) for f in DELTA_FIELDS},
        days=[
            CallbackDayRow(d, True, *per_day[d]) if d in per_day
            else CallbackDayRow(d, False, None, None, None)
            for d in all_days
        ],
        by_source_agent=_source_rows(env_ids, start, end),
        missing_days=missing,
        missing_by_environment={k: v for k, v in missing_by_env.items() if v},
    )


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
