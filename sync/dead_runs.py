"""A run whose worker died is seen as dead, its lock is gone with it, and its work resumes.

A live run beats its heart (`SyncRun.heartbeat_at`) as pages land and, whatever it waits on,
from its pulse thread every few seconds (sync/pulse.py); each beat extends the environment
lock (sync/locks.py), whose time to live is the stale threshold itself. A worker killed with
SIGKILL beats no more, so:

- a run whose heartbeat is older than `SYNC_STALE_HEARTBEAT_SECONDS` (default 45 s: four
  pulse periods) is dead, and its lock has expired at the same moment;
- its environment fell due at the same moment too (the pulse's dead-man switch on
  `next_sync_at`), so the beat's next tick (`sync.dispatch`, every minute) fails it
  ("worker stopped: no heartbeat since …") and queues the environment's sync, which resumes
  from the saved cursors: at most 45 + 60 s after the last heartbeat;
- a sync that finds the lock held by a live run is skipped with a reason that says until when
  that run holds the environment, and the skip never pushes the schedule out
  (`keep_schedule`): the environment stays due from that moment on;
- whoever takes a lock (expired or taken over) first fails what its environment left
  running.

Take-overs are serialised by a row lock on the environment (`select_for_update`), so of two
syncs that find the same dead run, one takes over and the other sees a live run and skips.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import QuerySet
from django.db.models.functions import Least
from django.utils import timezone

from portal.models import Environment
from sync.locks import EnvironmentLock, lock_ttl
from sync.models import SyncRun
from sync.models.core import RunStatus
from sync.pulse import stale_seconds


def stale_after() -> timedelta:
    """How long without a heartbeat makes a running run dead."""
    return timedelta(seconds=stale_seconds())


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


def held_until(environment: Environment) -> datetime:
    """Until when the run holding `environment` holds it if it stops beating now: its last
    heartbeat plus the stale threshold (the lock's own expiry when no run says who holds it:
    one starting or ending)."""
    beat = (SyncRun.objects.filter(environment=environment, status=RunStatus.RUNNING)
            .order_by("-heartbeat_at").values_list("heartbeat_at", flat=True).first())
    if beat is None:
        return timezone.now() + timedelta(seconds=lock_ttl())
    return beat + stale_after()


def keep_schedule(environment: Environment, until: datetime) -> None:
    """A skipped sync leaves the environment due no later than `until` (when the holder is
    dead if it stops beating): the dispatcher's claim pushed `next_sync_at` a whole interval
    out, and a skip must not keep it there. A live holder's pulse moves it on again."""
    Environment.objects.filter(pk=environment.pk, next_sync_at__isnull=False).update(
        next_sync_at=Least("next_sync_at", until))


def busy_reason(environment: Environment, until: datetime) -> str:
    """Why a sync was skipped because another one holds the lock, and until when."""
    beat = (SyncRun.objects.filter(environment=environment, status=RunStatus.RUNNING)
            .order_by("-heartbeat_at").values_list("heartbeat_at", flat=True).first())
    if beat is None:
        return (f"another sync of this environment holds it (starting or ending) until "
                f"{until:%Y-%m-%d %H:%M:%S} UTC at the latest")
    ago = max(0, int((timezone.now() - beat).total_seconds()))
    return (f"another sync of this environment holds it until it ends, or until "
            f"{until:%Y-%m-%d %H:%M:%S} UTC if it stops beating (last heartbeat {ago} s ago)")
