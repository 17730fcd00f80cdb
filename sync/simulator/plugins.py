"""Vendors whose simulator lives in their own provider package (`sync/providers/<name>/
simulator.py`, exporting `PLUGIN`), found by module name: the core serves them without
naming them.

A plug-in gives the core what differs per vendor and nothing else: its token prefix, a store
per environment (built from the seed, the clock's first day and the environment's spec), the
routes it answers, its error shapes for the fault pipeline (401, 429, 500), and the insert
fault and late statuses on its store. Clock, tokens, faults, rate limit, truncation and the
request log stay the core's, the same for every vendor.
"""
from __future__ import annotations

from functools import cache
from typing import Any, Protocol

from .talkover_api import Response


class Plugin(Protocol):
    key: str  # `EnvironmentSpec.vendor`
    token_prefix: str

    def make_store(self, env: str, spec: Any, seed: int, first: int, calls_per_day: int,
                   lateness: tuple[tuple[float, int, int], ...]) -> Any: ...

    def route(self, parts: list[str]) -> tuple[str, str | None] | None: ...

    def answer(self, store: Any, route: tuple[str, str | None],
               query: dict[str, list[str]], now_ts: int) -> Response: ...

    def error(self, status: int, state: str = "") -> Response: ...

    def insert(self, store: Any, count: int, now_ts: int) -> list[Any]: ...

    def end_late(self, store: Any, call_id: str, until_ts: int, now_ts: int) -> None: ...


@cache
def plugins() -> dict[str, Plugin]:
    """Every plug-in vendor by key."""
    from sync.providers.discover import provider_modules

    return {module.PLUGIN.key: module.PLUGIN for module in provider_modules("simulator")}


def route_of(parts: list[str]) -> tuple[str, tuple[str, str | None]] | None:
    """(vendor, route) of the plug-in that answers this path, if any."""
    for key, plugin in plugins().items():
        route = plugin.route(parts)
        if route is not None:
            return key, route
    return None
