"""Sorting of the agents table: every column that means something, agent and environment
included. The rows are a report's per-agent figures (one per agent and environment, a few
hundred at most), so they are sorted in Python after the report, not in SQL."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

DEFAULT_SORT = "-total"


def _figure(name: str) -> Callable[[Any, str], Any]:
    return lambda row, env: getattr(row.figures, name)


SORTS: dict[str, Callable[[Any, str], Any]] = {
    "agent": lambda row, env: (row.name or row.agent_id).casefold(),
    "environment": lambda row, env: env.casefold(),
    **{name: _figure(name) for name in (
        "total", "answered", "answer_rate", "no_answer", "busy", "failed", "other",
        "talk_time_total",
        "talk_time_avg", "duration_median", "duration_p90")},
}


def sort_rows(rows: list[tuple[Any, str]], sort: str) -> tuple[list[tuple[Any, str]], str]:
    """(row, environment name) pairs ordered by `sort` ("-" = descending); an unknown key
    falls back to the busiest first. Missing figures (no connected call) sort last."""
    key = sort.lstrip("-")
    if key not in SORTS:
        sort, key = DEFAULT_SORT, DEFAULT_SORT.lstrip("-")
    value = SORTS[key]
    present = [r for r in rows if value(*r) is not None]
    absent = [r for r in rows if value(*r) is None]
    present.sort(key=lambda r: value(*r), reverse=sort.startswith("-"))
    return present + absent, sort
