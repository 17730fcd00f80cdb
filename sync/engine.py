"""The sync engine: runs streams of one environment under its lock, recording a SyncRun each.

Providers plug in through the registry (`sync.providers.registry`): the engine owns locking,
run bookkeeping, heartbeats, cursors, auth failures and environment scheduling fields; a
stream only reads pages and hands rows to `sync.write.upsert`.
"""
from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from portal import audit
from portal.error_text import safe_error_text
from portal.models import Environment, EnvironmentStatus
from sync import collector, dead_runs, under_way
from sync.budget import BudgetExhausted, RequestBudget
from sync.cache_errors import CACHE_ERRORS, UNAVAILABLE, is_cache_error
from sync.locks import environment_lock
from sync.models import SyncRun
from sync.models.core import RunStatus, Trigger
from sync.progress import NullProgress, Progress
from sync.providers.deadline import RunDeadline, stream_run_seconds
from sync.providers.errors import AnswerTooSlow, AuthError, UpstreamError
from sync.providers.registry import provider_for
from sync.pulse import Pulse, stale_seconds
from sync.run_context import RunContext, no_debug_cursors
from sync.signals import environment_synced
from sync.webhooks import serving
from sync.webhooks.hints import Hint
from sync.webhooks.hints import push as push_hint
from sync.webhooks.pacing import webhook_share
from sync.webhooks.serving import HintServer

logger = logging.getLogger("sync.engine")
SLOW_STOP = "the upstream's answer was too slow: the environment's other streams wait for " \
            "the next run"

@dataclass
class SyncOutcome:
    """What one `sync_environment` call did."""

    environment: Environment
    runs: list[SyncRun] = field(default_factory=list)
    skipped: bool = False
    reason: str = ""
    # The cache / broker (Redis) could not be reached: no run could start.
    unavailable: bool = False
    # Skipped because another run holds the environment: until when it does, at the latest.
    held_until: datetime | None = None
    # The token's request budget was spent for longer than the caller would wait: seconds
    # until it has room, and the streams still to run then (`sync.tasks` re-queues them).
    deferred: float | None = None
    deferred_streams: list[str] = field(default_factory=list)

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


def _finish(run: SyncRun, status: str, error: str = "") -> None:
    with under_way.ending(run.pk) as writing:
        if writing:  # else an interrupt marked it stopped first, and said so: it stays so
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
                     progress: Progress | None = None,
                     budget_wait: float | None = None,
                     hints: list[Hint] | None = None) -> SyncOutcome:
    """Run the environment's streams (all, or `streams`) once; skip if another run holds it.

    `budget_wait` (Celery tasks): never wait longer than this on the token's request budget;
    the outcome says instead when it has room and which streams are left (`deferred`).
    `hints` (webhook rounds): the calls deliveries named; a stream the provider reads
    differently on a webhook round (its adapter's `hinted_streams`) then reads those, within
    the webhooks' share of the budget.
    """
    outcome = SyncOutcome(environment)
    if not environment.has_token:
        outcome.skipped, outcome.reason = True, "no token set for this environment"
        return outcome
    try:
        with collector.spaced():
            return _sync_locked(environment, outcome, streams, trigger, now, backfill_days,
                                full, progress, budget_wait, hints)
    except CACHE_ERRORS as exc:  # taking the lock: no run started
        logger.warning("sync of environment %s not started: %s (%s)", environment.pk,
                       UNAVAILABLE, type(exc).__name__)
        outcome.skipped, outcome.reason = True, UNAVAILABLE
        outcome.unavailable = True
        return outcome


def _sync_locked(environment: Environment, outcome: SyncOutcome, streams: list[str] | None,
                 trigger: str, now: datetime | None, backfill_days: int | None, full: bool,
                 progress: Progress | None, budget_wait: float | None,
                 hints: list[Hint] | None = None) -> SyncOutcome:
    """`sync_environment` once the token is known to exist: under the environment's lock."""
    with environment_lock(environment.pk,
                          lambda held: dead_runs.take_over(environment, held)) as lock:
        if lock is None:
            return _skipped_busy(environment, outcome)
        dead_runs.fail_orphaned_runs(environment)
        environment.refresh_from_db()
        _set_backfill_horizon(environment, backfill_days)
        provider = provider_for(environment)
        names = _stream_names(environment, provider, streams)
        client = provider.client(environment, budget_wait)
        hook_budget = _share_budget(environment, provider, client, trigger)
        room = client.budget.room_in() if budget_wait is not None and client.budget else 0.0
        if room > (budget_wait or 0.0):
            # Spent before anything started (another environment of the token, or a
            # continuation that came early): no run, the caller re-queues.
            client.close()
            outcome.skipped, outcome.reason = True, "request budget spent"
            outcome.deferred, outcome.deferred_streams = room, list(names)
            if trigger != Trigger.WEBHOOK:
                # The continuation is this environment's sync: the schedule waits for it, as
                # it does for a run (a back-fill on a tight budget may take many of them).
                _schedule_next(environment, outcome)
            return outcome
        try:
            with relaxed_commits(), no_debug_cursors(), \
                    Pulse(environment.pk, holds_schedule=trigger != Trigger.WEBHOOK) as pulse:
                for i, name in enumerate(names):
                    run, stopped = under_way.begin(partial(
                        SyncRun.objects.create, environment=environment, stream=name,
                        trigger=trigger), lock)
                    outcome.runs.append(run)
                    if stopped:  # written ended by the interrupt's reason
                        break
                    ctx = _run_context(environment, client, run, now, full, progress, lock)
                    ctx.hint_server = _hint_server(provider, name, ctx, hook_budget)
                    pulse.ctx = ctx
                    if not _run_stream(provider, name, ctx, hints):
                        if run.status == RunStatus.DEFERRED:
                            outcome.deferred = run.details["deferred_seconds"]
                            outcome.deferred_streams = names[i:]
                        break
        finally:
            client.close()
            (progress or NullProgress()).end()
        if trigger != Trigger.WEBHOOK:
            _schedule_next(environment, outcome)
        else:
            # A webhook run reads the recent calls only: the schedule (lookback, other streams)
            # keeps its own time, or events arriving often would postpone it for ever. Its
            # success is a sync all the same ("last synced", the freshness chip).
            _mark_synced(environment, outcome)
    if outcome.runs:
        environment_synced.send(sender=sync_environment, environment=environment,
                                outcome=outcome)
    return outcome


def _run_context(environment: Environment, client: Any, run: SyncRun, now: datetime | None,
                 full: bool, progress: Progress | None, lock: Any) -> RunContext:
    """What one stream's run reads by: its client waits beat its heart, and the stream's
    total deadline starts now (`RunDeadline`)."""
    ctx = RunContext(environment, client, run, now or timezone.now(),
                     environment.backfill_days, full, progress or NullProgress(), lock)
    client.on_wait = ctx.heartbeat
    ctx.deadline = client.deadline = RunDeadline(stream_run_seconds(environment.provider))
    return ctx


def _share_budget(environment: Environment, provider: Any, client: Any, trigger: str
                  ) -> RequestBudget | None:
    """Webhook rounds spend their share of the token's budget; the rest stays the
    schedule's. A first back-fill serves deliveries itself on that share (returned), and
    leaves it free while they come (`sync.webhooks.serving`)."""
    if client.budget is None:
        return None
    if trigger == Trigger.WEBHOOK:
        client.budget = client.budget.share(webhook_share(), "hook")
        return None
    client.budget, hook_budget = serving.split(environment, client.budget,
                                               bool(provider.hinted_streams))
    return hook_budget


def _hint_server(provider: Any, name: str, ctx: RunContext,
                 budget: RequestBudget | None) -> HintServer | None:
    """What serves deliveries' hints from inside a first back-fill's run of stream `name`
    (None: not such a run, or a stream read the same on webhook rounds)."""
    read = provider.hinted_streams.get(name)
    return HintServer(ctx, read, budget) if budget is not None and read is not None else None


def _skipped_busy(environment: Environment, outcome: SyncOutcome) -> SyncOutcome:
    """Another run holds the environment: skip, saying until when, and leave the environment
    due by then (a skip never pushes the schedule out: sync/dead_runs.py)."""
    until = dead_runs.held_until(environment)
    dead_runs.keep_schedule(environment, until)
    outcome.skipped, outcome.reason = True, dead_runs.busy_reason(environment, until)
    outcome.held_until = until
    return outcome


def _set_backfill_horizon(environment: Environment, backfill_days: int | None) -> None:
    """One back-fill horizon per environment: a sync told to reach back N days makes N the
    setting, so the next run does not reach back to the old one."""
    if backfill_days and backfill_days != environment.backfill_days:
        Environment.objects.filter(pk=environment.pk).update(backfill_days=backfill_days)
        environment.backfill_days = backfill_days


def _stream_names(environment: Environment, provider: Any, streams: list[str] | None
                  ) -> list[str]:
    """The streams to run, in order (all the provider's by default); unknown ones refused."""
    names = streams or provider.stream_names
    unknown = set(names) - set(provider.stream_names)
    if unknown:
        raise ValueError(f"unknown stream(s) {sorted(unknown)} for {environment.provider}; "
                         f"choose from {provider.stream_names}")
    return names


def _run_stream(provider: Any, name: str, ctx: RunContext,
                hints: list[Hint] | None = None) -> bool:
    """Run one stream; False when the environment must stop (token rejected, an answer too
    slow, Redis gone, the budget spent, the command interrupted)."""
    stopped = under_way.started(ctx)
    if stopped:  # the interrupt's receiver saves this, and says it marked the run stopped
        ctx.run.status, ctx.run.error = RunStatus.FAILED, stopped
        return False
    try:
        hinted = provider.hinted_streams.get(name) if hints is not None else None
        if hinted is not None:
            env_id = ctx.environment.pk
            hinted(ctx, hints, lambda hint: push_hint(env_id, hint))
        else:
            provider.run_stream(name, ctx)
    except AuthError as exc:
        _last_beat(ctx)
        _finish(ctx.run, RunStatus.FAILED, str(exc))
        mark_auth_failed(ctx.environment, exc)
        return False
    except BudgetExhausted as exc:
        # What was written is kept with its cursor; the rest continues on a free worker,
        # once the window has room for a continuation (`RequestBudget.continue_in`). A
        # webhook round is small and puts its hints back: it goes at the first free request.
        wait = exc.wait if ctx.run.trigger == Trigger.WEBHOOK else \
            _continue_in(ctx.client.budget, exc.wait)
        until = timezone.now() + timedelta(seconds=wait)
        ctx.run.details.update(deferred_seconds=round(wait, 3),
                               deferred_until=until.isoformat())
        _last_beat(ctx)
        _finish(ctx.run, RunStatus.DEFERRED)
        return False
    except UpstreamError as exc:
        logger.warning("sync of environment %s stream %s failed: %s",
                       ctx.environment.pk, name, exc)
        if isinstance(exc, AnswerTooSlow):
            # An answer that never ends held this stream one whole deadline; the next
            # stream's first request would wait as long again (three streams: three
            # deadlines). The environment stops here; the next run tries again.
            ctx.run.details["stopped"] = SLOW_STOP
        _last_beat(ctx)
        _finish(ctx.run, RunStatus.FAILED, _deadline_line(ctx) or str(exc))
        return not isinstance(exc, AnswerTooSlow)
    except Exception as exc:  # noqa: BLE001 - a bug in one stream must not stop the others
        if is_cache_error(exc):
            # Not a bug: Redis went away. The lock went with it, so the environment stops
            # here; pages written so far are kept with their cursors.
            logger.warning("sync of environment %s stream %s failed: %s (%s)",
                           ctx.environment.pk, name, UNAVAILABLE, type(exc).__name__)
            _last_beat(ctx)
            _finish(ctx.run, RunStatus.FAILED, f"{UNAVAILABLE} ({type(exc).__name__})")
            return False
        logger.exception("sync of environment %s stream %s crashed", ctx.environment.pk, name)
        _last_beat(ctx)
        # A database error quotes values (call data): its kind and position only.
        _finish(ctx.run, RunStatus.FAILED, f"internal error: {safe_error_text(exc)}")
    else:
        _last_beat(ctx)
        _finish(ctx.run, RunStatus.SUCCEEDED)
    return True


def _deadline_line(ctx: RunContext) -> str:
    """The run's one line when its stream outlasted its total deadline ("" otherwise): the
    stream, the deadline, what it read and kept; the next run goes on from its cursor."""
    if ctx.deadline is None or not ctx.deadline.passed:
        return ""
    counts = ctx.counts
    kept = counts.created + counts.updated + counts.unchanged
    return (f"{ctx.stream}: stopped at the stream's deadline of {ctx.deadline.seconds:g} s "
            f"(SYNC_STREAM_DEADLINE_SECONDS) after {ctx.client.requests - ctx.requests_before} "
            f"request(s), {ctx.run.pages} page(s) and {kept} record(s) read; what was written "
            f"is kept and the next run continues from there")


def _continue_in(budget: RequestBudget | None, refused: float) -> float:
    """When a run the budget refused (for `refused` seconds) may continue: once the window
    has room for a continuation (`refused` without a budget or a cache)."""
    if budget is None:
        return refused
    try:
        return budget.continue_in(refused)
    except CACHE_ERRORS:  # the cache gone: the first free ticket will do
        return refused


def _last_beat(ctx: RunContext) -> None:
    """Save the run's counters; a cache gone away only loses the lock refresh (which comes
    after the counters are saved)."""
    try:
        ctx.heartbeat()
    except CACHE_ERRORS as exc:
        logger.warning("sync of environment %s: lock not refreshed, %s (%s)",
                       ctx.environment.pk, UNAVAILABLE, type(exc).__name__)


def _mark_synced(environment: Environment, outcome: SyncOutcome) -> None:
    """A webhook run that succeeded: "last synced" moves, the schedule does not. Not during
    a first back-fill (never synced): its end is the first sync, and until then the
    dispatcher keeps it on the back-fill queue."""
    if environment.last_synced_at is not None and outcome.runs and not outcome.failed \
            and outcome.deferred is None:
        now = timezone.now()
        Environment.objects.filter(pk=environment.pk).update(last_synced_at=now)
        environment.last_synced_at = now


def _schedule_next(environment: Environment, outcome: SyncOutcome) -> None:
    now = timezone.now()
    fields: dict[str, Any] = {
        "next_sync_at": now + timedelta(minutes=environment.sync_interval_minutes)}
    if outcome.deferred is not None:
        # Its continuation waits for the budget (`sync.tasks.continue_later`); should it be
        # lost with a killed worker, the environment falls due once that wait and one stale
        # interval have passed (a dead-man switch, as the pulse's) and the next dispatch
        # queues the work again; a live continuation starts, and takes the lock, before then.
        fields["next_sync_at"] = min(
            fields["next_sync_at"],
            now + timedelta(seconds=outcome.deferred + stale_seconds()))
    if outcome.runs and not outcome.failed and outcome.deferred is None:
        fields["last_synced_at"] = now
        if environment.status == EnvironmentStatus.AUTH_FAILED:
            # A manual run with a replaced token succeeded: the schedule resumes.
            fields.update(status=EnvironmentStatus.ACTIVE, status_reason="")
    with transaction.atomic():
        Environment.objects.filter(pk=environment.pk).update(**fields)
    environment.refresh_from_db()
