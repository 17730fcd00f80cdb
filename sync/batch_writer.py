"""The write path of a stream: rows staged in memory, merged and committed a batch at a time.

Why: a back-fill wrote every 100-row page in its own transaction (staging table, COPY, merge,
cursor update, commit), and those per-page round trips were most of its time. A stream now
hands each page to one `BatchWriter` (`add`) and says where it stands (`flush(cursor)` when a
batch is due, and at its end); a flush merges every staged row with ONE upsert, runs the
page's deferred writes (quarantine, rollups), saves the cursor once and commits, all in one
transaction. A killed worker loses at most the batch in flight: its rows and its cursor are
lost together, so the next run re-reads them and converges.

A batch is due at `BATCH_ROWS` staged rows (settings.SYNC_BATCH_ROWS); the stream may also
flush at any boundary it cares about (a day's end). Within a batch a key seen again replaces
the earlier row (later pages are newer reads).
"""
from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

from django.conf import settings
from django.db import models

from sync.run_context import RunContext
from sync.upsert import Counts, Row, ensure_stage, upsert_keys

BATCH_ROWS = 2000


def batch_rows() -> int:
    """Rows staged before a flush is due (settings.SYNC_BATCH_ROWS, default BATCH_ROWS)."""
    return max(1, int(getattr(settings, "SYNC_BATCH_ROWS", BATCH_ROWS)))


class BatchWriter:
    """Stages one model's rows of one run and writes them a batch at a time.

    `on_flush(changed_tags)` runs inside the flush's transaction after the rows are merged,
    with the tags (given to `add`) of the rows created or changed: the stream refreshes what
    derives from them (rollups) in the same commit.
    """

    def __init__(self, ctx: RunContext, model: type[models.Model], *, key: str,
                 update_fields: list[str],
                 on_flush: Callable[[set[Hashable]], None] | None = None,
                 rows: int | None = None) -> None:
        self.ctx, self.model, self.key, self.update_fields = ctx, model, key, update_fields
        self.on_flush = on_flush
        self.limit = rows or batch_rows()
        self._rows: dict[Any, Row] = {}
        self._tags: dict[Any, Hashable] = {}
        self._actions: list[Callable[[], None]] = []
        self._pages = 0
        self._uncounted = 0  # rows the stream counted already: not "unchanged" again
        self._staged = False
        self.flushes = 0

    @property
    def pending(self) -> int:
        return len(self._rows)

    @property
    def due(self) -> bool:
        return len(self._rows) >= self.limit

    def add(self, rows: list[Row], *, tag: Hashable = None, repeats: int = 0,
            actions: list[Callable[[], None]] | tuple = ()) -> None:
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
        self._actions.extend(actions)
        self._pages += 1

    def defer(self, action: Callable[[], None]) -> None:
        """A write to run in the next flush's transaction, after the rows are merged."""
        self._actions.append(action)

    def flush(self, cursor: dict[str, Any] | None) -> Counts:
        """Merge the staged rows, run the deferred writes, save `cursor`; one commit."""
        if not self._staged:
            # Outside the batch's transaction: a rolled-back first batch keeps the table.
            ensure_stage(self.model)
            self._staged = True
        ctx = self.ctx
        with ctx.page_transaction():
            counts, changed = upsert_keys(self.model, ctx.environment, list(self._rows.values()),
                                          key=self.key, update_fields=self.update_fields,
                                          staged=True)
            counts.unchanged = max(0, counts.unchanged - self._uncounted)
            for action in self._actions:
                action()
            if self.on_flush is not None:
                self.on_flush({self._tags[k] for k in changed})
            if cursor is not None:
                ctx.save_cursor(cursor)
            ctx.record(counts, pages=self._pages)
        self._rows, self._tags, self._actions = {}, {}, []
        self._pages = self._uncounted = 0
        self.flushes += 1
        return counts
