"""The Simulator: clock, tokens, per-environment stores, faults; and ``running_simulator``."""
from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from .catalog import seeded, to_ts
from .config import SimulatorConfig, as_utc
from .faults import Faults
from .plugins import plugins
from .server import SimulatorServer
from .tamper import Tampering
from .truth import GroundTruth


class Simulator:
    """Every configured environment's data, served by its vendor's plug-in
    (`sync.simulator.plugins`), at a movable clock. A vendor may add members of its own
    (`Plugin.members`, e.g. its store's accessor), read as attributes of the simulator."""

    def __init__(self, config: SimulatorConfig | None = None) -> None:
        self.config = config = config or SimulatorConfig()
        # One lock for all stores: generation and caches are not thread-safe, and the work
        # done under it per request is small.
        self.lock = threading.RLock()
        self.end_date: date = config.resolved_end_date()
        self.start_date: date = self.end_date - timedelta(days=config.days - 1)
        self._base_ts = to_ts(config.resolved_now())
        self._base_mono = time.monotonic()
        self.date_zone = ZoneInfo(config.date_zone) if config.date_zone else None
        # env -> (vendor, the store its plug-in made)
        self._stores: dict[str, tuple[str, object]] = {}
        self.tokens: dict[str, str] = {}
        self._generation: dict[str, int] = {}
        self._token_env: dict[str, str] = {}
        self._revoked: set[str] = set()
        for env, spec in config.environments.items():
            self._stores[env] = (spec.vendor,
                                 plugins()[spec.vendor].make_store(self, env, spec))
            self._set_token(env, config.tokens.get(env) or self._derive_token(env, 0))
        self._faults = Faults(seed=config.seed)
        self.tamperings: dict[str, Tampering] = {}
        self._members: dict[str, object] = {}
        for plugin in plugins().values():
            self._members.update(plugin.members(self))
        self.truth = GroundTruth(self, [plugin.truth(self) for plugin in plugins().values()])

    def __getattr__(self, name: str) -> Any:
        members = self.__dict__.get("_members", {})
        if name in members:
            return members[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def lateness_bands(self) -> tuple[tuple[float, int, int], ...]:
        """The lateness bands as (cumulative share, low seconds, high seconds)."""
        if self.config.lateness is None:
            return ()
        acc, bands = 0.0, []
        for share, low, high in self.config.lateness.bands:
            acc += share
            bands.append((acc, int(low * 3600), int(high * 3600)))
        return tuple(bands)

    # --- clock ---------------------------------------------------------------------------

    def now_ts(self) -> int:
        if self.config.realtime:
            return self._base_ts + int(time.monotonic() - self._base_mono)
        return self._base_ts

    @property
    def now(self) -> datetime:
        return datetime.fromtimestamp(self.now_ts(), UTC)

    @property
    def today(self) -> date:
        """The upstream's today: the date-filter day (``date_zone``'s, else UTC's) of now."""
        if self.date_zone is None:
            return self.now.date()
        return self.now.astimezone(self.date_zone).date()

    def set_now(self, value: datetime) -> None:
        """Move the clock (either way); naive datetimes are UTC; sub-seconds are dropped.

        Moving it forward tells every vendor (`Plugin.clock_moved`: webhook deliveries)."""
        with self.lock:
            before = self.now_ts()
            self._base_ts = to_ts(as_utc(value).replace(microsecond=0))
            self._base_mono = time.monotonic()
            after = self.now_ts()
            if after > before:
                for plugin in plugins().values():
                    plugin.clock_moved(self, before, after)

    def advance(self, delta: timedelta) -> None:
        self.set_now(self.now + delta)

    # --- environments and tokens ---------------------------------------------------------

    def vendor(self, env: str) -> str:
        try:
            return self._stores[env][0]
        except KeyError:
            raise KeyError(f"no environment {env!r}: {sorted(self._stores)}") from None

    def envs_of(self, vendor: str) -> list[str]:
        """The environments of one vendor, in configuration order."""
        return [env for env, (of, _store) in self._stores.items() if of == vendor]

    def store(self, env: str, vendor: str | None = None) -> Any:
        """The environment's store (its vendor's plug-in made it); KeyError when it is not
        one of `vendor`'s (if given)."""
        of, store = self._stores.get(env, (None, None))
        if of is None or vendor not in (None, of):
            label = plugins()[vendor].label if vendor in plugins() else "known"
            known = self.envs_of(vendor) if vendor else list(self._stores)
            raise KeyError(f"{env!r} is not a {label} environment: {known}")
        return store

    def _derive_token(self, env: str, generation: int) -> str:
        bits = seeded(self.config.seed, env, "token", generation).getrandbits(160)
        return f"{plugins()[self.vendor(env)].token_prefix}{bits:040x}"

    def _set_token(self, env: str, token: str) -> None:
        if token in self._token_env:
            raise ValueError(f"token for {env!r} is already used by {self._token_env[token]!r}")
        self.tokens[env] = token
        self._token_env[token] = env

    def lookup_token(self, token: str | None, vendor: str) -> tuple[str | None, str]:
        """(environment, state): state is ok, missing, unknown (or other vendor), revoked."""
        if token is None:
            return None, "missing"
        env = self._token_env.get(token)
        if env is None or self.vendor(env) != vendor:
            return env, "unknown"
        if token in self._revoked:
            return env, "revoked"
        return env, "ok"

    def revoke(self, env: str) -> None:
        """The environment's current token starts answering 401 INVALID_TOKEN."""
        with self.lock:
            self._revoked.add(self.tokens[env])

    def rotate_token(self, env: str) -> str:
        """Regenerate the environment's token: the old one is revoked; returns the new one."""
        with self.lock:
            self.revoke(env)
            self._generation[env] = self._generation.get(env, 0) + 1
            self._set_token(env, self._derive_token(env, self._generation[env]))
            return self.tokens[env]

    def is_revoked(self, env: str) -> bool:
        return self.tokens[env] in self._revoked

    # --- faults and inserts --------------------------------------------------------------

    @property
    def faults(self) -> Faults:
        return self._faults

    @faults.setter
    def faults(self, value: Faults | str | None) -> None:
        if value is None or isinstance(value, str):
            value = Faults.parse(value, seed=self.config.seed)
        self._faults = value

    def insert_calls(self, env: str, count: int, filt: object = None,
                     lo: int | None = None, hi: int | None = None) -> list[Any]:
        """What the insert fault does; callable directly. ``filt`` is the vendor's listing
        filter (None: none); ``lo``/``hi`` are date ordinals (None: the whole data set)."""
        with self.lock:
            vendor, store = self._stores[env]
            return plugins()[vendor].insert(self, store, count, filt, lo, hi)

    def end_late(self, env: str, call_id: str, until: datetime) -> None:
        """A late status change: the call (by id or SID) stays answered (or ringing) until
        ``until``, then takes its final status, hours after it began if so asked."""
        with self.lock:
            vendor, store = self._stores[env]
            plugins()[vendor].end_late(self, store, call_id, to_ts(as_utc(until)))

    # --- hostile records ------------------------------------------------------------------

    def tamper(self, env: str) -> Tampering:
        """The environment's record edits (created empty): see `sync.simulator.tamper`."""
        if env not in self.tokens:
            raise KeyError(f"no environment {env!r}: {sorted(self.tokens)}")
        with self.lock:
            return self.tamperings.setdefault(env, Tampering())

    def untamper(self, env: str) -> None:
        """Serve the environment's records as generated again."""
        with self.lock:
            self.tamperings.pop(env, None)

    # --- serving -------------------------------------------------------------------------

    def serve(self, host: str = "127.0.0.1", port: int = 0) -> SimulatorServer:
        return SimulatorServer(self, host, port)


@contextmanager
def running_simulator(config: SimulatorConfig | None = None,
                      **faults: object) -> Iterator[tuple[Simulator, SimulatorServer]]:
    """A served simulator for a ``with`` block; ``faults`` are :class:`Faults` fields, or
    ``spec="500=0.1,..."``."""
    sim = Simulator(config)
    spec = faults.pop("spec", None)
    if spec is not None and faults:
        raise TypeError("give either spec=... or Faults fields, not both")
    if spec is not None:
        sim.faults = Faults.parse(str(spec), seed=sim.config.seed)
    elif faults:
        faults.setdefault("seed", sim.config.seed)
        sim.faults = Faults(**faults)  # type: ignore[arg-type]
    server = sim.serve()
    try:
        yield sim, server
    finally:
        server.stop()
