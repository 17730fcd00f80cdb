"""How the Vapi calls stream reads a time range exactly, with a listing that has no pages.

`GET /call` answers at most 1,000 calls within inclusive time bounds, in an order the
reference does not promise, with no total. So a range is read as windows: an answer shorter
than the limit holds every call of its window at that moment; a full one is split in two
halves (bounds inclusive, at millisecond steps: `[lo, mid]` and `[mid + 1 ms, hi]`) until
each half answers short. Equal timestamps are only a problem when more than the limit share
one millisecond: that instant is split again by the other time field (`createdAt` within one
`updatedAt`), and only if that too is full does the run fail, saying so (never a silent
partial mirror). Ids seen twice (a window's full answer, then its halves) are written once
more as unchanged rows.

An open range (`[lo, …)`) is read last: a call updated while the closed windows were read
moves past them, to `updatedAt` ≥ the moment of its change, and the open read that ends the
range holds it — that read is the one whose answer is short.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sync.providers.errors import UpstreamError
from sync.providers.validation import Rejected, moment
from sync.providers.vapi.client import LIMIT

MS = timedelta(milliseconds=1)
UPDATED, CREATED = "updatedAt", "createdAt"
Write = Callable[[list[Any]], None]
Fetch = Callable[..., list[Any]]


def iso(at: datetime) -> str:
    """An instant as Vapi writes them: UTC, milliseconds, "Z"."""
    at = at.astimezone(UTC)
    return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


def instant_of(item: Any, field: str) -> datetime | None:
    """The item's `field` time, None when absent or not a time (the writer refuses it)."""
    if not isinstance(item, dict):
        return None
    try:
        return moment(item.get(field), field)
    except Rejected:
        return None


class Reader:
    """Reads windows of calls through `fetch` and hands every answer to `write`."""

    def __init__(self, fetch: Fetch, write: Write, limit: int = LIMIT) -> None:
        self.fetch, self.write, self.limit = fetch, write, limit
        self.requests = 0
        self.splits = 0

    def _get(self, bounds: dict[str, str]) -> list[Any]:
        self.requests += 1
        items = self.fetch(limit=self.limit, **bounds)
        self.write(items)
        return items

    def closed(self, field: str, lo: datetime, hi: datetime,
               within: dict[str, str] | None = None) -> None:
        """Every call with `lo` ≤ `field` ≤ `hi` (and within the other bounds given)."""
        pending = [(lo, hi)]
        while pending:
            low, high = pending.pop()
            bounds = {**(within or {}), f"{field}Ge": iso(low), f"{field}Le": iso(high)}
            if len(self._get(bounds)) < self.limit:
                continue
            self.splits += 1
            if high - low < MS:
                if field == CREATED or within:
                    raise UpstreamError(f"more than {self.limit} calls share the instant "
                                        f"{iso(low)}: they cannot be listed whole")
                # One updatedAt millisecond holding a full answer: split it by createdAt.
                self.closed(CREATED, datetime(2000, 1, 1, tzinfo=UTC), high, within=bounds)
                continue
            mid = low + (high - low) / 2
            mid -= timedelta(microseconds=mid.microsecond % 1000)
            # Newest half last on the stack: read first, so recent calls come first.
            pending.append((low, mid))
            pending.append((mid + MS, high))

    def open(self, field: str, lo: datetime) -> datetime | None:
        """Every call with `field` ≥ `lo`, now; the latest `field` time the upstream showed
        in this read (None when it showed none).

        Any of its answers counts, not only the short one that ended it: a full answer's
        latest time `top` is read through as closed windows, a call changed meanwhile moves
        past `top` (the upstream's clock goes on) and the open range after it holds it, so
        once that range answered, every call at or before the latest time seen was read.
        (Only the last answer's counted before: a full answer followed by an empty one left
        the position where it was, and every run read the same history again.)"""
        latest: datetime | None = None
        while True:
            items = self._get({f"{field}Ge": iso(lo)})
            times = [t for t in (instant_of(i, field) for i in items) if t is not None]
            latest = max([*times, *([latest] if latest else [])], default=None)
            if len(items) < self.limit:
                return latest
            # Full: everything up to the latest time seen is read as closed windows, then
            # the open range after it (a call changed meanwhile has moved past it).
            top = max(times, default=lo)
            self.splits += 1
            self.closed(field, lo, top)
            lo = top + MS
