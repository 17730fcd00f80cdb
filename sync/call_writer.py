"""The calls stream's writer: a `BatchWriter` for `Call` that keeps the rollups current.

Why its own object: a batch now holds several pages and often several UTC days, so a day's
rollups can only be refreshed by the flush that commits the day's last rows. The stream says
which day each page belongs to (`add(..., day=)`) and when a day was read whole
(`finish_day`); the flush refreshes the local days of the finished days whose calls changed
(in this batch or an earlier one of the run, or left half-written by a killed run) and bumps
the data version, in the batch's transaction.
"""
from __future__ import annotations

from collections.abc import Callable, Hashable
from datetime import date
from typing import Any

from sync.batch_writer import BatchWriter
from sync.models import Call
from sync.providers.records import CALL_UPDATE_FIELDS
from sync.rollups import local_days_for_utc_day, refresh_rollups
from sync.run_context import RunContext
from sync.upsert import Counts, Row


class CallWriter:
    """`add` pages of calls of UTC days, `finish_day`, `flush(cursor)` when `due` and at the end."""

    def __init__(self, ctx: RunContext, rows: int | None = None) -> None:
        self.ctx = ctx
        self.batch = BatchWriter(ctx, Call, key="external_id", update_fields=CALL_UPDATE_FIELDS,
                                 on_flush=self._refresh, rows=rows)
        self._changed: set[Hashable] = set()
        self._finished: set[date] = set()

    @property
    def due(self) -> bool:
        return self.batch.due

    @property
    def pending(self) -> int:
        return self.batch.pending

    def add(self, rows: list[Row], *, day: date, repeats: int = 0,
            actions: list[Callable[[], None]] | tuple = ()) -> None:
        self.batch.add(rows, tag=day, repeats=repeats, actions=actions)

    def defer(self, action: Callable[[], None]) -> None:
        self.batch.defer(action)

    def finish_day(self, day: date, *, dirty: bool = False) -> None:
        """`day` was read whole; `dirty`: refresh its rollups even if this run changed nothing
        in it (a killed run left it half-written)."""
        self._finished.add(day)
        if dirty:
            self._changed.add(day)

    def flush(self, cursor: dict[str, Any] | None) -> Counts:
        return self.batch.flush(cursor)

    def _refresh(self, changed: set[Hashable]) -> None:
        self._changed |= changed
        ready = self._finished & self._changed
        if ready:
            tz = self.ctx.environment.organization.tzinfo
            local: set[date] = set()
            for day in ready:
                local |= local_days_for_utc_day(day, tz)
            refresh_rollups(self.ctx.environment, local)
            self.ctx.bump_data_version()
        self._changed -= self._finished
        self._finished = set()
