"""A running sync's pulse: proof of life that does not depend on the sync making progress.

A run beats its heart as pages land (`RunContext.record`), but one upstream answer may take
up to its deadline and one merge may take longer still, so those beats alone could not tell
a slow run from a dead one sooner than a couple of minutes. The pulse is a thread beside the
run that, every `period()` seconds (a quarter of `SYNC_STALE_HEARTBEAT_SECONDS`), saves the
run's heartbeat, extends the environment lock and moves the environment's `next_sync_at` to
`now + SYNC_STALE_HEARTBEAT_SECONDS`: a dead-man switch. While the process lives the
environment is never due; once it dies (kill -9, a lost machine) the lock expires and the
environment falls due within one stale interval of the last beat, so the beat's next tick
(`sync.dispatch`) queues its sync again and that run resumes from the saved cursors. With the
production defaults: 45 s stale + at most 60 s to the next tick = 105 s < 2 minutes.

Webhook rounds do not move the schedule (a storm of events would pull it in); a webhook run
that dies is re-read by the schedule's next run.

Each of the pulse's writes is its own autocommit statement, so it never holds a row lock
while it waits on another (the run's own transaction may hold the run's or the
environment's row for a moment): no deadlock between the run and its pulse.
"""
from __future__ import annotations

import logging
import threading
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection
from django.utils import timezone

from portal.models import Environment

logger = logging.getLogger("sync.pulse")


def stale_seconds() -> float:
    """Seconds without a heartbeat after which a running run is dead."""
    return float(getattr(settings, "SYNC_STALE_HEARTBEAT_SECONDS", 45))


def period() -> float:
    """Seconds between two beats: four beats fit in a stale interval, so three lost to a
    slow database still leave the run alive."""
    return min(10.0, stale_seconds() / 4)


def hold_schedule(environment_id: int) -> None:
    """The dead-man switch: the environment falls due one stale interval from now unless
    the run beats again first."""
    Environment.objects.filter(pk=environment_id).update(
        next_sync_at=timezone.now() + timedelta(seconds=stale_seconds()))


class Pulse:
    """The thread that beats for the environment's current run (`ctx`, set per stream)."""

    def __init__(self, environment_id: int, holds_schedule: bool) -> None:
        self.environment_id = environment_id
        self.holds_schedule = holds_schedule
        self.ctx: Any = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"sync-pulse-{environment_id}",
                                        daemon=True)

    def __enter__(self) -> Pulse:
        if self.holds_schedule:
            hold_schedule(self.environment_id)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        # Bounded: a beat stuck on a frozen database must not hold the run's end; the
        # thread is a daemon and closes its own connection when its statement returns.
        self._thread.join(timeout=period() + 5)

    def beat(self) -> None:
        ctx = self.ctx
        if ctx is not None:
            ctx.heartbeat()  # the run's heartbeat and counters, then the lock
        if self.holds_schedule:
            hold_schedule(self.environment_id)

    def _run(self) -> None:
        try:
            while not self._stop.wait(period()):
                try:
                    self.beat()
                except Exception as exc:  # noqa: BLE001 - the run goes on; the next beat retries
                    logger.warning("sync of environment %s: heartbeat not saved (%s)",
                                   self.environment_id, type(exc).__name__)
                    if isinstance(exc, DatabaseError):
                        connection.close()
        finally:
            connection.close()  # this thread's own connection
