"""The beat scheduler: RedBeat (one beat at a time, by a Redis lock), entries that have never
run being due at once.

Celery stamps a new entry as if it had just run, so on a fresh deployment the first
`sync.dispatch` would wait a whole period. Entries already in Redis keep their last run, so
restarting beat neither skips nor repeats a tick. The entries themselves still come only
from `portal/schedule.py`.
"""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from redbeat import RedBeatScheduler
from redbeat.schedulers import get_redis

NEVER_RUN_AGE = timedelta(days=1)  # older than any period in portal/schedule.py


class Scheduler(RedBeatScheduler):
    """RedBeat, with never-run entries due at start (only the lock holder sends them)."""

    def update_from_dict(self, dict_: dict[str, Any]) -> None:
        client = get_redis(self.app)
        new = [name for name in dict_
               if not client.hexists(self.Entry.generate_key(self.app, name), "meta")]
        super().update_from_dict(dict_)
        for name in new:
            entry = self.Entry.from_key(self.Entry.generate_key(self.app, name), app=self.app)
            entry.reschedule(last_run_at=self.app.now() - NEVER_RUN_AGE)
