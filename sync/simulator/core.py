"""The Simulator: clock, tokens, per-environment stores, faults; and ``running_simulator``."""
from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from .catalog import ordinal_of, seeded, to_ts
from .config import ORIGINS, TALKOVER, SimulatorConfig, as_utc
from .data import CallRec, Profile
from .faults import Faults
from .origins import OriginsStore
from .plugins import plugins
from .server import SimulatorServer
from .store import Filter, TalkoverStore
from .tamper import Tampering
from .truth import GroundTruth
from .webhooks import Webhooks

TOKEN_PREFIX = {TALKOVER: "talq_", ORIGINS: "orig_"}


class Simulator:
    """Both vendors' data for every configured environment, at a movable clock."""

    def __init__(self, config: SimulatorConfig | None = None) -> None:
        self.config = config = config or SimulatorConfig()
        # One lock for all stores: generation and caches are not thread-safe, and the work
        # done under it per request is small.
        self.lock = threading.RLock()
        self.end_date: date = config.resolved_end_date()
        self.start_date: date = self.end_date - timedelta(days=config.days - 1)
        self._base_ts = to_ts(config.resolved_now())
        self._base_mono = time.monotonic()
        first = self.start_date.toordinal()
        self.date_zone = ZoneInfo(config.date_zone) if config.date_zone else None
        self._talkover: dict[str, TalkoverStore] = {}
        self._origins: dict[str, OriginsStore] = {}
        # Environments of plug-in vendors (`sync.simulator.plugins`): env -> (vendor, store).
        self._plugged: dict[str, tuple[str, object]] = {}
        self.tokens: dict[str, str] = {}
        self._generation: dict[str, int] = {}
        self._token_env: dict[str, str] = {}
        self._revoked: set[str] = set()
        for env, spec in config.environments.items():
            cpd = spec.calls_per_day
            if spec.vendor in plugins():
                self._plugged[env] = (spec.vendor, plugins()[spec.vendor].make_store(
                    env, spec, config.seed, first,
                    config.calls_per_day if cpd is None else cpd, self._lateness()))
            elif spec.vendor == TALKOVER:
                profile = Profile(config.seed, env, config.calls_per_day if cpd is None else cpd,
                                  spec.utc_offset_hours, config.testing_rate, first)
                if config.lateness is not None:
                    acc, bands = 0.0, []
                    for share, low, high in config.lateness.bands:
                        acc += share
                        bands.append((acc, int(low * 3600), int(high * 3600)))
                    profile.lateness = tuple(bands)
                if config.answer_drop is not None:
                    drop = config.answer_drop
                    profile.answer_drop = (to_ts(drop.start), to_ts(drop.end), drop.share)
                profile.dips = tuple((to_ts(d.start), to_ts(d.end), d.factor)
                                     for d in config.dips)
                self._talkover[env] = TalkoverStore(env, profile, first,
                                                    config.callback_match_days,
                                                    config.cache_days, config.seed,
                                                    self.date_zone)
            else:
                self._origins[env] = OriginsStore(
                    env, spec.agent_ids, config.seed, first, 40 if cpd is None else cpd,
                    spec.utc_offset_hours, config.bad_record_rate, config.cache_days)
            self._set_token(env, config.tokens.get(env) or self._derive_token(env, 0))
        self._faults = Faults(seed=config.seed)
        self.tamperings: dict[str, Tampering] = {}
        self.truth = GroundTruth(self)
        self.webhooks = Webhooks()

    def _lateness(self) -> tuple[tuple[float, int, int], ...]:
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

        Moving it forward delivers the webhooks of the calls that ended meanwhile."""
        with self.lock:
            before = self.now_ts()
            self._base_ts = to_ts(as_utc(value).replace(microsecond=0))
            self._base_mono = time.monotonic()
            self.webhooks.clock_moved(self, before, self.now_ts())

    def forbid_webhooks(self, env: str, agent_id: str | None = None) -> None:
        """The token may not manage webhooks (of one agent, or of all): POST answers 403."""
        with self.lock:
            self.webhooks.forbidden.add((env, agent_id))

    def advance(self, delta: timedelta) -> None:
        self.set_now(self.now + delta)

    # --- environments and tokens ---------------------------------------------------------

    @property
    def talkover_envs(self) -> list[str]:
        return list(self._talkover)

    @property
    def origins_envs(self) -> list[str]:
        return list(self._origins)

    def talkover_store(self, env: str) -> TalkoverStore:
        try:
            return self._talkover[env]
        except KeyError:
            raise KeyError(f"{env!r} is not a Talkover environment: {self.talkover_envs}") from None

    def origins_store(self, env: str) -> OriginsStore:
        try:
            return self._origins[env]
        except KeyError:
            raise KeyError(f"{env!r} is not an Origins environment: {self.origins_envs}") from None

    def origins_agent_ids(self, env: str) -> tuple[int, ...]:
        return self.origins_store(env).agent_ids

    def vendor(self, env: str) -> str:
        if env in self._plugged:
            return self._plugged[env][0]
        return TALKOVER if env in self._talkover else ORIGINS

    def envs_of(self, vendor: str) -> list[str]:
        """The environments of one vendor, in configuration order."""
        return [env for env in self.config.environments if self.vendor(env) == vendor]

    def plugged_store(self, env: str) -> object:
        """The store of a plug-in vendor's environment (`sync.simulator.plugins`)."""
        try:
            return self._plugged[env][1]
        except KeyError:
            raise KeyError(f"{env!r} is not a plug-in vendor's environment") from None

    def _derive_token(self, env: str, generation: int) -> str:
        bits = seeded(self.config.seed, env, "token", generation).getrandbits(160)
        vendor = self.vendor(env)
        prefix = plugins()[vendor].token_prefix if vendor in plugins() else TOKEN_PREFIX[vendor]
        return f"{prefix}{bits:040x}"

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

    def insert_calls(self, env: str, count: int, filt: Filter | None = None,
                     lo: int | None = None, hi: int | None = None) -> list[CallRec]:
        """What the insert fault does; callable directly. ``lo``/``hi`` are date ordinals."""
        with self.lock:
            if env in self._plugged:
                vendor, store = self._plugged[env]
                return plugins()[vendor].insert(store, count, self.now_ts())
            return self.talkover_store(env).insert(count, filt or Filter(), lo, hi,
                                                   self.now_ts())

    def end_late(self, env: str, call_id: str, until: datetime) -> None:
        """A late status change: the call (by id or SID) stays answered (or ringing) until
        ``until``, then takes its final status, hours after it began if so asked."""
        with self.lock:
            if env in self._plugged:
                vendor, store = self._plugged[env]
                plugins()[vendor].end_late(store, call_id, to_ts(as_utc(until)), self.now_ts())
                return
            self.talkover_store(env).end_late(call_id, to_ts(as_utc(until)), self.now_ts())

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

    def day_ordinals(self) -> range:
        """Ordinals of the days that have calls at the current clock."""
        return range(self.start_date.toordinal(), ordinal_of(self.now_ts()) + 1)


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
