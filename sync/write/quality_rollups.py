"""Refresh the voice-quality rollup (`QualityDayRollup`) of Origins calls for some local days.

Called by `sync.write.rollups.refresh_rollups` for Origins environments, inside the transaction that
wrote the calls and their call rollups. Like them it replaces the days it is given (recomputed
from the calls' quality columns, never incremented), reading the calls a month at a time so
memory follows a month of small tuples, never the raw records.
"""
from __future__ import annotations

import bisect
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta

from django.db import transaction

from portal.models import Environment
from sync.models import Call
from sync.models.quality import LATENCY_BUCKET_COUNT, LATENCY_BUCKETS, QualityDayRollup


def latency_bucket(ms: int) -> int:
    """Index of the latency histogram bucket holding `ms`."""
    return bisect.bisect_left(LATENCY_BUCKETS, ms)


def _count(counts: dict[str, int], value: str) -> None:
    if value:
        counts[value] = counts.get(value, 0) + 1


def _aggregate(environment: Environment, days: list[date]) -> list[QualityDayRollup]:
    tz = environment.organization.tzinfo
    wanted = set(days)
    # Local midnights as aware datetimes (as sync.write.rollups.local_day_bounds, which imports us).
    start = datetime.combine(min(days), time.min, tzinfo=tz)
    end = datetime.combine(max(days) + timedelta(days=1), time.min, tzinfo=tz)
    rows: dict[tuple[date, str], QualityDayRollup] = {}
    calls = (Call.objects.filter(environment=environment, is_testing=False,
                                 started_at__gte=start, started_at__lt=end)
             .order_by().values_list("agent_external_id", "started_at", "latency_ms",
                                     "billed_duration", "hangup_source", "hangup_cause",
                                     "sentiment", "insight"))
    for agent_id, started, latency, billed, source, cause, sentiment, insight in \
            calls.iterator(chunk_size=5000):
        day = started.astimezone(tz).date()
        if day not in wanted:
            continue
        row = rows.get((day, agent_id))
        if row is None:
            row = rows[(day, agent_id)] = QualityDayRollup(
                environment=environment, day=day, agent_external_id=agent_id,
                latency_hist=[0] * LATENCY_BUCKET_COUNT, hangup_sources={}, hangup_causes={},
                sentiments={}, insights={})
        row.calls += 1
        if latency is not None:
            row.latency_calls += 1
            row.latency_hist[latency_bucket(latency)] += 1
            row.latency_max = max(row.latency_max, latency)
        if billed is not None:
            row.billed_calls += 1
            row.billed_seconds += billed
        _count(row.hangup_sources, source)
        _count(row.hangup_causes, cause)
        _count(row.sentiments, sentiment)
        _count(row.insights, insight)
    return list(rows.values())


def refresh_quality(environment: Environment, local_days: Iterable[date]) -> int:
    """Recompute the quality rollup of `local_days`; returns rows written."""
    days = sorted(set(local_days))
    if not days:
        return 0
    new_rows: list[QualityDayRollup] = []
    for i in range(0, len(days), 31):
        new_rows.extend(_aggregate(environment, days[i:i + 31]))
    with transaction.atomic():
        QualityDayRollup.objects.filter(environment=environment, day__in=days).delete()
        QualityDayRollup.objects.bulk_create(new_rows, batch_size=1000)
    return len(new_rows)
