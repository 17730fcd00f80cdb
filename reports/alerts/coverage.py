"""Is a window mirrored yet? The alerts' question, answered by the shared `sync.coverage`.

A metric is judged only over what the mirror has fully read, never from whether data exists:
`calls_mirrored` is the intersection of the environments' read calls windows (the same
`sync.coverage.call_windows` every report uses), `callbacks_missing_day` the first upstream
day some environment has not fetched whole (`sync.coverage.callbacks_coverage`; for a team's
rule, whose callbacks are its links, the first UTC day whose calls were not read whole).
"""
from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta

from portal.models import Environment
from portal.tenancy.restriction import narrowing
from reports.queries.common import days_in
from sync.coverage import DayState, call_windows, callbacks_coverage


@dataclasses.dataclass(frozen=True)
class Mirrored:
    """The span of time whose calls are fully mirrored for every environment given."""

    start: datetime | None  # None: from the beginning
    end: datetime | None  # None: nothing mirrored yet

    def covers(self, start: datetime, end: datetime) -> bool:
        return self.end is not None and end <= self.end and (
            self.start is None or start >= self.start)


def _environments(environment_ids: Sequence[int]) -> list[Environment]:
    return list(Environment.objects.filter(pk__in=environment_ids)
                .select_related("organization"))


def calls_mirrored(environment_ids: Sequence[int]) -> Mirrored:
    """The intersection of each environment's mirrored span of calls."""
    envs = _environments(environment_ids)
    if not envs:
        return Mirrored(None, None)
    start: datetime | None = None
    end: datetime | None = None
    for window in call_windows(envs).values():
        if window.end is None:
            return Mirrored(None, None)
        end = window.end if end is None else min(end, window.end)
        if window.start is not None:
            start = window.start if start is None else max(start, window.start)
    return Mirrored(start, end)


def callbacks_missing_day(environment_ids: Sequence[int], first: date, last: date
                          ) -> date | None:
    """The first day in [first, last] some environment has not mirrored whole, else None."""
    envs = _environments(environment_ids)
    if not envs:
        return first
    if narrowing(environment_ids) is not None:
        # A team's rule reads its links (`reports.alerts.metrics`), written from the calls: a
        # UTC day counts once every environment's calls were read whole for it.
        windows = call_windows(envs)
        for day in days_in(first, last):
            start = datetime.combine(day, time.min, tzinfo=UTC)
            if any(w.state(start, start + timedelta(days=1)) != DayState.COVERED
                   for w in windows.values()):
                return day
        return None
    covered = callbacks_coverage(envs, first, last)
    gaps = sorted(set(covered.missing_days) | set(covered.partial_days))
    return gaps[0] if gaps else None
