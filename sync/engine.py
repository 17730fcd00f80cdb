"""The sync engine: runs streams of one environment under its lock, recording a SyncRun each.

Providers plug in as adapters (`sync.providers`): the engine owns locking, run bookkeeping,
heartbeats, cursors, auth failures and environment scheduling fields; a stream only reads
pages and hands rows to `sync.upsert`.
"""
from __future__ import annotations

import copy
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import DatabaseError, connection, transaction
from django.db.models import F
from django.utils import timezone

from portal import audit
from portal.models import Environment, EnvironmentStatus
from sync.clients.errors import AuthError, UpstreamError
from sync.locks import EnvironmentLock, environment_lock
from sync.models import RunStatus, StreamState, SyncRun, Trigger
from sync.progress import NullProgress, Progress
from sync.upsert import Counts

logger = logging.getLogger("sync.engine")

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

    def __post_init__(self) -> None:
        self._requests_before = self.client.requests

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


@dataclass
class SyncOutcome:
    """What one `sync_environment` call did."""

    environment: Environment
    runs: list[SyncRun] = field(default_factory=list)
    skipped: bool = False
    reason: str = ""

    @property
    def failed(self) -> bool:
        return any(r.status == RunStatus.FAILED for r in self.runs)

    @property
    def auth_failed(self) -> bool:
        return self.environment.status == EnvironmentStatus.AUTH_FAILED


@contextmanager
def relaxed_commits() -> Iterator[None]:
    """While a sync runs, its PostgreSQL commits do not wait for the WAL flush.

    A crash can lose the last moments of pages, but rows and cursor are lost together, so the
    next run re-reads them. That is right for a mirror, and the flush was the largest cost of
    a page. Set once for the connection, not per transaction: a `SET LOCAL` per page cost a
    round trip per page.
    """
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO OFF")
    try:
        yield
    finally:
        try:
            with connection.cursor() as cursor:
                cursor.execute("RESET synchronous_commit")
        except DatabaseError:
            connection.close()  # a broken connection: the next use opens a fresh one


def fail_orphaned_runs(environment: Environment) -> int:
    """Runs left `running` by a worker that died. Called while holding the lock, so no live
    run of this environment can exist besides ours."""
    return SyncRun.objects.filter(environment=environment, status=RunStatus.RUNNING).update(
        status=RunStatus.FAILED, finished_at=timezone.now(),
        error="worker died: the run stopped without finishing (heartbeat stopped)")


def _finish(run: SyncRun, status: str, error: str = "") -> None:
    run.status, run.error, run.finished_at = status, error[:2000], timezone.now()
    run.save(update_fields=["status", "error", "finished_at", "details"])


def mark_auth_failed(environment: Environment, error: AuthError) -> None:
    """Stop the schedule, record why, tell the owners and admins (once per failure)."""
    from sync.notify import notify_token_rejected

    reason = f"The upstream rejected the token ({environment.token_hint}) on " \
             f"{timezone.now():%Y-%m-%d %H:%M} UTC: {error}"
    changed = Environment.objects.filter(pk=environment.pk).exclude(
        status=EnvironmentStatus.AUTH_FAILED).update(
        status=EnvironmentStatus.AUTH_FAILED, status_reason=reason)
    environment.refresh_from_db()
    if changed:
        audit.record("environment.auth_failed", organization=environment.organization,
                     target=environment, reason=str(error))
        notify_token_rejected(environment)


def sync_environment(environment: Environment, *, streams: list[str] | None = None,
                     trigger: str = Trigger.MANUAL, now: datetime | None = None,
                     backfill_days: int | None = None, full: bool = False,
                     progress: Progress | None = None) -> SyncOutcome:
    """Run the environment's streams (all, or `streams`) once; skip if another run holds it."""
    from sync.providers import provider_for

    outcome = SyncOutcome(environment)
    if not environment.has_token:
        outcome.skipped, outcome.reason = True, "no token set for this environment"
        return outcome
    with environment_lock(environment.pk) as lock:
        if lock is None:
            outcome.skipped, outcome.reason = True, "another sync of this environment is running"
            return outcome
        fail_orphaned_runs(environment)
        environment.refresh_from_db()
        provider = provider_for(environment)
        names = streams or provider.stream_names
        unknown = set(names) - set(provider.stream_names)
        if unknown:
            raise ValueError(f"unknown stream(s) {sorted(unknown)} for {environment.provider}; "
                             f"choose from {provider.stream_names}")
        client = provider.client(environment)
        try:
            with relaxed_commits():
                for name in names:
                    run = SyncRun.objects.create(environment=environment, stream=name,
                                                 trigger=trigger)
                    outcome.runs.append(run)
                    ctx = RunContext(environment, client, run, now or timezone.now(),
                                     backfill_days or environment.backfill_days, full,
                                     progress or NullProgress(), lock)
                    client.on_wait = ctx.heartbeat
                    if not _run_stream(provider, name, ctx):
                        break
        finally:
            client.close()
            (progress or NullProgress()).end()
        _schedule_next(environment, outcome)
    return outcome


def _run_stream(provider: Any, name: str, ctx: RunContext) -> bool:
    """Run one stream; False when the environment must stop (token rejected)."""
    try:
        provider.run_stream(name, ctx)
    except AuthError as exc:
        ctx.heartbeat()
        _finish(ctx.run, RunStatus.FAILED, str(exc))
        mark_auth_failed(ctx.environment, exc)
        return False
    except UpstreamError as exc:
        logger.warning("sync of environment %s stream %s failed: %s",
                       ctx.environment.pk, name, exc)
        ctx.heartbeat()
        _finish(ctx.run, RunStatus.FAILED, str(exc))
    except Exception as exc:  # noqa: BLE001 - a bug in one stream must not stop the others
        logger.exception("sync of environment %s stream %s crashed", ctx.environment.pk, name)
        ctx.heartbeat()
        _finish(ctx.run, RunStatus.FAILED, f"internal error: {type(exc).__name__}: {exc}")
    else:
        ctx.heartbeat()
        _finish(ctx.run, RunStatus.SUCCEEDED)
    return True


def _schedule_next(environment: Environment, outcome: SyncOutcome) -> None:
    now = timezone.now()
    fields: dict[str, Any] = {
        "next_sync_at": now + timedelta(minutes=environment.sync_interval_minutes)}
    if outcome.runs and not outcome.failed:
        fields["last_synced_at"] = now
        if environment.status == EnvironmentStatus.AUTH_FAILED:
            # A manual run with a replaced token succeeded: the schedule resumes.
            fields.update(status=EnvironmentStatus.ACTIVE, status_reason="")
    with transaction.atomic():
        Environment.objects.filter(pk=environment.pk).update(**fields)
    environment.refresh_from_db()
