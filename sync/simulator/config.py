"""Configuration of the upstream simulator: environments, volumes, clock, rates."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


@dataclass(frozen=True)
class EnvironmentSpec:
    """One upstream environment (a customer's workspace): its vendor (a provider's key, whose
    simulator plug-in serves it: `sync.simulator.plugins`) and its shape.

    ``calls_per_day`` overrides :attr:`SimulatorConfig.calls_per_day` for this environment
    (a vendor may have its own default). ``agent_ids`` are for vendors whose agents we are
    told, not listed. ``utc_offset_hours`` places the business-hours peak of the diurnal
    pattern.
    """

    vendor: str
    agent_ids: tuple[int, ...] = ()
    calls_per_day: int | None = None
    utc_offset_hours: int = 0

    def __post_init__(self) -> None:
        from .plugins import plugins

        if self.vendor not in plugins():
            raise ValueError(f"vendor must be one of {tuple(plugins())}, not {self.vendor!r}")
        plugins()[self.vendor].check_spec(self)
        if len(set(self.agent_ids)) != len(self.agent_ids):
            raise ValueError("agent_ids must be distinct")
        if self.calls_per_day is not None and self.calls_per_day < 0:
            raise ValueError("calls_per_day must be >= 0")
        if not -12 <= self.utc_offset_hours <= 14:
            raise ValueError("utc_offset_hours must be within -12..14")


def default_environments() -> dict[str, EnvironmentSpec]:
    """Every vendor's default environments (`Plugin.default_environments`)."""
    from .plugins import plugins

    return {env: spec for plugin in plugins().values()
            for env, spec in plugin.default_environments().items()}


@dataclass(frozen=True)
class AnswerDrop:
    """A window in which answered calls end unanswered: the alerts tests' outage (read by the
    vendors whose plug-ins say so).

    Calls created in [start, end) (UTC) whose final status would be answered or completed end
    as ``no-answer`` with probability ``share``; outside the window nothing changes.
    """

    start: datetime
    end: datetime
    share: float = 0.8

    def __post_init__(self) -> None:
        if not self.start < self.end:
            raise ValueError("answer_drop needs start < end")
        if not 0.0 <= self.share <= 1.0:
            raise ValueError("answer_drop share must be within 0..1")


@dataclass(frozen=True)
class Lateness:
    """When a vendor reports a call's final status: a long tail, as vendors bound nothing.

    ``bands`` are ``(share, min_hours, max_hours)``: that share of the calls that end
    (completed, no-answer, busy, failed) keeps its last open status (answered, or ringing)
    until a time drawn uniformly that many hours after it really ended; the rest are final
    at once. By default 1 % are final 0.5-4 h late, 0.2 % 12-30 h late and 0.05 % 72-120 h
    late (still open when they leave a two-day lookback). While it waits, an answered call shows
    its real talk time (its duration stops growing when it hangs up); the final status comes
    with that duration and ``updated_at`` = the moment it was reported.
    """

    bands: tuple[tuple[float, float, float], ...] = ((0.01, 0.5, 4.0), (0.002, 12.0, 30.0),
                                                     (0.0005, 72.0, 120.0))

    def __post_init__(self) -> None:
        if sum(b[0] for b in self.bands) > 1.0:
            raise ValueError("lateness shares add up to more than 1")
        for share, low, high in self.bands:
            if not 0.0 <= share <= 1.0 or not 0.0 <= low <= high:
                raise ValueError("a lateness band is share (0..1):min_hours-max_hours, "
                                 "min <= max")

    @classmethod
    def parse(cls, spec: str) -> Lateness | None:
        """``"off"`` (None), ``""`` (the default) or ``"0.04:0.5-4,0.01:12-30"``."""
        spec = spec.strip()
        if spec.lower() in ("off", "none", "0"):
            return None
        if not spec:
            return cls()
        bands = []
        for item in spec.split(","):
            match = re.fullmatch(r"\s*([0-9.]+)\s*:\s*([0-9.]+)\s*-\s*([0-9.]+)\s*", item)
            if not match:
                raise ValueError(f"{item.strip()!r} is not SHARE:MIN_HOURS-MAX_HOURS")
            try:
                share, low, high = (float(g) for g in match.groups())
            except ValueError:
                raise ValueError(f"{item.strip()!r} is not SHARE:MIN_HOURS-MAX_HOURS") from None
            bands.append((share, low, high))
        return cls(tuple(bands))

    def to_spec(self) -> str:
        return ",".join(f"{s:g}:{lo:g}-{hi:g}" for s, lo, hi in self.bands)


@dataclass(frozen=True)
class Dip:
    """A window in which a vendor's volume is multiplied by ``factor`` (read by the vendors
    whose plug-ins say so): the anomaly alerts'
    outage. Each call created in [start, start + hours) (UTC) is kept with probability
    ``factor`` (a seeded draw, so the same config drops the same calls); the calls outside
    the window are exactly those of the undipped data set, but for callbacks after its start:
    a callback rings back a missed call some hours earlier, and the dip took some of them.
    """

    start: datetime
    hours: float
    factor: float

    def __post_init__(self) -> None:
        if self.start.tzinfo is None:
            raise ValueError("a dip's start needs a timezone (e.g. 2026-11-18T14:00Z)")
        if not 0 < self.hours <= 24 * 31:
            raise ValueError("a dip lasts more than 0 and at most 744 hours")
        if not 0.0 <= self.factor <= 10.0:
            raise ValueError("a dip's factor must be within 0..10")
        if self.factor > 1.0:
            raise ValueError("a dip's factor above 1 would be a spike: at most 1")

    @property
    def end(self) -> datetime:
        return self.start + timedelta(hours=self.hours)

    @classmethod
    def parse(cls, text: str) -> Dip:
        """``START/HOURS/FACTOR``, e.g. ``2026-11-18T14:00Z/3h/0.1`` (volume × 0.1 for three
        hours from 14:00 UTC); ValueError with the reason otherwise."""
        match = re.fullmatch(r"\s*([^/\s]+)/([0-9]+(?:\.[0-9]+)?)h?/([0-9]+(?:\.[0-9]+)?)\s*",
                             text or "")
        if not match:
            raise ValueError(f"{text!r} is not START/HOURS/FACTOR "
                             "(e.g. 2026-11-18T14:00Z/3h/0.1)")
        raw = match.group(1).replace("Z", "+00:00").replace("z", "+00:00")
        try:
            start = datetime.fromisoformat(raw)
        except ValueError:
            raise ValueError(f"{match.group(1)!r} is not an ISO time such as "
                             "2026-11-18T14:00Z") from None
        if start.tzinfo is None:
            start = start.replace(tzinfo=UTC)
        return cls(start.astimezone(UTC), float(match.group(2)), float(match.group(3)))


@dataclass
class SimulatorConfig:
    """Everything that determines the simulated data set (same config => same data).

    ``end_date`` defaults to today (UTC); the data set starts ``days - 1`` days before it.
    ``now`` (the simulator clock) defaults to ``end_date`` at the current UTC time of day, or
    ``end_date 23:59:59`` when ``end_date`` is in the past. ``tokens`` overrides the derived
    bearer token of some environments. ``cache_days`` bounds the LRU of generated days per
    environment. ``realtime`` makes the clock tick with the wall clock from ``now`` on.
    """

    seed: int = 42
    days: int = 90
    calls_per_day: int = 500
    end_date: date | None = None
    now: datetime | None = None
    environments: dict[str, EnvironmentSpec] = field(default_factory=default_environments)
    callback_match_days: int = 7
    testing_rate: float = 0.03
    bad_record_rate: float = 0.002
    tokens: dict[str, str] = field(default_factory=dict)
    cache_days: int = 128
    realtime: bool = False
    # Lowers the answer rate for a window (see AnswerDrop); None leaves the data as seeded.
    answer_drop: AnswerDrop | None = None
    # Late final statuses (see Lateness); None: every call is final when it ends.
    lateness: Lateness | None = field(default_factory=Lateness)
    # Volume dips (see Dip), for the vendors that read them; empty leaves the data as seeded.
    dips: tuple[Dip, ...] = ()
    # How far the simulator's clock runs ahead of (or, negative, behind) the wall clock when
    # `now` is not given: an upstream never shares our clock.
    clock_offset: timedelta = timedelta(0)
    # The IANA zone (e.g. "America/Sao_Paulo") whose days a vendor's date filters and
    # statistics days are counted in; None: UTC (for vendors whose docs do not say).
    date_zone: str | None = None

    def __post_init__(self) -> None:
        if self.days < 1:
            raise ValueError("days must be >= 1")
        if self.calls_per_day < 0:
            raise ValueError("calls_per_day must be >= 0")
        if self.callback_match_days < 1:
            raise ValueError("callback_match_days must be >= 1")
        for name in ("testing_rate", "bad_record_rate"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be within 0..1")
        if self.cache_days < self.callback_match_days + 2:
            raise ValueError("cache_days must exceed callback_match_days + 1")
        if not self.environments:
            raise ValueError("at least one environment is needed")
        if self.date_zone is not None:
            try:
                ZoneInfo(self.date_zone)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"date_zone: {self.date_zone!r} is not an IANA time zone "
                                 "such as America/Sao_Paulo") from None
        unknown = set(self.tokens) - set(self.environments)
        if unknown:
            raise ValueError(f"tokens given for unknown environments: {sorted(unknown)}")
        if len(set(self.tokens.values())) != len(self.tokens):
            raise ValueError("tokens must be distinct")

    def resolved_end_date(self) -> date:
        if self.end_date is not None:
            return self.end_date
        if self.now is not None:
            return as_utc(self.now).date()
        return (datetime.now(UTC) + self.clock_offset).date()

    def resolved_now(self) -> datetime:
        if self.now is not None:
            return as_utc(self.now).replace(microsecond=0)
        end = self.resolved_end_date()
        wall = datetime.now(UTC) + self.clock_offset
        if end < wall.date():
            return datetime.combine(end, time(23, 59, 59), UTC)
        return datetime.combine(end, wall.time().replace(microsecond=0), UTC)


def as_utc(value: datetime) -> datetime:
    """Naive datetimes are taken as UTC; aware ones are converted."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)
