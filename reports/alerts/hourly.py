"""Calls per local hour of a scope, read from the daily rollups the sync already keeps.

There is no hourly rollup table, and none is needed: `CallRollup` (one row per environment, local
day, agent, direction, status, is_testing) carries `hour_counts`, the calls of each local hour of
that day, refreshed by the sync in the same transaction as the calls. Summed per (day, status) they
give every figure the `anomaly` condition judges — calls, answered, failed, no answer — per local
hour, in the organisation's timezone (a day's hours follow its wall clock, so "Tuesday 10:00" is the
same hour every week across DST). The read goes through the (environment, day) index, one lookup per
day: a live hour reads its day and the same weekday of the 6 weeks before, 7 days of rows per
environment (14 when its runs cross midnight; agents × directions × statuses, a few dozen to a few
hundred rows a day, whatever the volume), summed in SQL (`bench/alerts_eval.py` measures it at
1,000 environments). Counting raw calls by hour instead costs about the same for one hour (the
calls of 6 hours through the (environment, started_at) index) but grows with the volume, and a
preview's 10 weeks of every hour read every call of them.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import date

from portal.replicas import connection_for
from reports.alerts.metrics import Figures
from sync.models import CallRollup
from sync.models.core import ANSWERED_STATUSES, CallStatus

_ANSWERED = {str(s) for s in ANSWERED_STATUSES}


@dataclasses.dataclass(frozen=True)
class AlertScope:
    """What a rule watches: some environments of one organisation and, optionally, only
    some of their agents (one agent today; a team's agents once teams exist: the same
    tuple, so nothing below changes)."""

    environment_ids: tuple[int, ...]
    agent_ids: tuple[str, ...] = ()  # empty: every agent


def _add(into: dict[tuple[date, int], list[int]], day: date, hour: int, status: str,
         count: int) -> None:
    cell = into.setdefault((day, hour), [0, 0, 0, 0])
    cell[0] += count
    if status in _ANSWERED:
        cell[1] += count
    elif status == CallStatus.FAILED:
        cell[2] += count
    elif status == CallStatus.NO_ANSWER:
        cell[3] += count


def _sql(scope: AlertScope, one_hour: bool) -> str:
    table = CallRollup._meta.db_table
    agents = " AND agent_external_id = ANY(%(agents)s)" if scope.agent_ids else ""
    # One (environment, day) index lookup per pair: with `environment_id = ANY(…) AND day =
    # ANY(…)` the planner reads the whole history of the environment through its own index
    # and filters the days (30–45 ms at 180 days and 200,000 calls; this form 7 ms).
    where = ("(environment_id, day) IN (SELECT e, d FROM unnest(%(envs)s::int[]) AS e "
             f"CROSS JOIN unnest(%(days)s::date[]) AS d) AND NOT is_testing{agents}")
    if one_hour:
        # One hour of each day: one array element per row, no unnesting.
        return (f"SELECT day, %(hour)s, status, sum((hour_counts->>%(hour)s)::int) "
                f"FROM {table} WHERE {where} GROUP BY day, status")
    return (f"SELECT day, h.i - 1, status, sum(h.n::int) FROM {table} "
            f"CROSS JOIN LATERAL jsonb_array_elements_text(hour_counts) WITH ORDINALITY "
            f"AS h(n, i) WHERE {where} GROUP BY day, h.i, status")


def _rows(scope: AlertScope, days: list[date], hour: int | None) -> Iterable[tuple]:
    """(day, hour, status, calls) rows of the scope's non-testing calls on `days`."""
    with connection_for(CallRollup).cursor() as cursor:
        cursor.execute(_sql(scope, hour is not None), {
            "envs": list(scope.environment_ids), "days": days, "hour": hour,
            "agents": list(scope.agent_ids)})
        return cursor.fetchall()


def hourly_figures(scope: AlertScope, days: Iterable[date], hour: int | None = None
                   ) -> dict[tuple[date, int], Figures]:
    """(local day, local hour) → Figures for every hour of `days` (or only `hour` of each);
    hours without calls are absent (zero calls: whether they were mirrored is the caller's
    question, asked of the coverage, never of the data)."""
    days = sorted(set(days))
    if not days or not scope.environment_ids:
        return {}
    sums: dict[tuple[date, int], list[int]] = {}
    for day, h, status, count in _rows(scope, days, hour):
        if count:
            _add(sums, day, int(h), status, int(count))
    return {key: Figures(calls=c, answered=a, failed=f, no_answer=n)
            for key, (c, a, f, n) in sums.items()}
