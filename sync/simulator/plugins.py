"""The vendors the simulator speaks: each provider package's `simulator` module (or package,
`sync/providers/<name>/simulator`), exporting `PLUGIN`, found by module name: the core serves
them without naming them.

A plug-in gives the core what differs per vendor and nothing else: its token prefix and where
its API lives, its default environments, a store per environment, the routes it answers and
its answers, its error shapes for the fault pipeline (401, 405, 429, 500), record tampering,
the insert fault and late statuses on its store, and — optional — members it adds to the
simulator (`sim.<name>`), to its ground truth (`sim.truth.<name>`) and what it does when the
clock moves (e.g. deliver webhooks). Clock, tokens, faults, rate limit, truncation and the
request log stay the core's, the same for every vendor.
"""
from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from .response import Response

if TYPE_CHECKING:
    from .tamper import Tampering

# `sync.simulator.config.EnvironmentSpec`: the spec asks the plug-ins whether its vendor is
# served, so this module does not import it back (not even for typing: `make lint` forbids
# import cycles, TYPE_CHECKING ones included).
EnvironmentSpec = Any


class Plugin:
    """One vendor's simulator (subclass it; the defaults are 'nothing of that kind')."""

    key: str = ""  # `EnvironmentSpec.vendor`, the provider's key
    label: str = ""  # for people: the command's banner
    token_prefix: str = ""
    # Where its API lives below the server's base URL (`server.url_of(key)`).
    base_path: str = ""
    # Routes answered to a POST (every other route takes a GET).
    post_routes: frozenset[str] = frozenset()
    # Every answer to a known token carries X-RateLimit-Limit/-Remaining/-Reset.
    rate_limit_headers: bool = False
    # Its volume follows `SimulatorConfig.dips` (the anomaly alerts' outages).
    volume_dips: bool = False
    # `make demo`'s environments of this vendor: workspace key → environment name (empty: its
    # first default workspace, named after the vendor).
    demo_names: dict[str, str] = {}

    def default_environments(self) -> dict[str, EnvironmentSpec]:
        """The environments a simulator serves when none are configured."""
        return {}

    def check_spec(self, spec: EnvironmentSpec) -> None:
        """ValueError when an environment spec makes no sense for this vendor."""

    def make_store(self, sim: Any, env: str, spec: EnvironmentSpec) -> Any:
        """The environment's data at `sim`'s seed, first day and settings."""
        raise NotImplementedError

    def route(self, parts: list[str]) -> tuple[str, str | None] | None:
        """(route name, its argument) of a path (split on "/") this vendor answers."""
        raise NotImplementedError

    def not_found(self, parts: list[str]) -> Response | None:
        """The vendor's 404 for an unknown path under its own prefix (None: not its)."""
        return None

    def answer(self, sim: Any, env: str, route: tuple[str, str | None],
               query: dict[str, list[str]], body: bytes) -> Response:
        """An authenticated request's answer (under `sim.lock`)."""
        raise NotImplementedError

    def error(self, status: int, state: str = "") -> Response:
        """Its 401 (`state`: missing, unknown, revoked), 405 (`state`: the method), 429 and
        500 answers."""
        raise NotImplementedError

    def tamper(self, tampering: Tampering, route: str, query: dict[str, list[str]],
               body: bytes) -> bytes:
        """A 200 answer's body with the environment's record edits made."""
        return body

    def insert(self, sim: Any, store: Any, count: int, filt: object, lo: int | None,
               hi: int | None) -> list[Any]:
        """The insert fault: `count` calls arriving now, within a listing's filter and days."""
        raise NotImplementedError

    def end_late(self, sim: Any, store: Any, call_id: str, until_ts: int) -> None:
        """A late status: the call stays open until `until_ts`."""
        raise NotImplementedError

    def members(self, sim: Any) -> dict[str, Any]:
        """Attributes this vendor adds to a simulator (`sim.<name>`), made once per simulator."""
        return {}

    def truth(self, sim: Any) -> object | None:
        """Its ground truth (its methods are `sim.truth`'s), or None."""
        return None

    def clock_moved(self, sim: Any, before: int, after: int) -> None:
        """The clock went from `before` to `after` (epoch seconds, `after` later)."""

    def describe(self, sim: Any, env: str) -> str:
        """What the command prints after an environment's token (e.g. its agent ids)."""
        return ""


@cache
def plugins() -> dict[str, Plugin]:
    """Every vendor by key."""
    from sync.providers.discover import provider_modules

    return {module.PLUGIN.key: module.PLUGIN for module in provider_modules("simulator")}


def route_of(parts: list[str]) -> tuple[str, tuple[str, str | None]] | None:
    """(vendor, route) of the plug-in that answers this path, if any."""
    for key, plugin in plugins().items():
        route = plugin.route(parts)
        if route is not None:
            return key, route
    return None


def not_found(parts: list[str]) -> Response | None:
    """The 404 of the vendor whose prefix this unknown path is under, if any."""
    for plugin in plugins().values():
        resp = plugin.not_found(parts)
        if resp is not None:
            return resp
    return None
