"""The total deadline of one run's reading of one stream, whatever the upstream sends how
slowly: each answer has its own (`sync.providers.transport`), but a page every 25 s within
it held a sync for ever. The engine starts one per stream it runs (`stream_run_seconds`:
`SYNC_STREAM_DEADLINE_SECONDS`, per provider `SYNC_STREAM_DEADLINES`), the one client
(`sync.providers.http.HttpClient`) keeps to it.
"""
from __future__ import annotations

import time
from dataclasses import replace

from django.conf import settings

from sync.providers.errors import StreamDeadlinePassed
from sync.providers.transport import Limits


def stream_run_seconds(provider: str | None = None) -> float:
    """Seconds one run may spend reading one stream: `provider`'s own when
    `SYNC_STREAM_DEADLINES` names it, else `SYNC_STREAM_DEADLINE_SECONDS`."""
    return float(getattr(settings, "SYNC_STREAM_DEADLINES", {}).get(
        provider, settings.SYNC_STREAM_DEADLINE_SECONDS))


class RunDeadline:
    """The total deadline of one run's reading of one stream, whatever the upstream sends
    and how slowly: a page every 25 s within each answer's own deadline held a sync for ever.

    The client (`sync.providers.http.HttpClient`) refuses to send once it has passed and
    shortens every answer's deadline to what is left, so the stream ends by it; the engine
    ends the run failed, naming what it read (what it merged stays, with its cursor, and the
    next run continues). Time spent waiting on our own request budget is not counted: that
    is our pacing, not the upstream's slowness.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._ends_at = time.monotonic() + seconds

    def left(self) -> float:
        return self._ends_at - time.monotonic()

    @property
    def passed(self) -> bool:
        return self.left() <= 0

    def exclude(self, seconds: float) -> None:
        """Leave `seconds` (a wait on our own budget) out of the run's time."""
        self._ends_at += max(0.0, seconds)

    def check(self, where: str, path: str = "") -> None:
        if self.passed:
            raise StreamDeadlinePassed(f"{where}: the stream's deadline of {self.seconds:g} s "
                                       f"passed", path=path)

    def bound(self, limits: Limits) -> Limits:
        """`limits` with a deadline no later than the stream's."""
        return replace(limits, deadline=max(0.001, min(limits.deadline, self.left())))
