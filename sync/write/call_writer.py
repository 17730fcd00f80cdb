"""The calls stream's writer: a `BatchWriter` for `Call` that keeps the rollups current.

Why its own object: a batch now holds several pages and often several UTC days, so a day's
rollups can only be refreshed by the flush that commits the day's last rows. The stream says
which day each page belongs to (`add(..., day=)`) and when a day was read whole
(`finish_day`); the flush refreshes the local days of the finished days whose calls changed
(in this batch or an earlier one of the run, or left half-written by a killed run) and bumps
the data version, in the batch's transaction. A local day is refreshed once, by the batch
that finishes the last of its UTC days this run reads (`expect`): a back-fill does not
aggregate each local day twice. Until then it is listed in the cursor (`rollups_due`), so a
run killed in between leaves it to the next run (`refresh_due`).
"""
from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from datetime import date, timedelta
from functools import partial
from typing import Any

from django.db import transaction

from sync.models import Call
from sync.partitions.ddl import month_of
from sync.providers.records import CALL_UPDATE_FIELDS
from sync.run_context import RunContext
from sync.write.batch_writer import Batch, BatchWriter, CursorAction
from sync.write.rollups import local_days_for_upstream_day, refresh_rollups
from sync.write.upsert import Row


class CallWriter:
    """`add` pages of calls of UTC days, `finish_day`, `flush(cursor)` when `due` and at the
    end, `wait(cursor)` before writing anything else, `close()` in a `finally`."""

    def __init__(self, ctx: RunContext, rows: int | None = None,
                 shift: timedelta = timedelta(0)) -> None:
        self.ctx = ctx
        # How far the upstream's days (the tags of `add`) run ahead of UTC days: a day's calls
        # may start on the UTC day before or after it, and so in other local days.
        self.shift = shift
        # Told, in the writer's thread, the months of each batch once it has committed.
        self.on_committed: Callable[[set[date]], None] | None = None
        self.tz = ctx.environment.organization.tzinfo
        self.batch = BatchWriter(ctx, Call, key="external_id", update_fields=CALL_UPDATE_FIELDS,
                                 on_flush=self._refresh, rows=rows,
                                 carry=("disagree", "rollups_due"))
        # Written by the batches only (in the writer thread): UTC days with changed calls.
        self._changed: set[Hashable] = set()
        self._finished: set[date] = set()  # since the last flush
        self._dirty: set[date] = set()
        self._expected: set[date] = set()  # UTC days this run will still finish
        self._deferred: set[date] = set()  # local days waiting for a later UTC day (writer)

    @property
    def due(self) -> bool:
        return self.batch.due

    @property
    def pending(self) -> int:
        return self.batch.pending

    @property
    def background(self) -> bool:
        return self.batch.background

    def expect(self, days: Iterable[date]) -> None:
        """The UTC days this run will read whole, so a local day's rollups wait for the last
        of its UTC days instead of being refreshed for each."""
        self._expected |= set(days)

    def add(self, rows: list[Row], *, day: date, repeats: int = 0,
            actions: list[Callable[[], None]] | tuple = ()) -> None:
        self.batch.add(rows, tag=day, repeats=repeats, actions=actions)

    def defer(self, action: Callable[[], None] | CursorAction, *,
              with_cursor: bool = False) -> None:
        self.batch.defer(action, with_cursor=with_cursor)

    def finish_day(self, day: date, *, dirty: bool = False) -> None:
        """`day` was read whole; `dirty`: refresh its rollups even if this run changed nothing
        in it (a killed run left it half-written)."""
        self._finished.add(day)
        self._expected.discard(day)
        if dirty:
            self._dirty.add(day)

    def flush(self, cursor: dict[str, Any] | None) -> None:
        finished, dirty, self._finished, self._dirty = self._finished, self._dirty, set(), set()
        self.batch.flush(cursor, finished=finished, dirty=dirty,
                         expected=frozenset(self._expected))

    def wait(self, cursor: dict[str, Any] | None = None) -> None:
        self.batch.wait(cursor)

    def close(self) -> None:
        self.batch.close()

    def _refresh(self, changed: set[Hashable], batch: Batch) -> None:
        finished: set[date] = batch.extra["finished"]
        expected: frozenset[date] = batch.extra["expected"]
        self._changed |= changed | batch.extra["dirty"]
        local: set[date] = set(self._deferred)
        for day in finished & self._changed:
            local |= local_days_for_upstream_day(day, self.shift, self.tz)
        # A local day also made of a UTC day still to come is refreshed with that one.
        later: set[date] = set()
        for day in expected:
            later |= local_days_for_upstream_day(day, self.shift, self.tz)
        ready, self._deferred = local - later, local & later
        if ready:
            refresh_rollups(self.ctx.environment, ready)
            self.ctx.bump_data_version()
        self._changed -= finished
        if self.on_committed is not None:
            months = {month_of(day) for day in set(batch.tags.values()) if day is not None}
            transaction.on_commit(partial(self.on_committed, months))
        if batch.cursor is not None:
            if self._deferred:
                batch.cursor["rollups_due"] = sorted(d.isoformat() for d in self._deferred)
            else:
                batch.cursor.pop("rollups_due", None)


def refresh_due(ctx: RunContext, cursor: dict[str, Any]) -> None:
    """Refresh the local days a killed run left waiting for their rollups (`rollups_due`)."""
    due = cursor.pop("rollups_due", None)
    if not due:
        return
    with ctx.page_transaction():
        refresh_rollups(ctx.environment, {date.fromisoformat(d) for d in due})
        ctx.bump_data_version()
        ctx.save_cursor(cursor)
