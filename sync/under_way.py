"""The runs this process has under way, so that a command stopped by Ctrl-C or SIGTERM
(`portal.interrupts`) marks them stopped at once and frees their environments, instead of
leaving them "running" until their heartbeat goes stale (`sync.dead_runs`).

The engine adds a run when its stream starts and takes it off when the run ends
(`sync.engine`); whatever is left when the command is interrupted was cut short: the
stream's own thread (a `sync` command's), or one the process ran beside it (the demo's
history loading, in-process tasks).
"""
from __future__ import annotations

import logging
import threading
from typing import Any

from django.db import DatabaseError, connection
from django.dispatch import receiver
from django.utils import timezone

from portal.interrupts import NAMES
from portal.signals import command_interrupted
from sync.cache_errors import CACHE_ERRORS
from sync.models import SyncRun
from sync.models.core import RunStatus

logger = logging.getLogger("sync.under_way")

_runs: dict[int, Any] = {}  # run id → its RunContext
_guard = threading.Lock()
_stopped: list[str] = []  # once the command is interrupted: why (no run starts after)


def started(ctx: Any) -> str:
    """Count the run as under way; "" — or, once the command was interrupted, what stopped
    it (the run must not go on: a thread beside the main one would start the next stream)."""
    with _guard:
        if _stopped:
            return _stopped[0]
        _runs[ctx.run.pk] = ctx
        return ""


def ended(run_id: int) -> None:
    with _guard:
        _runs.pop(run_id, None)


@receiver(command_interrupted, dispatch_uid="sync.stop_runs_under_way")
def stop_runs_under_way(sender: Any, signum: int, **kwargs: Any) -> str:
    """Mark every run still under way in this process stopped (failed, saying by what) with
    its counters, and release its environment's lock."""
    said = f"stopped by {NAMES.get(signum, f'signal {signum}')} before it ended"
    with _guard:
        _stopped[:] = [said]
        cut = list(_runs.values())
        _runs.clear()
    if not cut:
        return ""
    connection.close()  # the interrupt may have cut a statement short: start afresh
    stopped = 0
    for ctx in cut:
        try:
            ctx.heartbeat()  # its counters as they were
        except (DatabaseError, *CACHE_ERRORS) as exc:
            logger.warning("run %s: counters not saved (%s)", ctx.run.pk, type(exc).__name__)
        stopped += SyncRun.objects.filter(pk=ctx.run.pk, status=RunStatus.RUNNING).update(
            status=RunStatus.FAILED, error=said, finished_at=timezone.now())
        if ctx.lock is not None:
            ctx.lock.release()
    return f"{stopped} sync run{'s' if stopped != 1 else ''} marked stopped" if stopped else ""
