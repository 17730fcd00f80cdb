"""The Quality report of Origins AI environments: latency, billed time, cost, hang-ups, insights.

Reads `QualityDayRollup` only (one row per environment, local day and agent), so its cost
grows with the days and agents in range, never with the calls. Every figure says how many
calls reported it: a figure no call reported is None ("not reported"), never 0. Latency
percentiles come from the sum of the rows' fixed histograms (exact within one bucket).

Coverage is the calls' (`sync.coverage.calls_coverage`, the one coverage of every report):
the Origins calls stream reads every agent's whole history, so each local day that ended
before its last complete read is complete; the day of that read is partial; later days, days
retention dropped, or every day of an environment never read, are missing — their figures are
absent.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal

from django.db.models import QuerySet

from portal.models import Environment
from reports.days import check_range
from reports.queries.common import days_in, resolve_environments
from reports.queries.histogram import latency_bounds, percentile
from sync.coverage import DayState, call_windows, calls_coverage
from sync.models import Agent
from sync.models.quality import LATENCY_BUCKET_COUNT, QualityDayRollup

COMPLETE, PARTIAL, MISSING = "complete", "partial", "missing"
# The report's words for the calls coverage's states (`sync.coverage.DayState`).
_WORDS = {DayState.COVERED: COMPLETE, DayState.PARTIAL: PARTIAL, DayState.MISSING: MISSING}


@dataclasses.dataclass(frozen=True)
class Share:
    """One value as the provider sent it, and how many calls had it."""

    value: str
    calls: int


@dataclasses.dataclass(frozen=True)
class Distribution:
    """Calls per value (most frequent first) and how many calls did not report the field."""

    reported: list[Share]
    not_reported: int


@dataclasses.dataclass(frozen=True)
class QualityFigures:
    """Voice-quality figures of some calls; None = not reported by any of them."""

    calls: int
    latency_calls: int
    latency_p50_ms: int | None
    latency_p90_ms: int | None
    billed_calls: int
    billed_minutes: float | None
    # None without a price on every environment with billed time, or with nothing billed.
    cost: float | None
    hangup_sources: Distribution
    hangup_causes: Distribution
    sentiments: Distribution
    insights: Distribution


@dataclasses.dataclass(frozen=True)
class DayQuality:
    day: date
    coverage: str
    figures: QualityFigures | None  # None for a day never mirrored


@dataclasses.dataclass(frozen=True)
class AgentQuality:
    environment_id: int
    agent_id: str
    name: str
    figures: QualityFigures


@dataclasses.dataclass(frozen=True)
class QualityCoverage:
    """Which days of the range the mirror has read (see the module docstring)."""

    complete_days: int
    partial_days: list[date]
    missing_days: list[date]
    read_until: dict[int, datetime | None]  # environment id → its last complete read


@dataclasses.dataclass(frozen=True)
class QualitySummary:
    environment_ids: list[int]
    start: date
    end: date
    timezone: str
    # Environments in scope that have a per-minute price (cost is shown for them only).
    priced: bool
    totals: QualityFigures
    days: list[DayQuality]
    agents: list[AgentQuality]
    coverage: QualityCoverage


class _Sum:
    """Running sums of rollup rows: merged histograms and maps, billed seconds and cost."""

    def __init__(self) -> None:
        self.calls = self.latency_calls = self.latency_max = self.billed_calls = 0
        self.billed_seconds = 0.0
        self.cost: Decimal | None = Decimal(0)
        self.hist = [0] * LATENCY_BUCKET_COUNT
        self.maps: dict[str, dict[str, int]] = {k: {} for k in _MAPS}

    def add(self, row: QualityDayRollup, price: Decimal | None) -> None:
        self.calls += row.calls
        self.latency_calls += row.latency_calls
        self.latency_max = max(self.latency_max, row.latency_max)
        for i, n in enumerate(row.latency_hist[:LATENCY_BUCKET_COUNT]):
            self.hist[i] += n
        self.billed_calls += row.billed_calls
        self.billed_seconds += row.billed_seconds
        if row.billed_calls:
            if price is None:
                self.cost = None
            elif self.cost is not None:
                self.cost += Decimal(str(row.billed_seconds)) / 60 * price
        for name in _MAPS:
            counts = self.maps[name]
            for value, n in (getattr(row, name) or {}).items():
                counts[value] = counts.get(value, 0) + n

    def figures(self) -> QualityFigures:
        def dist(name: str) -> Distribution:
            counts = self.maps[name]
            shares = sorted((Share(v, n) for v, n in counts.items()),
                            key=lambda s: (-s.calls, s.value))
            return Distribution(shares, self.calls - sum(counts.values()))

        billed = self.billed_calls > 0
        return QualityFigures(
            calls=self.calls, latency_calls=self.latency_calls,
            latency_p50_ms=percentile(self.hist, 0.5, self.latency_max, latency_bounds),
            latency_p90_ms=percentile(self.hist, 0.9, self.latency_max, latency_bounds),
            billed_calls=self.billed_calls,
            billed_minutes=round(self.billed_seconds / 60, 2) if billed else None,
            cost=round(float(self.cost), 2) if billed and self.cost is not None else None,
            **{name: dist(name) for name in _MAPS})


_MAPS = ("hangup_sources", "hangup_causes", "sentiments", "insights")


def quality_environments(environments: Iterable[Environment]) -> list[Environment]:
    """The environments whose provider sends voice-quality fields (`spec.quality`)."""
    return [e for e in environments if e.spec.quality]


def cache_params(environments: Iterable[Environment]) -> dict[str, list[str]]:
    """What a cached Quality summary depends on beyond the data version: each environment's
    price (cost) and last sync (coverage moves on with a sync that changed nothing)."""
    envs = sorted(environments, key=lambda e: e.pk)
    return {"prices": [str(e.price_per_minute) for e in envs],
            "synced": [str(e.last_synced_at) for e in envs]}


def _coverage(envs: list[Environment], start: date, end: date
              ) -> tuple[dict[date, str], QualityCoverage]:
    """Each day's state and the report's coverage, from the calls coverage of `envs`."""
    windows = call_windows(envs)
    calls = calls_coverage(envs, start, end, windows=windows)
    state = {day: _WORDS[calls.state(day)] for day in days_in(start, end)}
    coverage = QualityCoverage(
        complete_days=sum(1 for s in state.values() if s == COMPLETE),
        partial_days=list(calls.partial_days), missing_days=list(calls.missing_days),
        read_until={pk: window.end for pk, window in windows.items()})
    return state, coverage


def quality_summary(environments: Iterable[Environment] | QuerySet[Environment], start: date,
                    end: date, *, agent_ids: list[str] | None = None) -> QualitySummary:
    """The Quality report of the quality environments among `environments` over start..end
    (those whose provider sends voice-quality fields)."""
    check_range(start, end, max_days=None)  # the one range rule set (reports.days)
    envs, org = resolve_environments(environments)
    envs = quality_environments(envs)
    days = days_in(start, end)
    if not envs:
        raise ValueError("the Quality report covers environments with quality fields only")
    state, coverage = _coverage(envs, start, end)
    prices = {e.pk: e.price_per_minute for e in envs}
    rows = QualityDayRollup.objects.filter(environment__in=envs, day__gte=start, day__lte=end)
    if agent_ids:
        rows = rows.filter(agent_external_id__in=agent_ids)
    total, per_day, per_agent = _Sum(), {d: _Sum() for d in days}, {}
    for row in rows.order_by("day", "environment_id", "agent_external_id"):
        if state.get(row.day) == MISSING:
            continue  # a partial read of a day never completed: not shown as figures
        price = prices.get(row.environment_id)
        total.add(row, price)
        per_day[row.day].add(row, price)
        key = (row.environment_id, row.agent_external_id)
        per_agent.setdefault(key, _Sum()).add(row, price)
    names = dict(((e, a), n) for e, a, n in Agent.objects.filter(environment__in=envs)
                 .values_list("environment_id", "external_id", "name"))
    agents = [AgentQuality(env_id, agent_id, names.get((env_id, agent_id), "") or agent_id,
                           acc.figures())
              for (env_id, agent_id), acc in sorted(per_agent.items())]
    return QualitySummary(
        environment_ids=[e.pk for e in envs], start=start, end=end, timezone=org.timezone,
        priced=all(p is not None for p in prices.values()),
        totals=total.figures(),
        days=[DayQuality(d, state[d], None if state[d] == MISSING else per_day[d].figures())
              for d in days],
        agents=agents, coverage=coverage)
