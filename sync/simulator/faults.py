"""Fault injection: deterministic random errors, slowness, truncation, inserts, revocation,
rate limiting. See the package docstring for the spec grammar.
"""
from __future__ import annotations

import math
import random
import threading
from collections import deque
from dataclasses import dataclass, field, fields
from typing import NamedTuple

# Each kind has its own generator, advanced once per in-scope request, so changing one rate
# never changes which requests another kind hits.
RANDOM_KINDS = ("slow", "500", "429", "502", "truncate")


class Decision(NamedTuple):
    """What the random faults do to one request."""

    delay: float
    error: int | None
    truncate: bool


NO_FAULT = Decision(0.0, None, False)

# Without a `ratelimit` fault the token is on a custom plan this large (per window): it is
# still counted and sent in the headers, by vendors that send them on every answer.
DEFAULT_PLAN_LIMIT = 100_000


class Quota(NamedTuple):
    """What `X-RateLimit-*` say of a token's window after a request."""

    limit: int
    remaining: int
    reset_at: float  # epoch seconds when the oldest request leaves the window

# Each fault as `to_spec` writes it, in spec order: (the setting that turns it on, its item).
SPEC_ITEMS = (
    ("error_500", "500={error_500:g}"),
    ("error_429", "429={error_429:g}:{retry_after}"),
    ("error_502", "502={error_502:g}"),
    ("slow", "slow={slow:g}:{slow_seconds:g}"),
    ("truncate", "truncate={truncate:g}"),
    ("insert", "insert={insert}@{insert_after_page}"),
    ("revoke_after", "revoke={revoke_after}"),
    ("ratelimit", "ratelimit={ratelimit}:{ratelimit_window:g}"),
)


@dataclass
class Faults:
    """Fault settings plus their runtime state (generators, counters, rate windows).

    Assign a new instance (or call :meth:`clear`) to start over: the state is per instance.
    """

    error_500: float = 0.0
    error_429: float = 0.0
    retry_after: int = 1
    error_502: float = 0.0
    slow: float = 0.0
    slow_seconds: float = 2.5
    truncate: float = 0.0
    insert: int = 0
    insert_after_page: int = 2
    insert_times: int = 0  # at most this many inserts (0: no bound)
    insert_early: bool = False  # insert before answering page K: the page already holds them
    revoke_after: int = 0
    ratelimit: int = 0
    ratelimit_window: float = 60.0
    only: tuple[str, ...] = ()
    seed: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False,
                                  compare=False)
    _rngs: dict[str, random.Random] = field(default_factory=dict, init=False, repr=False,
                                            compare=False)
    _successes: dict[str, int] = field(default_factory=dict, init=False, repr=False,
                                       compare=False)
    _windows: dict[str, deque[float]] = field(default_factory=dict, init=False, repr=False,
                                              compare=False)
    _inserts: int = field(default=0, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.only = tuple(self.only)
        for name in ("error_500", "error_429", "error_502", "slow", "truncate"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be a probability within 0..1, not {value}")
        checks = (
            (self.retry_after >= 0, "retry_after must be >= 0"),
            (self.slow_seconds >= 0, "slow_seconds must be >= 0"),
            (self.insert >= 0, "insert must be >= 0"),
            (self.insert_after_page >= 1, "insert_after_page must be >= 1"),
            (self.insert_times >= 0, "insert_times must be >= 0"),
            (self.revoke_after >= 0, "revoke_after must be >= 0"),
            (self.ratelimit >= 0, "ratelimit must be >= 0"),
            (self.ratelimit_window > 0, "ratelimit_window must be > 0"),
            (all(p.startswith("/") for p in self.only), "only prefixes must start with /"),
        )
        for ok, message in checks:
            if not ok:
                raise ValueError(message)
        self.reset()

    # --- construction --------------------------------------------------------------------

    @classmethod
    def parse(cls, spec: str | None, seed: int = 0) -> Faults:
        """Build from a spec such as ``"500=0.1,429=0.05:2,slow=0.01:2.5,insert=30@2"``."""
        kwargs: dict[str, object] = {"seed": seed}
        seen: set[str] = set()
        for raw in (spec or "").split(","):
            item = raw.strip()
            if not item:
                continue
            key, sep, value = (part.strip() for part in item.partition("="))
            key = key.lower()
            if not sep or not value:
                raise ValueError(f"fault {item!r} is not KEY=VALUE")
            if key in seen:
                raise ValueError(f"fault {key!r} is given twice")
            seen.add(key)
            kwargs.update(_parse_item(key, value))
        try:
            return cls(**kwargs)  # type: ignore[arg-type]
        except TypeError as exc:  # pragma: no cover - _parse_item only emits known fields
            raise ValueError(str(exc)) from exc

    def to_spec(self) -> str:
        """The canonical spec string of these settings (round-trips through parse)."""
        settings = vars(self)
        parts = [spec.format(**settings) for name, spec in SPEC_ITEMS if settings[name]]
        if self.insert:
            at = parts.index(SPEC_ITEMS[5][1].format(**settings))
            parts[at] += (f"x{self.insert_times}" if self.insert_times else "") + \
                (":early" if self.insert_early else "")
        if self.only:
            parts.append("only=" + "|".join(self.only))
        return ",".join(parts)

    def clear(self) -> None:
        """No faults any more (and fresh state); the seed is kept."""
        for f in fields(self):
            if f.init and f.name != "seed":
                setattr(self, f.name, f.default)
        self.reset()

    def reset(self) -> None:
        """Restart generators, success counters and rate windows."""
        with self._lock:
            self._rngs = {k: random.Random(f"{self.seed}|fault|{k}") for k in RANDOM_KINDS}
            self._successes = {}
            self._windows = {}
            self._inserts = 0

    @property
    def active(self) -> bool:
        return any(getattr(self, name) for name, _spec in SPEC_ITEMS)

    # --- runtime -------------------------------------------------------------------------

    def insert_fires(self, page: int) -> bool:
        """Whether serving `page` of a call listing inserts calls now (counted)."""
        with self._lock:
            if not self.insert or page != self.insert_after_page or (
                    self.insert_times and self._inserts >= self.insert_times):
                return False
            self._inserts += 1
            return True

    def applies(self, path: str) -> bool:
        """Faults touch API paths only (not the health check: unknown paths are answered 404
        before faults), and only under ``only`` prefixes when given."""
        if path.rstrip("/") in ("", "/healthz"):
            return False
        return not self.only or any(path.startswith(p) for p in self.only)

    def draw(self) -> Decision:
        with self._lock:
            r = {k: rng.random() for k, rng in self._rngs.items()}
        error = None
        if r["500"] < self.error_500:
            error = 500
        elif r["429"] < self.error_429:
            error = 429
        elif r["502"] < self.error_502:
            error = 502
        delay = self.slow_seconds if r["slow"] < self.slow else 0.0
        return Decision(delay, error, r["truncate"] < self.truncate)

    def admit(self, token: str, now: float) -> int | None:
        """Rate limit: None if admitted (and counted), else the Retry-After seconds until a
        slot frees. Every token is counted, within `DEFAULT_PLAN_LIMIT` without the fault."""
        limit = self.ratelimit or DEFAULT_PLAN_LIMIT
        with self._lock:
            window = self._window(token, now)
            if len(window) >= limit:
                return max(1, math.ceil(window[0] + self.ratelimit_window - now))
            window.append(now)
            return None

    def quota(self, token: str, now: float, wall: float) -> Quota:
        """The token's limit, what is left of it and when it resets (`wall`: epoch now)."""
        limit = self.ratelimit or DEFAULT_PLAN_LIMIT
        with self._lock:
            window = self._window(token, now)
            oldest = window[0] if window else now
            return Quota(limit, max(0, limit - len(window)),
                         wall + oldest + self.ratelimit_window - now)

    def _window(self, token: str, now: float) -> deque[float]:
        window = self._windows.setdefault(token, deque())
        while window and window[0] <= now - self.ratelimit_window:
            window.popleft()
        return window

    def succeeded(self, token: str) -> bool:
        """Count a successful request; True when the token must now be revoked."""
        if not self.revoke_after:
            return False
        with self._lock:
            n = self._successes[token] = self._successes.get(token, 0) + 1
        return n >= self.revoke_after


def _probability(key: str, value: str) -> float:
    try:
        p = float(value)
    except ValueError:
        raise ValueError(f"fault {key!r}: {value!r} is not a probability") from None
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"fault {key!r}: probability {p} is outside 0..1")
    return p


def _integer(key: str, value: str, minimum: int) -> int:
    try:
        n = int(value)
    except ValueError:
        raise ValueError(f"fault {key!r}: {value!r} is not an integer") from None
    if n < minimum:
        raise ValueError(f"fault {key!r}: {n} is below {minimum}")
    return n


def _seconds(key: str, value: str) -> float:
    try:
        s = float(value)
    except ValueError:
        raise ValueError(f"fault {key!r}: {value!r} is not a number of seconds") from None
    if s < 0 or not math.isfinite(s):
        raise ValueError(f"fault {key!r}: seconds must be >= 0")
    return s


def _parse_item(key: str, value: str) -> dict[str, object]:
    head, _, tail = value.partition(":")
    if key in ("500", "502", "truncate"):
        name = {"500": "error_500", "502": "error_502", "truncate": "truncate"}[key]
        if tail:
            raise ValueError(f"fault {key!r} takes no ':' part")
        return {name: _probability(key, value)}
    if key == "429":
        out: dict[str, object] = {"error_429": _probability(key, head)}
        if tail:
            out["retry_after"] = _integer(key, tail, 0)
        return out
    if key == "slow":
        out = {"slow": _probability(key, head)}
        if tail:
            out["slow_seconds"] = _seconds(key, tail)
        return out
    if key == "insert":
        head, _, when = value.partition(":")
        if when not in ("", "early"):
            raise ValueError("fault 'insert': the ':' part can only be 'early'")
        head, _, times = head.partition("x")
        count, _, page = head.partition("@")
        out = {"insert": _integer(key, count, 0), "insert_early": when == "early"}
        if page:
            out["insert_after_page"] = _integer(key, page, 1)
        if times:
            out["insert_times"] = _integer(key, times, 1)
        return out
    if key == "revoke":
        return {"revoke_after": _integer(key, value, 1)}
    if key == "ratelimit":
        out = {"ratelimit": _integer(key, head, 1)}
        if tail:
            window = _seconds(key, tail)
            if window <= 0:
                raise ValueError("fault 'ratelimit': the window must be > 0 seconds")
            out["ratelimit_window"] = window
        return out
    if key == "only":
        prefixes = tuple(p.strip() for p in value.split("|") if p.strip())
        if not prefixes or not all(p.startswith("/") for p in prefixes):
            raise ValueError("fault 'only': give path prefixes starting with /, joined by |")
        return {"only": prefixes}
    if key == "seed":
        return {"seed": _integer(key, value, 0)}
    raise ValueError(
        f"unknown fault {key!r}; known: 500, 429, 502, slow, truncate, insert, revoke, "
        "ratelimit, only, seed"
    )
