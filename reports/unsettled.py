"""Calls without a final status: still in progress, or stale with an unknown outcome.

A call the upstream last reported as initiated, ringing or queued (the report's "other"
group) is in progress only while the sync can still learn its outcome: each run re-reads the
environment's lookback window (`Environment.lookback_days`, default 2). A call on a local
day before that window is never read again, so after this horizon it is named "unknown
outcome (stale)" instead of being counted as in progress for weeks. Both parts come from the
daily series (rollup days), so each still opens exactly its calls in the explorer (outcome
`other` over the days on its side of the horizon).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from portal.models import Environment


def settling_from(environments: Sequence[Environment], today: date) -> date:
    """The first local day some environment's lookback still re-reads: calls of earlier
    days keep the status they have."""
    return today - timedelta(days=max((e.lookback_days for e in environments), default=0))


@dataclass(frozen=True)
class Unsettled:
    """The "other" calls of a range split at `settling_from`."""

    in_progress: int
    stale: int
    settling_from: date


def split_other(series: Sequence, environments: Sequence[Environment],
                today: date) -> Unsettled:
    """Split the `other` figures of a daily series (points with `start`, `end`, `figures`)
    at the horizon; never-mirrored points count nowhere."""
    first = settling_from(environments, today)
    in_progress = stale = 0
    for point in series:
        other = 0 if point.figures is None else point.figures.other or 0
        if point.end < first:
            stale += other
        else:
            in_progress += other
    return Unsettled(in_progress, stale, first)
