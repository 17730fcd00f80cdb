"""The beat schedule run on a thread of one process, for `make demo` (no broker, no beat).

The entries are production's own (`portal/schedule.py`), so the demo keeps syncing and
sending summaries exactly as a deployment would; each due entry is queued through
`portal.tasks_client.enqueue`, which runs it in process. Never used with a broker: there
RedBeat schedules (portal/beat.py).
"""
from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime

from celery.schedules import maybe_schedule
from django.db import connections

from portal.schedule import BEAT_SCHEDULE
from portal.tasks_client import enqueue

logger = logging.getLogger(__name__)


class InProcessBeat(threading.Thread):
    """Ticks every due entry of BEAT_SCHEDULE; entries that never ran are due at once."""

    def __init__(self, schedule: dict | None = None, max_sleep: float = 30.0) -> None:
        super().__init__(name="in-process-beat", daemon=True)
        self.entries = {name: (entry["task"], maybe_schedule(entry["schedule"]))
                        for name, entry in (schedule or BEAT_SCHEDULE).items()}
        self.last_run: dict[str, datetime | None] = dict.fromkeys(self.entries)
        self.max_sleep = max_sleep
        self.stopped = threading.Event()

    def tick(self) -> float:
        """Queue every due entry; seconds until the next one is due."""
        next_in = self.max_sleep
        for name, (task, schedule) in self.entries.items():
            last = self.last_run[name]
            due, wait = (True, 0.0) if last is None else schedule.is_due(last)
            if due:
                self.last_run[name] = datetime.now(UTC)
                try:
                    enqueue(task)
                except Exception:  # noqa: BLE001 — one failing entry must not stop the others
                    logger.exception("in-process beat could not run %s", task)
                wait = schedule.remaining_estimate(self.last_run[name]).total_seconds()
            next_in = min(next_in, max(wait, 1.0))
        return next_in

    def run(self) -> None:
        try:
            while not self.stopped.is_set():
                self.stopped.wait(self.tick())
        finally:
            connections.close_all()  # this thread's own connections

    def stop(self, timeout: float = 5.0) -> None:
        self.stopped.set()
        if self.is_alive():
            self.join(timeout)
