"""A run whose worker died is seen as dead, and its lock does not hold the next run back.

A live run beats its heart (`SyncRun.heartbeat_at`, sync/run_context.py) every couple of
seconds while pages land and while it waits on the upstream, and each beat extends the
environment lock (sync/locks.py). A worker killed with SIGKILL beats no more, but its lock
would still hold every later run back until it expires (`SYNC_LOCK_TTL`, 5 minutes), and
its run would stay "running" forever. So:

- a run whose heartbeat is older than `SYNC_STALE_HEARTBEAT_SECONDS` (default 120 s: longer
  than any single upstream request may take, connect + read deadline, so a live run always
  beats within it) is dead: the next sync marks it failed ("worker stopped: no heartbeat
  since …") and takes the dead run's lock over instead of skipping;
- a sync that finds the lock held by a live run is skipped with a reason that says so and
  when it will run;
- whoever takes a lock (expired or taken over) first fails what its environment left
  running, and the beat (`sync.dispatch`) fails stale runs everywhere.

Take-overs are serialised by a row lock on the environment (`select_for_update`), so of two
syncs that find the same dead run, one takes over and the other sees a live run and skips.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from portal.models import Environment
from sync.locks import EnvironmentLock, lock_ttl
from sync.models import SyncRun
from sync.models.core import RunStatus


def stale_after() -> timedelta:
    """How long without a heartbeat makes a running run dead."""
    return timedelta(seconds=float(getattr(settings, "SYNC_STALE_HEARTBEAT_SECONDS", 120)))


def dead_message(heartbeat_at: datetime) -> str:
    return f"worker stopped: no heartbeat since {heartbeat_at:%Y-%m-%d %H:%M:%S} UTC"


def fail_runs(runs: QuerySet[SyncRun]) -> int:
    """Mark each of `runs` still running as failed, naming its last heartbeat."""
    failed = 0
    for pk, beat in runs.filter(status=RunStatus.RUNNING).values_list("pk", "heartbeat_at"):
        failed += SyncRun.objects.filter(pk=pk, status=RunStatus.RUNNING).update(
            status=RunStatus.FAILED, finished_at=timezone.now(), error=dead_message(beat))
    return failed


def fail_orphaned_runs(environment: Environment) -> int:
    """Runs `environment` left running. Called while holding its lock, so no live run of it
    can exist besides the caller's."""
    return fail_runs(SyncRun.objects.filter(environment=environment))


def fail_stale_runs() -> int:
    """Running runs of every environment whose heartbeat is stale (from the beat)."""
    return fail_runs(SyncRun.objects.filter(heartbeat_at__lt=timezone.now() - stale_after()))


def take_over(environment: Environment, lock: EnvironmentLock) -> bool:
    """Take `lock` over when the run holding it is dead; False (nothing done) when it is live
    or when no run says who holds it (the lock then expires within its TTL)."""
    with transaction.atomic():
        Environment.objects.select_for_update().filter(pk=environment.pk).first()
        running = SyncRun.objects.filter(environment=environment, status=RunStatus.RUNNING)
        latest = running.order_by("-heartbeat_at").values_list("heartbeat_at", flat=True).first()
        if latest is None or latest >= timezone.now() - stale_after():
            return False
        fail_runs(running)
        lock.take_over()
    return True


def busy_reason(environment: Environment) -> str:
    """Why a sync was skipped because another one holds the lock, and when it will run."""
    beat = (SyncRun.objects.filter(environment=environment, status=RunStatus.RUNNING)
            .order_by("-heartbeat_at").values_list("heartbeat_at", flat=True).first())
    if beat is None:
        return (f"another sync of this environment holds its lock (starting or ending); "
                f"run it again in a minute (the lock expires within {lock_ttl()} s)")
    ago = max(0, int((timezone.now() - beat).total_seconds()))
    latest = beat + stale_after()
    return (f"another sync of this environment is running (last heartbeat {ago} s ago); "
            f"the next sync runs when it ends, or from {latest:%H:%M:%S} UTC on if it stops "
            f"beating")
