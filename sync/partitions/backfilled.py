"""After a back-fill, the call partitions it filled are read as they would be at rest: the
planner has their statistics (`sync.partitions.analyze`) and the search index holds their
entries merged (`sync.partitions.pending`), now rather than when autovacuum comes. Every
provider's calls stream settles what its back-fill wrote: Origins with `settle` after its last
batch, Talkover with a `Settler` (below), Vapi with a `DaysSettler`.

A Talkover back-fill reads its days a month after another (today, then older days newest
first), so a month is whole long before the run ends: a `Settler` settles each month once the
batch holding the last of its days to be read has committed, on a connection of its own, while
the next months are read and written. Settling every month
after the last batch was a ninth of a 68,620-call back-fill's time (1.05 of 8.8 s, on one
core while the other waited); now only the last month is left for the end.

A month's first batch also gives the planner its first statistics, if it has none (a leaf
made ahead and analysed empty, or never analysed): the back-fill's own statements of the
next batches (the callback links' probes by number) are planned on them. Without column
statistics the planner took a walk of the month by start time for an index probe by number,
and a day of 100,000 calls took 480 s to back-fill instead of 15 (the mirror's day of
today, as `bench/freshness.py` back-fills it; `tests/sync/test_backfill_statistics.py`).
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import date
from typing import TYPE_CHECKING

from django.db import connections, transaction

from sync.partitions import ddl
from sync.partitions.analyze import analyze_filled, filled_tables
from sync.partitions.pending import merge_pending

if TYPE_CHECKING:
    from sync.run_context import RunContext
    from sync.write.call_writer import CallWriter


def settle(ctx: RunContext, days: Iterable[date]) -> None:
    """The partitions holding the UTC `days` this run back-filled; what was done goes to the
    run's details ("analyzed", "search index merged", "search index not merged")."""
    days = list(days)
    if not days:
        return
    written = ctx.counts.created + ctx.counts.updated
    tables = analyze_filled(ctx.environment, days, written)
    if tables:
        ctx.note("analyzed", ", ".join(tables))
    if not written:
        return  # nothing new pending from this run
    merged, problem = merge_pending(filled_tables(ctx.environment, days))
    if merged:
        ctx.note("search index merged", ", ".join(
            f"{index}: {pages} pages" for index, pages in merged.items()))
    if problem:  # the database user does not own the index: searches wait for a vacuum
        ctx.note("search index not merged", problem)


def first_statistics(ctx: RunContext, days: list[date]) -> None:
    """ANALYZE the leaves of `days` that hold rows but no statistics (`analyze_filled`'s
    first rules: never analysed, or analysed empty), or statistics that know nothing of this
    environment while its back-fill has written materially (the run's rows so far)."""
    written = ctx.counts.created + ctx.counts.updated
    tables = analyze_filled(ctx.environment, days, written, unanalysed_only=True)
    if tables:
        ctx.note("analyzed", ", ".join(tables))


class Settler:
    """Settles the months of `days` (the UTC days a run back-fills) as they are finished.

    `read(day)` after each day is read: once every day of `day`'s month in `days` is read
    (in any order), the month is settled when the batch holding `day` has committed (writes done
    in the background only: see `CallWriter.background`); the first batch of each month
    gives it statistics if it has none (`committed`); `finish()` after the last batch
    settles the rest, waits for the others and raises their error, if any.
    """

    def __init__(self, ctx: RunContext, writer: CallWriter, days: Iterable[date]) -> None:
        self.ctx, self.writer = ctx, writer
        self.days = set(days)
        self._months: dict[date, list[date]] = {}
        for day in self.days:
            self._months.setdefault(ddl.month_of(day), []).append(day)
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()  # two writer threads may hand a month over
        self._settling: list[Future] = []
        self._settled: set[date] = set()  # months handed to the pool
        self._seen: set[date] = set()  # months whose first batch has committed
        self._unread = {month: set(days) for month, days in self._months.items()}
        if writer.background and self._months:
            writer.on_committed = self.committed

    def read(self, day: date) -> None:
        month = ddl.month_of(day)
        if not self.writer.background or day not in self.days or month in self._settled:
            return
        self._unread[month].discard(day)
        if self._unread[month]:
            return
        self._settled.add(month)
        days = self._months[month]
        # In the batch's transaction: handed over once it has committed.
        self.writer.defer(lambda: transaction.on_commit(lambda: self._hand_over(settle, days)))

    def committed(self, months: set[date]) -> None:
        """A batch holding calls of `months` has committed (in its writer thread): a month
        of the back-fill met for the first time is given statistics if it has none."""
        with self._lock:
            first = {m for m in months if m in self._months and m not in self._seen}
            self._seen |= first
        for month in sorted(first):
            self._hand_over(first_statistics, self._months[month][:1])

    def _hand_over(self, work: Callable[[RunContext, list[date]], None], days: list[date]
                   ) -> None:
        """`work(ctx, days)` on the settling thread (made on first use), in order."""
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(1, thread_name_prefix="sync-settle")
            self._settling.append(self._pool.submit(work, self.ctx, days))

    def finish(self) -> None:
        """Settle the months not settled yet; wait for the others (their errors raised)."""
        try:
            settle(self.ctx, sorted(d for m, days in self._months.items()
                                    if m not in self._settled for d in days))
            for future in self._settling:
                future.result()
        finally:
            self.close()

    def close(self) -> None:
        """Let the settling thread go with its connection (after what it was given)."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is None:
            return
        pool.submit(connections.close_all).result()
        pool.shutdown(wait=True)


class DaysSettler:
    """The UTC days a run back-fills, for a stream that writes each day as it reads it (no
    background writer, unlike `Settler`'s): `read(day)` once the day is written gives its
    month statistics if it has none and the day is the month's first met (the next days'
    resolution probes are planned on them: the demo's 90 Vapi days took 46 s on a fresh
    database without, 22 s so); `settle()` after the last day settles every month."""

    def __init__(self, ctx: RunContext) -> None:
        self.ctx = ctx
        self.days: list[date] = []

    def read(self, day: date) -> None:
        if all(ddl.month_of(d) != ddl.month_of(day) for d in self.days):
            first_statistics(self.ctx, [day])
        self.days.append(day)

    def settle(self) -> None:
        settle(self.ctx, self.days)
