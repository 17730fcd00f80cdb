"""The run context: what a stream needs while it runs, and the run's bookkeeping.

A module of its own so that providers' streams (which receive it) and the engine (which
builds it) both import it without importing each other.
"""
from __future__ import annotations

import copy
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connections, transaction
from django.db.models import F
from django.utils import timezone

from portal.models import Environment
from sync.locks import EnvironmentLock
from sync.models import StreamState, SyncRun
from sync.partitions.upsert import RunKeys
from sync.progress import Progress
from sync.write.upsert import Counts

# Progress is saved (and the lock extended) this often: a page is far quicker than the lock
# TTL, and one UPDATE per page would cost as much as writing the page.
HEARTBEAT_SECONDS = 2.0


_BEAT_FIELDS = ("requests", "pages", "created", "updated", "unchanged", "rejected",
                "heartbeat_at")


@dataclass
class RunContext:
    """What a stream needs while it runs: the environment, its client, its run row."""

    environment: Environment
    client: Any
    run: SyncRun
    now: datetime
    backfill_days: int
    full: bool
    progress: Progress
    lock: EnvironmentLock | None
    counts: Counts = field(default_factory=Counts)
    _requests_before: int = 0
    _last_beat: float = 0.0
    # The prefetching thread beats the heart while it waits on the budget or a Retry-After,
    # as the stream adds notes and counts: both threads share the run's counters and details.
    # Never held during a query, so a thread holding it never waits on a row lock.
    _guard: threading.Lock = field(default_factory=threading.Lock, repr=False)
    # Fingerprints of records quarantined by this run, and (field, value, record id) of
    # values outside the documented sets: each is counted once per run, however often read.
    _rejected: set[str] = field(default_factory=set, repr=False)
    _unknown: set[tuple[str, str, str]] = field(default_factory=set, repr=False)
    # The call ids this run merged (a first back-fill probes only those for moved calls).
    call_keys: RunKeys = field(default_factory=RunKeys, repr=False)
    _began: float = field(default_factory=time.monotonic, repr=False)
    # A first back-fill's server of the deliveries' hints (`sync.webhooks.serving`), which
    # the stream calls between its pages; None for any other run.
    hint_server: Any = None
    # The stream's total deadline (`sync.providers.deadline.RunDeadline`), set by the engine.
    deadline: Any = None

    def __post_init__(self) -> None:
        self._requests_before = self.client.requests

    @property
    def requests_before(self) -> int:
        """The client's request count when this run began (it serves every stream)."""
        return self._requests_before

    def clock(self) -> datetime:
        """The run's clock: `now` (its start, injected by tests and commands) plus the time
        it has run, so what it records later (when a count was taken) follows the same clock
        as what it records at its start."""
        return self.now + timedelta(seconds=time.monotonic() - self._began)

    @property
    def stream(self) -> str:
        return self.run.stream

    def cursor(self) -> dict[str, Any]:
        state = StreamState.objects.filter(environment=self.environment,
                                           stream=self.stream).first()
        return dict(state.cursor) if state else {}

    def save_cursor(self, cursor: dict[str, Any]) -> None:
        """Call inside the transaction that wrote the rows the cursor covers."""
        found = StreamState.objects.filter(environment=self.environment,
                                           stream=self.stream).update(cursor=cursor)
        if not found:
            StreamState.objects.create(environment=self.environment, stream=self.stream,
                                       cursor=cursor)

    @contextmanager
    def page_transaction(self) -> Iterator[None]:
        """One page's rows and cursor, atomically (commits are relaxed: `relaxed_commits`)."""
        with transaction.atomic():
            yield

    def note(self, key: str, value: Any, limit: int = 20) -> None:
        """Append to a list in the run's details (bounded, so a bad day cannot bloat it)."""
        with self._guard:
            items = self.run.details.setdefault(key, [])
            if len(items) < limit:
                items.append(value)

    def add(self, key: str, n: int) -> None:
        """Add `n` to a number in the run's details (requests a part of the run made)."""
        with self._guard:
            self.run.details[key] = self.run.details.get(key, 0) + n

    def count_rejected(self, fingerprint: str) -> bool:
        """Count a quarantined record once per run; True when it is new to this run."""
        with self._guard:
            if fingerprint in self._rejected:
                return False
            self._rejected.add(fingerprint)
            self.counts.rejected += 1
            return True

    def count_unknown(self, field_name: str, value: str, record_id: str) -> None:
        """Tally a value outside the documented set, once per record and run, in the run's
        details as {field: {value: records}} (shown as "3 calls with unknown status …")."""
        with self._guard:
            if (field_name, value, record_id) in self._unknown:
                return
            self._unknown.add((field_name, value, record_id))
            tally = self.run.details.setdefault("unknown_counts", {}).setdefault(field_name, {})
            if value in tally or len(tally) < 20:
                tally[value] = tally.get(value, 0) + 1

    def record(self, counts: Counts, pages: int = 1) -> None:
        """Count a written page; beat the heart every HEARTBEAT_SECONDS at most."""
        with self._guard:
            self.counts += counts
            self.run.pages += pages
            due = time.monotonic() - self._last_beat >= HEARTBEAT_SECONDS
        if due:
            self.heartbeat()

    def bump_data_version(self) -> None:
        Environment.objects.filter(pk=self.environment.pk).update(
            data_version=F("data_version") + 1)

    def heartbeat(self, _wait: float | None = None) -> None:
        """Save the run's counters and time, and extend the environment lock."""
        with self._guard:
            self._last_beat = time.monotonic()
            run = self.run
            run.requests = self.client.requests - self._requests_before
            run.created, run.updated = self.counts.created, self.counts.updated
            run.unchanged, run.rejected = self.counts.unchanged, self.counts.rejected
            run.heartbeat_at = timezone.now()
            values = {name: getattr(run, name) for name in _BEAT_FIELDS}
            values["details"] = copy.deepcopy(run.details)
        SyncRun.objects.filter(pk=run.pk).update(**values)
        if self.lock is not None:
            self.lock.refresh()



@contextmanager
def no_debug_cursors() -> Iterator[None]:
    """This thread's database connections without Django's debug cursors, for a sync.

    With DEBUG (the embedded default, `make demo`) every statement goes through a debug
    cursor that writes its parameters into the SQL text and keeps the last 9,000 in a log. A
    sync's statements can carry whole pages of records: the first Origins sync of 100,000
    wide records peaked at 368 MiB RSS with it (measured when the demo ran on SQLite), 131 MiB
    without DEBUG. A sync reads none of it. Not while something captures
    queries (a test's `assertNumQueries` sets `force_debug_cursor`); restored afterwards.
    """
    changed = []
    if settings.DEBUG:
        for conn in connections.all():
            if not conn.force_debug_cursor and "make_debug_cursor" not in vars(conn):
                conn.make_debug_cursor = conn.make_cursor
                changed.append(conn)
    try:
        yield
    finally:
        for conn in changed:
            del conn.make_debug_cursor
