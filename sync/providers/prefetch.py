"""Read the next page while the current one is written: fetching and writing overlap.

One background thread makes the requests (the HTTP session is only ever used by it while a
prefetcher is open). Only requests the stream would make anyway are asked for ahead, so
prefetching never changes what the upstream sees. Not inside a transaction when the cache is
the database's (a test's, without Redis): the thread's budget writes would wait on the rows the
open transaction holds, and that transaction on the thread.
"""
from __future__ import annotations

from collections.abc import Callable, Hashable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from django.conf import settings
from django.db import connection, connections


class Prefetcher:
    """`get(key)` returns `fetch(*key)`, started earlier if `ahead(key)` was called."""

    def __init__(self, fetch: Callable[..., Any]) -> None:
        self.fetch = fetch
        shares_rows = connection.in_atomic_block and settings.CACHES["default"][
            "BACKEND"].endswith(".DatabaseCache")
        self.pool = None if shares_rows else ThreadPoolExecutor(
            1, thread_name_prefix="sync-prefetch")
        self.pending: dict[Hashable, Future] = {}

    def ahead(self, key: tuple) -> None:
        if self.pool is not None and key not in self.pending:
            self.pending[key] = self.pool.submit(self.fetch, *key)

    def peek(self, key: tuple) -> Any | None:
        """The result asked for with `ahead(key)` if it is in (and it is still kept for
        `get`), else None."""
        future = self.pending.get(key)
        if future is None or not future.done() or future.cancelled() or future.exception():
            return None
        return future.result()

    def get(self, key: tuple) -> Any:
        future = self.pending.pop(key, None)
        if future is not None:
            return future.result()
        return self.fetch(*key)

    def run(self, work: Callable[[], Any]) -> Any:
        """`work()` on the fetching thread, once what was asked ahead is fetched: what it
        requests (a webhook round's reading, `sync.webhooks.serving`) uses the session from
        the one thread that uses it."""
        if self.pool is None:
            return work()
        return self.pool.submit(work).result()

    def close(self) -> None:
        if self.pool is None:
            return
        for future in self.pending.values():
            future.cancel()
        self.pending.clear()
        # The cache (budget, lock) may have opened a connection in the worker thread.
        self.pool.submit(connections.close_all).result()
        self.pool.shutdown(wait=True)
