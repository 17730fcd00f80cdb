"""Read the next page while the current one is written: fetching and writing overlap.

One background thread makes the requests (the HTTP session is only ever used by it while a
prefetcher is open). Only requests the stream would make anyway are asked for ahead, so
prefetching never changes what the upstream sees.
"""
from __future__ import annotations

from collections.abc import Callable, Hashable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from django.db import connections


class Prefetcher:
    """`get(key)` returns `fetch(*key)`, started earlier if `ahead(key)` was called."""

    def __init__(self, fetch: Callable[..., Any]) -> None:
        self.fetch = fetch
        self.pool = ThreadPoolExecutor(1, thread_name_prefix="sync-prefetch")
        self.pending: dict[Hashable, Future] = {}

    def ahead(self, key: tuple) -> None:
        if key not in self.pending:
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

    def close(self) -> None:
        for future in self.pending.values():
            future.cancel()
        self.pending.clear()
        # The cache (budget, lock) may have opened a connection in the worker thread.
        self.pool.submit(connections.close_all).result()
        self.pool.shutdown(wait=True)
