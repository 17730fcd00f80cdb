"""Calls per local hour of ONE day, by outcome: the dashboard's series for a one-day range.

The rollups keep calls per day (their hour counts are not split by status), so a one-day
chart of 24 points by outcome is read from the raw calls of that day: one grouped query
over at most a day of calls, through the one call filter (`reports.call_filter`: the same
days, filters and test-call rule as the explorer's). Hours are the organisation's, as in
the explorer's `hour` filter, so each bar opens exactly its calls.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import date

from django.db.models import Count
from django.db.models.functions import ExtractHour

from portal.models import Environment
from reports.call_filter import CallCriteria, filter_calls
from reports.queries.common import ratio, resolve_environments
from sync.models.core import ANSWERED_STATUSES, CallStatus

_GROUPS = {str(CallStatus.NO_ANSWER): "no_answer", str(CallStatus.BUSY): "busy",
           str(CallStatus.FAILED): "failed",
           **{str(s): "answered" for s in ANSWERED_STATUSES}}


@dataclasses.dataclass(frozen=True)
class OutcomeCounts:
    """Calls by the report's outcome groups, and the answer rate over all of them: a period's
    totals (`CallTotals`) and one hour of a day (`HourPoint`) count the same way."""

    total: int = 0
    answered: int = 0
    answer_rate: float | None = None
    failed: int = 0
    busy: int = 0
    no_answer: int = 0
    # initiated / ringing / queued: calls still in progress (or never resolved) upstream.
    other: int = 0


@dataclasses.dataclass(frozen=True, kw_only=True)
class HourPoint(OutcomeCounts):
    """Calls started in one local hour (0-23), by the report's outcome groups."""

    hour: int


def hourly_points(environments: Sequence[Environment], day: date, *,
                  agent_ids: Sequence[str] | None = None,
                  direction: Sequence[str] | None = None,
                  status: Sequence[str] | None = None,
                  include_testing: bool = False) -> list[HourPoint]:
    """24 points (local hours 0-23) of the calls of `day` (hours without calls count 0)."""
    envs, org = resolve_environments(environments)
    counts = [dict.fromkeys(("total", *_GROUPS.values(), "other"), 0) for _ in range(24)]
    calls = filter_calls(CallCriteria(
        environment_ids=[e.pk for e in envs], timezone=org.tzinfo, start=day, end=day,
        agent_ids=agent_ids, direction=direction, status=status,
        include_testing=include_testing))
    rows = (calls.order_by().annotate(local_hour=ExtractHour("started_at", tzinfo=org.tzinfo))
            .values("local_hour", "status").annotate(n=Count("id")))
    for row in rows:
        hour = counts[row["local_hour"]]
        hour[_GROUPS.get(row["status"], "other")] += row["n"]
        hour["total"] += row["n"]
    return [HourPoint(hour=h, **c, answer_rate=ratio(c["answered"], c["total"]))
            for h, c in enumerate(counts)]
