"""After a back-fill, the call partitions it filled are read as they would be at rest: the
planner has their statistics (`sync.partitions.analyze`) and the search index holds their
entries merged (`sync.partitions.pending`), now rather than when autovacuum comes. Both
providers' calls streams call `settle` after their last batch of a back-fill."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import TYPE_CHECKING

from sync.partitions.analyze import analyze_filled, filled_tables
from sync.partitions.pending import merge_pending

if TYPE_CHECKING:
    from sync.run_context import RunContext


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
