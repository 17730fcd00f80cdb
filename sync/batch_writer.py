"""The write path of a stream: rows staged in memory, merged and committed a batch at a time.

Why: a back-fill wrote every 100-row page in its own transaction (staging table, COPY, merge,
cursor update, commit), and those per-page round trips were most of its time. A stream now
hands each page to one `BatchWriter` (`add`) and says where it stands (`flush(cursor)` when a
batch is due, and at its end); a flush merges every staged row with ONE upsert, runs the
page's deferred writes (quarantine, ledger, rollups), saves the cursor once and commits, all
in one transaction. A killed worker loses at most the batches in flight: their rows and
their cursors are lost together, so the next run re-reads them and converges.

On PostgreSQL, outside a caller's transaction, a batch is written by a thread of its own
(with its own connection) while the stream reads and checks the next one: the database's
index maintenance, most of a back-fill's time, no longer waits for Python nor Python for
it. One batch is written at a time, in order; the stream waits for it before handing over
the next (`flush`) and before writing anything itself (`wait`). An error in a batch is
raised in the stream at its next `flush` or `wait`. Elsewhere (SQLite, or inside a test's
transaction) a flush writes at once, in the caller's connection.

A batch is due at `BATCH_ROWS` staged rows (settings.SYNC_BATCH_ROWS); the stream may also
flush at any boundary it cares about (a day's end). Within a batch a key seen again replaces
the earlier row (later pages are newer reads).
"""
from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Hashable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection, connections, models

from sync.run_context import RunContext
from sync.upsert import Counts, Row, ensure_stage, upsert_keys

BATCH_ROWS = 2000


def batch_rows() -> int:
    """Rows staged before a flush is due (settings.SYNC_BATCH_ROWS, default BATCH_ROWS)."""
    return max(1, int(getattr(settings, "SYNC_BATCH_ROWS", BATCH_ROWS)))


# A deferred write; `with_cursor` ones are given the cursor the batch saves, to record in it.
Action = Callable[[], None]
CursorAction = Callable[[dict[str, Any]], None]


@dataclass
class Batch:
    """Everything one flush writes, taken from the stager when it is handed over."""

    rows: list[Row]
    tags: dict[Any, Hashable]
    actions: list[tuple[Action | CursorAction, bool]]
    pages: int
    uncounted: int
    cursor: dict[str, Any] | None
    extra: dict[str, Any] = field(default_factory=dict)  # what the stream hands over too


class BatchWriter:
    """Stages one model's rows of one run and writes them a batch at a time.

    `on_flush(changed_tags, batch)` runs inside the batch's transaction after the rows are
    merged, with the tags (given to `add`) of the rows created or changed: the stream
    refreshes what derives from them (rollups) in the same commit. `carry`: cursor keys the
    batch's own writes set (the ledger's disagreeing days); each batch saves the latest
    values, and `flush`/`wait` copy them into the stream's cursor.
    """

    def __init__(self, ctx: RunContext, model: type[models.Model], *, key: str,
                 update_fields: list[str],
                 on_flush: Callable[[set[Hashable], Batch], None] | None = None,
                 rows: int | None = None, carry: tuple[str, ...] = ()) -> None:
        self.ctx, self.model, self.key, self.update_fields = ctx, model, key, update_fields
        self.on_flush = on_flush
        self.limit = rows or batch_rows()
        self.carry = carry
        self._rows: dict[Any, Row] = {}
        self._tags: dict[Any, Hashable] = {}
        self._actions: list[tuple[Action | CursorAction, bool]] = []
        self._pages = 0
        self._uncounted = 0  # rows the stream counted already: not "unchanged" again
        self._carried: dict[str, Any] | None = None  # the last written batch's carry keys
        self._lock = threading.Lock()
        self._staged: set[int] = set()  # threads whose connection has the staging table
        self._pool: ThreadPoolExecutor | None = None
        if connection.vendor == "postgresql" and not connection.in_atomic_block and \
                getattr(settings, "SYNC_BACKGROUND_WRITES", True):
            self._pool = ThreadPoolExecutor(1, thread_name_prefix="sync-writer")
        self._future: Future | None = None
        self.flushes = 0

    @property
    def pending(self) -> int:
        return len(self._rows)

    @property
    def due(self) -> bool:
        return len(self._rows) >= self.limit

    def add(self, rows: list[Row], *, tag: Hashable = None, repeats: int = 0,
            actions: list[Action] | tuple = ()) -> None:
        """Stage one page: its rows, and writes to run in the same transaction (in order).

        `repeats`: rows of this page the stream has already counted in this run (a re-read);
        those still staged are merged once anyway, the others are not counted unchanged twice.
        """
        staged_again = 0
        for row in rows:
            k = row[self.key]
            if k in self._rows:
                staged_again += 1
            self._rows[k] = row
            self._tags[k] = tag
        self._uncounted += max(0, repeats - staged_again)
        self._actions.extend((action, False) for action in actions)
        self._pages += 1

    def defer(self, action: Action | CursorAction, *, with_cursor: bool = False) -> None:
        """A write to run in the next flush's transaction, after the rows are merged
        (`with_cursor`: called with the cursor that batch saves)."""
        self._actions.append((action, with_cursor))

    def flush(self, cursor: dict[str, Any] | None, **extra: Any) -> None:
        """Hand the staged rows, the deferred writes and a copy of `cursor` over as one
        batch: written at once, or by the writer thread once the batch before is written."""
        self.wait(cursor)  # the batch before is written; `cursor` has what it recorded
        batch = Batch(list(self._rows.values()), self._tags, self._actions, self._pages,
                      self._uncounted, copy.deepcopy(cursor) if cursor is not None else None,
                      extra)
        self._rows, self._tags, self._actions = {}, {}, []
        self._pages = self._uncounted = 0
        if self._pool is None:
            self._write(batch)
        else:
            self._future = self._pool.submit(self._write, batch)

    def wait(self, cursor: dict[str, Any] | None = None) -> None:
        """Wait for the batch being written; raise its error; give `cursor` what the batches
        written so far set in their carry keys."""
        future, self._future = self._future, None
        if future is not None:
            future.result()
        if cursor is not None:
            self._apply_carried(cursor)

    def close(self) -> None:
        """Wait for the batch in flight (its error, if any, is the caller's to have seen)
        and let the writer thread go with its connection."""
        if self._pool is None:
            return
        future, self._future = self._future, None
        if future is not None:
            try:
                future.result()
            except BaseException:  # noqa: BLE001 - raised already, or the run is ending anyway
                pass
        self._pool.submit(connections.close_all).result()
        self._pool.shutdown(wait=True)
        self._pool = None

    def _apply_carried(self, cursor: dict[str, Any]) -> None:
        """Once per written batch: the stream may change those keys itself afterwards."""
        with self._lock:
            carried, self._carried = self._carried, None
        if carried is None:
            return
        for key, value in carried.items():
            if value is None:
                cursor.pop(key, None)
            else:
                cursor[key] = copy.deepcopy(value)

    def _write(self, batch: Batch) -> Counts:
        """Merge the batch's rows, run its deferred writes, save its cursor; one commit."""
        ctx = self.ctx
        thread = threading.get_ident()
        if thread not in self._staged:
            if self._pool is not None:
                # The writer thread's own connection: commits relaxed as the run's are.
                with connection.cursor() as cursor:
                    cursor.execute("SET synchronous_commit TO OFF")
            # Outside the batch's transaction: a rolled-back first batch keeps the table.
            ensure_stage(self.model)
            self._staged.add(thread)
        with ctx.page_transaction():
            counts, changed = upsert_keys(self.model, ctx.environment, batch.rows,
                                          key=self.key, update_fields=self.update_fields,
                                          staged=True)
            counts.unchanged = max(0, counts.unchanged - batch.uncounted)
            for action, with_cursor in batch.actions:
                if with_cursor:
                    if batch.cursor is not None:
                        action(batch.cursor)  # type: ignore[call-arg]
                else:
                    action()  # type: ignore[call-arg]
            if self.on_flush is not None:
                self.on_flush({batch.tags[k] for k in changed}, batch)
            if batch.cursor is not None:
                ctx.save_cursor(batch.cursor)
            ctx.record(counts, pages=batch.pages)
        if batch.cursor is not None and self.carry:
            with self._lock:
                self._carried = {k: copy.deepcopy(batch.cursor.get(k)) for k in self.carry}
        self.flushes += 1
        return counts
