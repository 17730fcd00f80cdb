"""The runs this process has under way, so that a command stopped by Ctrl-C or SIGTERM
(`portal.interrupts`) marks them stopped at once and frees their environments, instead of
leaving them "running" until their heartbeat goes stale (`sync.dead_runs`).

The engine adds a run as it writes the run's row (`begin`: the row says running from then
on, so an interrupt that lands before the stream starts finds it too) and takes it off when
the run ends (`sync.engine`); whatever is left when the command is interrupted was cut short:
the stream's own thread (a `sync` command's), or one the process ran beside it (the demo's
history loading, in-process tasks).
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
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


@dataclass
class Begun:
    """A run whose row is written (it says running) and whose stream has not started yet."""

    run: SyncRun
    lock: Any


_runs: dict[int, Any] = {}  # run id → its RunContext once its stream started, else Begun
_guard = threading.Lock()
_stopped: list[str] = []  # once the command is interrupted: why (no run starts after)


def begin(create: Callable[..., SyncRun], lock: Any) -> tuple[SyncRun, str]:
    """Write a run's row with `create` and count the run under way in one step: an interrupt
    waits for both, so no row says running without this process knowing it. Returns the run
    and "" — or, once the command was interrupted, what stopped it: the row is then written
    ended by it, in its one statement (the process may be gone before the caller's next
    one), and the caller goes no further."""
    with _guard:
        if _stopped:
            return create(status=RunStatus.FAILED, error=_stopped[0],
                          finished_at=timezone.now()), _stopped[0]
        run = create()
        _runs[run.pk] = Begun(run, lock)
        return run, ""


def started(ctx: Any) -> str:
    """The run's stream starts (its counters are what an interrupt saves); "" — or, once the
    command was interrupted, what stopped it: the interrupt's receiver took the run when it
    was begun and marks it stopped, and it must not go on (a thread beside the main one
    would start the next stream)."""
    with _guard:
        if _stopped:
            return _stopped[0]
        _runs[ctx.run.pk] = ctx
        return ""


@contextmanager
def ending(run_id: int) -> Iterator[bool]:
    """Whether the run's own thread may write how it ended: not once an interrupt marked it
    stopped (the command has said so; its thread may reach its end a moment later). The
    guard is held while it writes, so an interrupt finds the run under way or ended, never
    between: the end or the stop takes it, never both, never neither."""
    with _guard:
        if _stopped and run_id not in _runs:  # the interrupt took it (or it never began)
            yield False
            return
        yield True
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
        if not isinstance(ctx, Begun):
            try:
                ctx.heartbeat()  # its counters as they were
            except (DatabaseError, *CACHE_ERRORS) as exc:
                logger.warning("run %s: counters not saved (%s)", ctx.run.pk,
                               type(exc).__name__)
        stopped += SyncRun.objects.filter(pk=ctx.run.pk, status=RunStatus.RUNNING).update(
            status=RunStatus.FAILED, error=said, finished_at=timezone.now())
        if ctx.lock is not None:
            ctx.lock.release()
    return f"{stopped} sync run{'s' if stopped != 1 else ''} marked stopped" if stopped else ""
