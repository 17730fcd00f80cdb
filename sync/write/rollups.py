"""Daily call rollups, refreshed by the sync for exactly the local days it touched.

Two levels, written together: `CallRollup` aggregates one (environment, local day, agent,
direction, status, is_testing); `AgentDayRollup` sums those per (environment, local day,
agent, direction, is_testing). Days are the organisation's local days, so a UTC day of calls
touches up to two local days. Refreshing a day recomputes it from raw calls in one grouped
query (replace, not increment): a rerun or a late status change can never double-count.
"""
from __future__ import annotations

import bisect
import zoneinfo
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from functools import cache

from django.db import connection, transaction

from portal.models import Environment
from sync.callback_links import refresh_outbound_days, utc_day
from sync.models import (
    AgentDayRollup,
    Call,
    CallRollup,
    KpiDayRollup,
    OutcomeDayRollup,
    QualityDayRollup,
)
from sync.models.core import (
    ANSWERED_STATUSES,
    BUCKET_COUNT,
    COST_UNITS,
    DURATION_BUCKETS,
    FIGURE_COLUMNS,
    HOUR_COLUMNS,
    STATUS_COLUMNS,
    Direction,
)
from sync.outcomes import refresh_outcome_days
from sync.write.copy_rows import insert_rows
from sync.write.kpi_rollups import refresh_kpi_days
from sync.write.quality_rollups import refresh_quality


def bucket_of(duration: int) -> int:
    """Index of the histogram bucket holding `duration` seconds."""
    return bisect.bisect_left(DURATION_BUCKETS, duration)


def bucket_bounds(index: int) -> tuple[int, int | None]:
    """(lower exclusive, upper inclusive) seconds of a bucket; upper None for the last."""
    lower = DURATION_BUCKETS[index - 1] if index > 0 else -1
    upper = DURATION_BUCKETS[index] if index < len(DURATION_BUCKETS) else None
    return lower, upper


def local_day_bounds(day: date, tz: zoneinfo.ZoneInfo) -> tuple[datetime, datetime]:
    """[start, end) of a local day as aware datetimes (DST days are 23 or 25 hours long)."""
    start = datetime.combine(day, time.min, tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz)
    return start, end


def local_days_of(moments: Iterable[datetime], tz: zoneinfo.ZoneInfo) -> set[date]:
    return {moment.astimezone(tz).date() for moment in moments}


def local_days_for_upstream_day(day: date, shift: timedelta,
                                tz: zoneinfo.ZoneInfo) -> set[date]:
    """The local days that an upstream's calendar day overlaps, its days running `shift`
    ahead of UTC (`sync.write.ledger.day_bounds`; zero: UTC days)."""
    start = datetime.combine(day, time.min, tzinfo=zoneinfo.ZoneInfo("UTC")) - shift
    first = start.astimezone(tz).date()
    last = (start + timedelta(days=1) - timedelta(microseconds=1)).astimezone(tz).date()
    return {first + timedelta(days=i) for i in range((last - first).days + 1)}


def utc_days_overlapping(local_days: Iterable[date], tz: zoneinfo.ZoneInfo) -> list[date]:
    """The UTC days that overlap these local days: a local day's rollups are refreshed once
    every UTC day it overlaps was written (`sync.write.call_writer`), so those UTC days are whole
    then, and counting them again from the calls is exact (the callback funnel's outbound
    side, `sync.callback_links.refresh_outbound_days`)."""
    out: set[date] = set()
    for day in local_days:
        start, end = local_day_bounds(day, tz)
        first, last = utc_day(start), utc_day(end - timedelta(microseconds=1))
        out |= {first + timedelta(days=i) for i in range((last - first).days + 1)}
    return sorted(out)


def _aggregate(environment: Environment, days: list[date],
               tz: zoneinfo.ZoneInfo) -> list[CallRollup]:
    """Rollup rows of `days` from one query over their span (a sync refreshes 1–2 days),
    grouped by the database (a back-fill's rollups cost a tenth of reading every call into
    Python)."""
    start, _ = local_day_bounds(min(days), tz)
    _, end = local_day_bounds(max(days), tz)
    with connection.cursor() as cursor:
        cursor.execute(_aggregate_sql(), {"tz": tz.key, "env": environment.pk, "start": start,
                                          "end": end, "days": list(days)})
        return [
            CallRollup(environment=environment, day=day, agent_external_id=agent_id,
                       direction=direction, status=status, is_testing=is_testing, count=count,
                       duration_sum=int(total), duration_max=longest, costed=costed,
                       cost_units=int(cost), duration_hist=list(rest[:BUCKET_COUNT]),
                       hour_counts=list(rest[BUCKET_COUNT:]))
            for day, agent_id, direction, status, is_testing, count, total, longest, costed,
            cost, *rest in cursor.fetchall()
        ]


@cache
def _aggregate_sql() -> str:
    bounds = ", ".join(str(b) for b in DURATION_BUCKETS)
    hist = ", ".join(f"count(*) FILTER (WHERE bucket = {i})" for i in range(BUCKET_COUNT))
    hours = ", ".join(f"count(*) FILTER (WHERE hour = {h})" for h in range(24))
    # width_bucket counts the bounds <= its operand; bucket_of counts the bounds < duration.
    # OFFSET 0 keeps the subquery apart: inlined, its hour and bucket would be computed again
    # in each of the 42 FILTER clauses.
    return f"""
        SELECT day, agent_external_id, direction, status, is_testing, count(*),
               sum(duration), max(duration), count(vendor_cost),
               coalesce(sum(vendor_cost * {COST_UNITS}), 0)::bigint, {hist}, {hours}
        FROM (SELECT (started_at AT TIME ZONE %(tz)s)::date AS day,
                     extract(hour FROM started_at AT TIME ZONE %(tz)s)::int AS hour,
                     width_bucket(duration - 1, ARRAY[{bounds}]) AS bucket,
                     agent_external_id, direction, status, is_testing, duration, vendor_cost
              FROM {Call._meta.db_table}
              WHERE environment_id = %(env)s AND started_at >= %(start)s
                AND started_at < %(end)s
              OFFSET 0) AS local_calls
        WHERE day = ANY(%(days)s)
        GROUP BY day, agent_external_id, direction, status, is_testing"""


_AT = {column: i for i, column in enumerate(FIGURE_COLUMNS)}
_STATUS_AT = {status: _AT[column] for status, column in STATUS_COLUMNS.items()}
_DIRECTION_AT = {Direction.INBOUND: _AT["inbound"], Direction.OUTBOUND: _AT["outbound"]}
_CONNECTED = {str(s) for s in ANSWERED_STATUSES}
_HIST = _AT["hist_00"]


def agent_days(rows: Iterable[CallRollup]) -> list[AgentDayRollup]:
    """The `AgentDayRollup` rows that sum `rows` per (environment, day, agent, direction,
    is_testing)."""
    sums: dict[tuple, tuple[CallRollup, list[int], list[int]]] = {}
    for row in rows:
        key = (row.environment_id, row.day, row.agent_external_id, row.direction,
               row.is_testing)
        if key not in sums:
            sums[key] = (row, [0] * len(FIGURE_COLUMNS), [0] * 24)
        figures, hours = sums[key][1], sums[key][2]
        figures[0] += row.count
        if row.status in _STATUS_AT:
            figures[_STATUS_AT[row.status]] += row.count
        if row.direction in _DIRECTION_AT:
            figures[_DIRECTION_AT[row.direction]] += row.count
        figures[_AT["costed"]] += row.costed
        figures[_AT["cost_units"]] += row.cost_units
        if row.status in _CONNECTED:
            figures[_AT["talk_time"]] += row.duration_sum
            figures[_AT["talk_max"]] = max(figures[_AT["talk_max"]], row.duration_max)
            for i, n in enumerate(row.duration_hist):
                figures[_HIST + i] += n
        for hour, n in enumerate(row.hour_counts):
            hours[hour] += n
    return [
        AgentDayRollup(environment_id=first.environment_id, day=first.day,
                       agent_external_id=first.agent_external_id, direction=first.direction,
                       is_testing=first.is_testing,
                       **dict(zip(FIGURE_COLUMNS, figures, strict=True)),
                       **dict(zip(HOUR_COLUMNS, hours, strict=True)))
        for first, figures, hours in sums.values()
    ]


def refresh_rollups(environment: Environment, local_days: Iterable[date]) -> int:
    """Recompute the rollups of `local_days` from raw calls; returns rows written.

    Call it inside the transaction that wrote the calls, so readers never see calls without
    their rollups (or the reverse).
    """
    tz = environment.organization.tzinfo
    days = sorted(set(local_days))
    if not days:
        return 0
    # Consecutive days share one query; a rebuild over months goes a month at a time so
    # memory follows the calls of a month, not of the environment.
    new_rows: list[CallRollup] = []
    for i in range(0, len(days), 31):
        new_rows.extend(_aggregate(environment, days[i:i + 31], tz))
    with transaction.atomic():
        CallRollup.objects.filter(environment=environment, day__in=days).delete()
        insert_rows(CallRollup, new_rows)
        AgentDayRollup.objects.filter(environment=environment, day__in=days).delete()
        insert_rows(AgentDayRollup, agent_days(new_rows))
        refresh_outcome_days(environment, days)
        refresh_kpi_days(environment, days)
        if environment.spec.quality:
            refresh_quality(environment, days)
        if environment.spec.callback_stats:
            # The callback funnel's outbound side, per UTC day (sync.callback_links).
            refresh_outbound_days(environment, utc_days_overlapping(days, tz))
    return len(new_rows)


def rebuild_rollups(environment: Environment) -> int:
    """Recompute every day of an environment (after its organisation's timezone changed)."""
    tz = environment.organization.tzinfo
    moments = Call.objects.filter(environment=environment).values_list("started_at", flat=True)
    days = local_days_of(moments.iterator(chunk_size=20000), tz)
    with transaction.atomic():
        CallRollup.objects.filter(environment=environment).exclude(day__in=days).delete()
        AgentDayRollup.objects.filter(environment=environment).exclude(day__in=days).delete()
        QualityDayRollup.objects.filter(environment=environment).exclude(day__in=days).delete()
        OutcomeDayRollup.objects.filter(environment=environment).exclude(day__in=days).delete()
        KpiDayRollup.objects.filter(environment=environment).exclude(day__in=days).delete()
        return refresh_rollups(environment, days)
