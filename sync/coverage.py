"""Which local days the mirror has fully read, per environment and stream.

Coverage is known from what the sync read, never guessed from whether data exists: a day that
was read and had no calls is covered; a day never read is missing, and a report must not
count it as zero.

- Talkover calls are read a UTC day at a time, contiguously: the cursor's `oldest` day is the
  first read, `read_through` the instant up to which every later call is mirrored (older
  cursors: the end of `synced_through`, capped at the environment's last sync). A day the
  completeness ledger (`sync.write.ledger`) says disagrees with the upstream's count (kept in the
  cursor's `disagree`) is partial while it is re-read.
- Calls before the environment's `calls_dropped_before` were dropped by the organisation's
  retention (`sync.partitions.retention`): those days are missing, and named as dropped
  (`dropped_by_environment`), whatever was read.
- Origins AI calls re-read every configured agent's whole history on each run: everything
  that started before the cursor's `read_at` is mirrored.
- Talkover callback stats are fetched per UTC day (`CallbackDay`); a day fetched before it
  ended is partial until a later run fetches it again.

A local day (organisation timezone) is `covered` when the whole day lies inside what was
read, `partial` when reading stopped inside it (today, normally), `missing` otherwise. Days
inside the environment's lookback are `settling`: covered, but statuses may still change.

Cost: one query for the cursors (calls) or one for the fetched days (callbacks); the rest is
arithmetic over the days of the range.
"""
from __future__ import annotations

import dataclasses
import zoneinfo
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum

from django.utils import timezone

from portal.models import Environment
from sync.models import CallbackDay, StreamState
from sync.stream_names import Stream


class DayState(StrEnum):
    COVERED = "covered"
    PARTIAL = "partial"
    MISSING = "missing"


@dataclasses.dataclass(frozen=True)
class Window:
    """[start, end) instants one environment's stream has read; start None = all history."""

    start: datetime | None
    end: datetime | None  # None: nothing read yet
    # UTC days whose last check found calls the mirror lacks (the completeness ledger,
    # `sync.write.ledger`): being re-read, so a local day touching one is partial.
    disagree: tuple[date, ...] = ()
    # Calls that started before this were dropped by retention (`sync.partitions.retention`).
    dropped_before: datetime | None = None

    def dropped(self, first: datetime) -> bool:
        """Did retention drop (some of) the day starting at `first`?"""
        return self.dropped_before is not None and first < self.dropped_before

    def state(self, first: datetime, after: datetime) -> DayState:
        """The state of the span [first, after) (one local day)."""
        if self.dropped(first):
            return DayState.MISSING
        if self.end is None or self.end <= first:
            return DayState.MISSING
        if self.start is not None and self.start > first:
            return DayState.MISSING
        if self.disagree and any(_utc_midnight(d.isoformat()) < after
               and first < _utc_midnight(d.isoformat()) + timedelta(days=1)
               for d in self.disagree):
            return DayState.PARTIAL
        return DayState.COVERED if self.end >= after else DayState.PARTIAL


@dataclasses.dataclass(frozen=True)
class Coverage:
    """What the mirror holds of the local days start..end for one stream.

    `missing_by_environment` / `partial_by_environment`: days per environment id (only
    environments with such days). `missing_days` / `partial_days`: their union (a day missing
    anywhere is missing, not partial). `history_start`: the first day of the range from which
    every environment is read (None when some environment has read nothing of it).
    `open`: the last day is partial or inside the lookback, where statuses still change.
    `dropped_by_environment`: the missing days whose calls retention dropped (calls only).
    """

    stream: str
    start: date
    end: date
    missing_by_environment: dict[int, list[date]]
    partial_by_environment: dict[int, list[date]]
    missing_days: list[date]
    partial_days: list[date]
    history_start: date | None
    settling_from: date | None
    open: bool
    dropped_by_environment: dict[int, list[date]] = dataclasses.field(default_factory=dict)

    @property
    def complete(self) -> bool:
        """Every day fully read (no missing, no partial day)."""
        return not self.missing_days and not self.partial_days

    def state(self, day: date) -> DayState:
        if day in self.missing_days:
            return DayState.MISSING
        if day in self.partial_days:
            return DayState.PARTIAL
        return DayState.COVERED

    def clip(self, start: date, end: date) -> Coverage:
        """The same coverage restricted to start..end (inside the original range)."""
        def inside(days: list[date]) -> list[date]:
            return [d for d in days if start <= d <= end]

        missing = {k: inside(v) for k, v in self.missing_by_environment.items()}
        partial = {k: inside(v) for k, v in self.partial_by_environment.items()}
        dropped = {k: inside(v) for k, v in self.dropped_by_environment.items()}
        return Coverage(
            self.stream, start, end, {k: v for k, v in missing.items() if v},
            {k: v for k, v in partial.items() if v}, inside(self.missing_days),
            inside(self.partial_days), _history_start(start, end, inside(self.missing_days)),
            self.settling_from,
            end in self.partial_days or (self.settling_from is not None
                                         and end >= self.settling_from),
            {k: v for k, v in dropped.items() if v})


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def _history_start(start: date, end: date, missing: Sequence[date]) -> date | None:
    """The first day after the last missing day, if it is in the range (missing days at the
    end mean nothing was read past them either, so the history start is past the range)."""
    if not missing:
        return start
    after = max(missing) + timedelta(days=1)
    return after if after <= end else None


def _settling_from(envs: Sequence[Environment], today: date) -> date:
    """The first local day still inside some environment's lookback."""
    return today - timedelta(days=max(e.lookback_days for e in envs))


def _summarise(stream: str, start: date, end: date,
               states: dict[int, dict[date, DayState]], settling: date) -> Coverage:
    missing = {env: [d for d, s in days.items() if s is DayState.MISSING]
               for env, days in states.items()}
    partial = {env: [d for d, s in days.items() if s is DayState.PARTIAL]
               for env, days in states.items()}
    missing_days = sorted({d for days in missing.values() for d in days})
    partial_days = sorted({d for days in partial.values() for d in days} - set(missing_days))
    return Coverage(
        stream=stream, start=start, end=end,
        missing_by_environment={k: v for k, v in missing.items() if v},
        partial_by_environment={k: v for k, v in partial.items() if v},
        missing_days=missing_days, partial_days=partial_days,
        history_start=_history_start(start, end, missing_days),
        settling_from=settling,
        open=end in partial_days or end >= settling,
    )


# --- calls -----------------------------------------------------------------------------------

def _utc_midnight(day: str) -> datetime:
    return datetime.combine(date.fromisoformat(day), time.min, tzinfo=UTC)


def call_window(env: Environment, cursor: dict | None) -> Window:
    """What the calls stream of `env` has read, from its cursor (None: no cursor yet)."""
    cursor = cursor or {}
    dropped = env.calls_dropped_before
    if env.spec.whole_history:
        read_at = cursor.get("read_at")
        return Window(None, datetime.fromisoformat(read_at) if read_at else None,
                      dropped_before=dropped)
    oldest = cursor.get("oldest")
    if not oldest:
        return Window(None, None, dropped_before=dropped)
    if cursor.get("read_through"):
        end: datetime | None = datetime.fromisoformat(cursor["read_through"])
    elif cursor.get("synced_through"):
        # Cursors written before `read_through` existed.
        end = _utc_midnight(cursor["synced_through"]) + timedelta(days=1)
        if env.last_synced_at is not None:
            end = min(end, env.last_synced_at)
    else:
        end = None
    disagree = tuple(date.fromisoformat(d) for d in cursor.get("disagree", ()))
    return Window(_utc_midnight(oldest), end, disagree, dropped)


def history_loading(env: Environment, cursor: dict | None, now: datetime
                    ) -> tuple[int, int] | None:
    """(days mirrored, days of the back-fill) while `env`'s calls back-fill is under way
    (what every page's freshness line says, never a silent zero); None once the window
    reaches the back-fill's first day, and for a provider that reads whole histories.

    A back-fill reads newest first, so the window is the newest days: its length (a day begun
    counts) is how many are in."""
    if env.spec.whole_history:
        return None
    total = max(1, env.backfill_days)
    window = call_window(env, cursor)
    horizon = _utc_midnight(now.astimezone(UTC).date().isoformat()) - timedelta(days=total - 1)
    if window.start is not None and window.end is not None and window.start <= horizon:
        return None
    if window.start is None or window.end is None:
        return 0, total
    read = max(timedelta(0), min(window.end, now) - window.start)
    return min(total - 1, -(-read // timedelta(days=1))), total


def newest_mirrored(env: Environment) -> bool:
    """Whether a first back-fill of `env` has mirrored its newest calls (one query): its
    calls window has an end. A back-fill reads newest first (today, then each older day), so
    from its first day read on its window ends where today's read did. The cursor's
    evidence, never our clock: the webhook receiver takes deliveries from then on
    (`sync.webhooks.serving`)."""
    cursor = StreamState.objects.filter(environment=env, stream=Stream.CALLS).values_list(
        "cursor", flat=True).first()
    return call_window(env, cursor).end is not None


def call_windows(envs: Sequence[Environment]) -> dict[int, Window]:
    """Each environment's calls window (one query)."""
    cursors = dict(StreamState.objects.filter(
        environment__in=[e.pk for e in envs], stream=Stream.CALLS,
    ).values_list("environment_id", "cursor"))
    return {e.pk: call_window(e, cursors.get(e.pk)) for e in envs}


def calls_coverage(environments: Iterable[Environment], start: date, end: date, *,
                   now: datetime | None = None,
                   windows: dict[int, Window] | None = None) -> Coverage:
    """Coverage of the calls stream over the organisation-local days start..end.

    `environments` are of one organisation (their days are cut in its timezone).
    """
    envs = list(environments)
    if not envs:
        raise ValueError("coverage needs at least one environment")
    tz: zoneinfo.ZoneInfo = envs[0].organization.tzinfo
    windows = windows if windows is not None else call_windows(envs)
    # Each local day's bounds as UTC instants (the same instants): the windows' instants are
    # UTC, and comparing two datetimes of one tzinfo skips both zones' offset look-ups.
    midnights = [datetime.combine(d, time.min, tzinfo=tz).astimezone(UTC)
                 for d in _days(start, end + timedelta(days=1))]
    bounds = list(zip(_days(start, end), midnights[:-1], midnights[1:], strict=True))
    states: dict[int, dict[date, DayState]] = {}
    dropped: dict[int, list[date]] = {}
    for env in envs:
        window = windows[env.pk]
        states[env.pk] = {d: window.state(first, after) for d, first, after in bounds}
        if window.dropped_before is not None:
            dropped[env.pk] = [d for d, first, _after in bounds if window.dropped(first)]
    today = timezone.localtime(now or timezone.now(), tz).date()
    coverage = _summarise(Stream.CALLS, start, end, states, _settling_from(envs, today))
    return dataclasses.replace(coverage,
                               dropped_by_environment={k: v for k, v in dropped.items() if v})


# --- callback days ---------------------------------------------------------------------------

def callbacks_coverage(environments: Iterable[Environment], start: date, end: date, *,
                       now: datetime | None = None,
                       rows: Iterable[tuple[int, date, datetime]] | None = None) -> Coverage:
    """Coverage of the callback stats over the upstream (UTC) days start..end (one query, or
    none when the caller already read the days' `(environment_id, day, fetched_at)` rows).

    A day is covered once fetched after it ended, partial when fetched while it was running.
    """
    envs = list(environments)
    if not envs:
        raise ValueError("coverage needs at least one environment")
    fetched: dict[int, dict[date, DayState]] = {e.pk: {} for e in envs}
    if rows is None:
        rows = CallbackDay.objects.filter(
            environment__in=list(fetched), day__gte=start, day__lte=end,
        ).values_list("environment_id", "day", "fetched_at")
    for env_id, day, fetched_at in rows:
        if env_id not in fetched or not start <= day <= end:
            continue
        ended = datetime.combine(day + timedelta(days=1), time.min, tzinfo=UTC)
        fetched[env_id][day] = DayState.COVERED if fetched_at >= ended else DayState.PARTIAL
    states = {env: {d: got.get(d, DayState.MISSING) for d in _days(start, end)}
              for env, got in fetched.items()}
    today = (now or timezone.now()).astimezone(UTC).date()
    return _summarise(Stream.CALLBACK_DAYS, start, end, states, _settling_from(envs, today))
