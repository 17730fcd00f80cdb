"""The write path of a stream: rows staged in memory, merged and committed a batch at a time.

Why: a back-fill wrote every 100-row page in its own transaction (staging table, COPY, merge,
cursor update, commit), and those per-page round trips were most of its time. A stream now
hands each page to one `BatchWriter` (`add`) and says where it stands (`flush(cursor)` when a
batch is due, and at its end); a flush merges every staged row with ONE upsert, runs the
page's deferred writes (quarantine, ledger, rollups), saves the cursor once and commits, all
in one transaction. A killed worker loses at most the batches in flight: their rows and
their cursors are lost together, so the next run re-reads them and converges.

On PostgreSQL, outside a caller's transaction, batches are written by threads of their own
(each with its own connection) while the stream reads and checks the next one, and up to
`WRITERS` batches at once: a batch's merge (COPY and INSERT, where the database's index
maintenance is most of a back-fill's time) runs while the batch before it is still being
merged or committed, so the database works on both cores. Everything else a batch writes
(moved calls, deferred writes, `on_flush`, the cursor) and its commit wait for the batch
before it to commit, so batches commit in order, each cursor after the rows it covers, and
a batch never waits for a lock the batch after it holds (which could deadlock): a batch
that shares a key with the batch before it, or must create a partition, merges only once
that one has committed. A batch whose predecessor failed rolls back too. The stream waits
for the oldest batch before handing over one more than `WRITERS` (`flush`) and for all of
them before writing anything itself (`wait`); an error in a batch is raised there. A killed
worker loses at most the batches in flight (`WRITERS` × `BATCH_ROWS` rows) with their
cursors, so the next run re-reads them and converges. Inside a transaction (a test's) a
flush writes at once, in the caller's connection.

A batch is due at `BATCH_ROWS` staged rows (settings.SYNC_BATCH_ROWS); the stream may also
flush at any boundary it cares about (a day's end). Within a batch a key seen again replaces
the earlier row (later pages are newer reads).
"""
from __future__ import annotations

import copy
import threading
from collections import deque
from collections.abc import Callable, Hashable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection, connections, models

from sync.outcomes import Settling
from sync.partitions import upsert as partition_upsert
from sync.run_context import RunContext
from sync.write.upsert import Counts, Row, ensure_stage, upsert_keys

BATCH_ROWS = 2000
# Batches merged at once (PostgreSQL, outside a transaction): one merging while one commits.
WRITERS = 2


def batch_rows() -> int:
    """Rows staged before a flush is due (settings.SYNC_BATCH_ROWS, default BATCH_ROWS)."""
    return max(1, int(getattr(settings, "SYNC_BATCH_ROWS", BATCH_ROWS)))


def writer_lock_timeout() -> float:
    """Seconds a writer thread's statement waits on a lock before it fails the run
    (settings.SYNC_WRITER_LOCK_TIMEOUT_SECONDS; 0 waits for ever)."""
    return max(0.0, float(getattr(settings, "SYNC_WRITER_LOCK_TIMEOUT_SECONDS", 60)))


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
    # Written concurrently: the batch before, and the carry keys this batch saved.
    previous: tuple[Future, Batch] | None = None
    carried: dict[str, Any] | None = None
    # Calls: what the batch's resolution found before its merge, for the batch after it.
    settling: Settling | None = None


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
        if not connection.in_atomic_block and getattr(settings, "SYNC_BACKGROUND_WRITES", True):
            self._pool = ThreadPoolExecutor(WRITERS, thread_name_prefix="sync-writer")
        self._inflight: deque[tuple[Future, Batch]] = deque()  # oldest first
        self.flushes = 0

    @property
    def pending(self) -> int:
        return len(self._rows)

    @property
    def background(self) -> bool:
        """Whether batches are written by threads of their own (and commit as they go)."""
        return self._pool is not None

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
        batch: written at once, or by a writer thread (after the batch before it, see the
        module); waits first for the oldest batch when `WRITERS` are in flight."""
        while len(self._inflight) >= WRITERS:
            self._wait_oldest(cursor)
        if self._pool is None or not self._inflight:
            self.wait(cursor)  # `cursor` has what the batches before recorded
        batch = Batch(list(self._rows.values()), self._tags, self._actions, self._pages,
                      self._uncounted, copy.deepcopy(cursor) if cursor is not None else None,
                      extra, previous=self._inflight[-1] if self._inflight else None)
        batch.settling = Settling(batch.previous[1].settling if batch.previous else None)
        self._rows, self._tags, self._actions = {}, {}, []
        self._pages = self._uncounted = 0
        if self._pool is None:
            self._write(batch)
        else:
            self._inflight.append((self._pool.submit(self._write, batch), batch))

    def wait(self, cursor: dict[str, Any] | None = None) -> None:
        """Wait for every batch being written, in order; raise the first error; give
        `cursor` what the batches written so far set in their carry keys."""
        while self._inflight:
            self._wait_oldest(cursor)
        if cursor is not None:
            self._apply_carried(cursor)

    def _wait_oldest(self, cursor: dict[str, Any] | None) -> None:
        future, _batch = self._inflight[0]
        try:
            future.result()
        except BaseException:
            self._inflight.clear()  # the later ones roll back with it (see `_write`)
            raise
        self._inflight.popleft()
        if cursor is not None:
            self._apply_carried(cursor)

    def close(self) -> None:
        """Wait for the batches in flight (their errors, if any, are the caller's to have
        seen) and let the writer threads go with their connections."""
        if self._pool is None:
            return
        inflight, self._inflight = list(self._inflight), deque()
        for future, _batch in inflight:
            try:
                future.result()
            except BaseException:  # noqa: BLE001 - raised already, or the run is ending anyway
                pass
        # Every thread closes its own connection: the barrier holds each task on its own
        # thread (the pool starts one if it has fewer).
        barrier = threading.Barrier(WRITERS)

        def close_connections() -> None:
            connections.close_all()
            barrier.wait(timeout=60)

        for future in [self._pool.submit(close_connections) for _ in range(WRITERS)]:
            future.result()
        self._pool.shutdown(wait=True)
        self._pool = None

    def _apply_carried(self, cursor: dict[str, Any]) -> None:
        """Once per written batch: the stream may change those keys itself afterwards."""
        with self._lock:
            carried, self._carried = self._carried, None
        _carry_into(cursor, carried)

    def _write(self, batch: Batch) -> Counts:
        """Merge the batch's rows; once the batch before it committed, run the rest of its
        writes and save its cursor; one commit (see the module)."""
        try:
            return self._write_batch(batch)
        finally:
            # Written or failed: its rows and the batch before it are no longer needed (a
            # batch links the one before it, so keeping them would keep every row of the run).
            batch.rows, batch.previous = [], None
            if batch.settling is not None:
                batch.settling.before = None

    def _write_batch(self, batch: Batch) -> Counts:
        ctx = self.ctx
        thread = threading.get_ident()
        if thread not in self._staged:
            if self._pool is not None:
                # A writer thread's own connection: commits relaxed as the run's are. A lock
                # it waits on is given up after `writer_lock_timeout()`: a batch that merged
                # ahead holds its rows while it waits in Python for the batch before it, and
                # should that one ever wait on those rows, PostgreSQL cannot see the cycle —
                # the run would hang, beating, for ever. It fails instead (its batches roll
                # back, the mirror stays as it was) and the next run converges.
                with connection.cursor() as cursor:
                    cursor.execute("SET synchronous_commit TO OFF")
                    cursor.execute("SELECT set_config('lock_timeout', %s, false)",
                                   [f"{int(writer_lock_timeout() * 1000)}ms"])
            # Outside the batch's transaction: a rolled-back first batch keeps the table.
            ensure_stage(self.model)
            with self._lock:
                self._staged.add(thread)
        if batch.previous is not None and self._must_follow(batch):
            _after(batch)
        with ctx.page_transaction():
            counts, changed = upsert_keys(self.model, ctx.environment, batch.rows,
                                          key=self.key, update_fields=self.update_fields,
                                          staged=True, run_keys=ctx.call_keys,
                                          ordered=lambda: _after(batch),
                                          settling=batch.settling)
            batch.rows = []  # merged: two batches in flight need not hold their rows too
            _after(batch)  # also when the merge had nothing to write (no `ordered` call)
            counts.unchanged = max(0, counts.unchanged - batch.uncounted)
            if batch.cursor is not None and batch.previous is not None and self.carry:
                _carry_into(batch.cursor, batch.previous[1].carried)
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
            batch.carried = {k: copy.deepcopy(batch.cursor.get(k)) for k in self.carry}
            with self._lock:
                self._carried = batch.carried
        self.flushes += 1
        return counts

    def _must_follow(self, batch: Batch) -> bool:
        """Whether the batch may only merge once the batch before it committed: it holds one
        of that batch's keys (its merge would wait on that batch's rows), or its rows need
        a partition made (DDL waits on every open write to the table)."""
        _future, before = batch.previous  # type: ignore[misc]
        if any(row[self.key] in before.tags for row in batch.rows):
            return True
        return partition_upsert.needs_partitions(self.model, self.ctx.environment,
                                                 batch.rows)


def _after(batch: Batch) -> None:
    """Return once the batch before `batch` committed; raise if it failed (so `batch` rolls
    back too)."""
    if batch.previous is not None:
        batch.previous[0].result()


def _carry_into(cursor: dict[str, Any], carried: dict[str, Any] | None) -> None:
    """The carry keys as the batch before saved them (its writes are newer than the
    stream's copy this batch took while it was in flight)."""
    for key, value in (carried or {}).items():
        if value is None:
            cursor.pop(key, None)
        else:
            cursor[key] = copy.deepcopy(value)
