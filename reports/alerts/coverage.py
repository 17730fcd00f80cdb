"""Is a window mirrored yet? A minimal, local answer for the alerts.

The shared coverage module (`sync/coverage.py`, being built separately) will know per local
day and stream what has been fully read. Until the alerts call it, this module answers the
one question they need from what the sync already records, never from whether data exists:

- calls (Talkover): the calls cursor's `oldest` day (UTC) is where the mirror begins and its
  `synced_through` day was read up to the run that read it, so the mirror is whole until
  min(end of `synced_through`, start of the last successful calls run);
- calls (Origins): the cursor's `read_at` (the clock of the last complete read);
- callbacks: a UTC day counts when its `CallbackDay` row was fetched after the day ended.

Replace `calls_mirrored` / `callbacks_missing_day` with calls into the shared module when it
lands; their signatures are what the evaluator needs.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta

from django.db.models import Max

from sync.models import CallbackDay, RunStatus, StreamState, SyncRun


@dataclasses.dataclass(frozen=True)
class Mirrored:
    """The span of time whose calls are fully mirrored for every environment given."""

    start: datetime | None  # None: from the beginning
    end: datetime | None  # None: nothing mirrored yet

    def covers(self, start: datetime, end: datetime) -> bool:
        return self.end is not None and end <= self.end and (
            self.start is None or start >= self.start)


def _utc_midnight(day: str) -> datetime:
    return datetime.combine(date.fromisoformat(day), time.min, tzinfo=UTC)


def calls_mirrored(environment_ids: Sequence[int]) -> Mirrored:
    """The intersection of each environment's mirrored span of calls."""
    cursors = dict(StreamState.objects.filter(environment_id__in=environment_ids,
                                              stream="calls")
                   .values_list("environment_id", "cursor"))
    last_ok = dict(SyncRun.objects.filter(environment_id__in=environment_ids, stream="calls",
                                          status=RunStatus.SUCCEEDED)
                   .values("environment_id").annotate(at=Max("started_at"))
                   .values_list("environment_id", "at"))
    start: datetime | None = None
    end: datetime | None = None
    for env_id in environment_ids:
        cursor = cursors.get(env_id) or {}
        if cursor.get("synced_through"):
            if env_id not in last_ok:
                return Mirrored(None, None)
            env_end = min(_utc_midnight(cursor["synced_through"]) + timedelta(days=1),
                          last_ok[env_id])
            env_start = _utc_midnight(cursor["oldest"]) if cursor.get("oldest") else None
        elif cursor.get("read_at"):
            env_end, env_start = datetime.fromisoformat(cursor["read_at"]), None
        else:
            return Mirrored(None, None)
        end = env_end if end is None else min(end, env_end)
        if env_start is not None:
            start = env_start if start is None else max(start, env_start)
    return Mirrored(start, end)


def callbacks_missing_day(environment_ids: Sequence[int], first: date, last: date
                          ) -> date | None:
    """The first day in [first, last] some environment has not mirrored whole, else None."""
    whole: dict[date, int] = {}
    rows = CallbackDay.objects.filter(environment_id__in=environment_ids, day__gte=first,
                                      day__lte=last).values_list("day", "fetched_at")
    for day, fetched_at in rows:
        if fetched_at >= datetime.combine(day + timedelta(days=1), time.min, tzinfo=UTC):
            whole[day] = whole.get(day, 0) + 1
    day = first
    while day <= last:
        if whole.get(day, 0) < len(environment_ids):
            return day
        day += timedelta(days=1)
    return None
