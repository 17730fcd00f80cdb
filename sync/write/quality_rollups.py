"""Refresh the voice-quality rollup (`QualityDayRollup`) of Origins calls for some local days.

Called by `sync.write.rollups.refresh_rollups` for Origins environments, inside the transaction that
wrote the calls and their call rollups. Like them it replaces the days it is given (recomputed
from the calls' quality columns, never incremented): one statement deletes the days' rows and
one `INSERT … SELECT` groups the calls by day and agent in the database — the latency
histogram by `width_bucket`, each breakdown a `jsonb_object_agg` of its values' counts — so no
call travels to Python.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from functools import cache

from django.db import connection, transaction

from portal.models import Environment
from sync.models import Call
from sync.models.quality import LATENCY_BUCKET_COUNT, LATENCY_BUCKETS, QualityDayRollup

# Each breakdown of the rollup and the call column it counts (an empty value is not reported).
_MAPS = {"hangup_sources": "hangup_source", "hangup_causes": "hangup_cause",
         "sentiments": "sentiment", "insights": "insight"}


@cache
def _insert_sql() -> str:
    bounds = ", ".join(str(b) for b in LATENCY_BUCKETS)
    # width_bucket counts the bounds <= its operand; a latency's bucket counts the bounds
    # < it (bisect_left), so integer milliseconds go in as ms - 1.
    hist = ", ".join(f"count(*) FILTER (WHERE bucket = {i})" for i in range(LATENCY_BUCKET_COUNT))
    counted = "\n            UNION ALL ".join(
        f"SELECT day, agent, '{name}' AS map, {column} AS value, count(*) AS n FROM kept "
        f"WHERE {column} <> '' GROUP BY day, agent, {column}"
        for name, column in _MAPS.items())
    maps = ", ".join(f"coalesce(m.maps -> '{name}', '{{}}'::jsonb)" for name in _MAPS)
    return f"""
        WITH kept AS MATERIALIZED (
            SELECT (started_at AT TIME ZONE %(tz)s)::date AS day, agent_external_id AS agent,
                   latency_ms, width_bucket(latency_ms - 1, ARRAY[{bounds}]) AS bucket,
                   billed_duration, {", ".join(_MAPS.values())}
            FROM {Call._meta.db_table}
            WHERE environment_id = %(env)s AND NOT is_testing
              AND started_at >= %(start)s AND started_at < %(end)s
              AND (started_at AT TIME ZONE %(tz)s)::date = ANY(%(days)s)),
        counted AS (
            {counted}),
        maps AS (
            SELECT day, agent, jsonb_object_agg(map, values) AS maps
            FROM (SELECT day, agent, map, jsonb_object_agg(value, n) AS values
                  FROM counted GROUP BY day, agent, map) AS per_map
            GROUP BY day, agent),
        figures AS (
            SELECT day, agent, count(*) AS calls, count(latency_ms) AS latency_calls,
                   jsonb_build_array({hist}) AS latency_hist,
                   coalesce(max(latency_ms), 0) AS latency_max,
                   count(billed_duration) AS billed_calls,
                   coalesce(sum(billed_duration), 0) AS billed_seconds
            FROM kept GROUP BY day, agent)
        INSERT INTO {QualityDayRollup._meta.db_table}
            (environment_id, day, agent_external_id, calls, latency_calls, latency_hist,
             latency_max, billed_calls, billed_seconds, {", ".join(_MAPS)})
        SELECT %(env)s, f.day, f.agent, f.calls, f.latency_calls, f.latency_hist,
               f.latency_max, f.billed_calls, f.billed_seconds, {maps}
        FROM figures f LEFT JOIN maps m ON m.day = f.day AND m.agent = f.agent"""


def refresh_quality(environment: Environment, local_days: Iterable[date]) -> int:
    """Recompute the quality rollup of `local_days`; returns rows written."""
    days = sorted(set(local_days))
    if not days:
        return 0
    tz = environment.organization.tzinfo
    # Local midnights as aware datetimes (as sync.write.rollups.local_day_bounds, which
    # imports us): the span the calls' partitions are pruned to.
    start = datetime.combine(days[0], time.min, tzinfo=tz)
    end = datetime.combine(days[-1] + timedelta(days=1), time.min, tzinfo=tz)
    with transaction.atomic():
        QualityDayRollup.objects.filter(environment=environment, day__in=days).delete()
        with connection.cursor() as cursor:
            cursor.execute(_insert_sql(), {"tz": tz.key, "env": environment.pk,
                                           "start": start, "end": end, "days": days})
            return cursor.rowcount
