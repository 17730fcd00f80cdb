"""Retell AI, as the simulator serves it (`sync.simulator.plugins`): `POST /v3/list-calls`
(a JSON body, cursor pages), `GET /v2/get-call/{call_id}`, `GET /list-agents`, bearer API
key, at the server's root as at api.retellai.com, from a seeded data set at the simulator's
clock.

Plain Python (no Django), like the simulator core. Per environment: two agents; each UTC
day's calls (the configured volume, a daytime peak in the environment's zone). Start times
are whole seconds and every seventh call starts in the same millisecond as the one before
(equal `start_timestamp`s are real). A call's life at the clock: `registered` until it
starts, `ongoing` until `end_timestamp`, then `ended` (or `not_connected` when it never
connected: dial_busy, dial_no_answer). After it ends it changes again, with no modification
time to show it: `call_cost` comes seconds after the end, `call_analysis` (summary,
`call_successful`, `user_sentiment`, `in_voicemail`, custom data) a few seconds to hours
later (`ANALYSIS_LATE`). Costs are cents, `combined_cost` the sum of `product_costs`.

The listing sorts by (`start_timestamp`, `call_id`) and its `pagination_key` is the last
item's position in that order, so a page boundary inside a tie loses and repeats nothing.
Rate limit, 429s and 500s are the core's faults; `insert` adds calls that started in the
last two days and are listed only from now on; `end_late` keeps one call ongoing.
"""
from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any

from sync.simulator.catalog import DAY_MS, EPOCH_ORDINAL, daytime_start_ms, seeded
from sync.simulator.config import EnvironmentSpec
from sync.simulator.plugins import Plugin
from sync.simulator.response import Listing, Response, dumps, json_response
from sync.simulator.tamper import Tampering, patched

KEY = "retell"  # the provider, as `EnvironmentSpec.vendor`

MAX_LIMIT = 1000
AGENTS = ("Reception", "Renewals")
REASONS = (("user_hangup", 0.45), ("agent_hangup", 0.25), ("call_transfer", 0.07),
           ("voicemail_reached", 0.06), ("dial_no_answer", 0.1), ("dial_busy", 0.04),
           ("inactivity", 0.03))
NOT_CONNECTED = ("dial_no_answer", "dial_busy")
# (share, lowest, highest seconds after the end) of calls whose analysis comes late.
ANALYSIS_LATE = ((0.3, 60, 3600), (0.1, 3600, 8 * 3600))
SENTIMENTS = ("Positive", "Neutral", "Negative")


@dataclass
class _Call:
    """A call's fixed facts; its record at a moment comes from `record`."""

    call_id: str
    agent_id: str
    web: bool
    outbound: bool
    customer: str
    ours: str
    start: int
    end: int
    reason: str
    costed: int  # when call_cost is in
    analysed: int  # when call_analysis is in
    cents: float
    successful: bool
    sentiment: str
    shown: int = 0  # an inserted call: listed from this moment on only

    def record(self, now: int) -> dict[str, Any] | None:
        """The record at `now`; None before it is listed."""
        if now < self.shown or now < self.start - 2000:
            return None
        connected = self.reason not in NOT_CONNECTED
        status = "registered" if now < self.start else \
            "ongoing" if now < self.end else "ended" if connected else "not_connected"
        record: dict[str, Any] = {
            "call_id": self.call_id, "agent_id": self.agent_id, "agent_version": 1,
            "call_type": "web_call" if self.web else "phone_call", "call_status": status,
            "start_timestamp": self.start}
        if not self.web:
            ours, theirs = self.ours, self.customer
            record.update(direction="outbound" if self.outbound else "inbound",
                          from_number=ours if self.outbound else theirs,
                          to_number=theirs if self.outbound else ours)
        if status in ("ended", "not_connected"):
            record.update(end_timestamp=self.end, duration_ms=self.end - self.start,
                          disconnection_reason=self.reason)
        if status == "ended" and now >= self.costed:
            parts = [{"product": "retell_platform", "cost": round(self.cents * 0.6, 4)},
                     {"product": "llm", "cost": round(self.cents * 0.4, 4)}]
            record["call_cost"] = {
                "product_costs": parts, "total_duration_seconds": (self.end - self.start) // 1000,
                "combined_cost": round(sum(p["cost"] for p in parts), 4)}
        if status == "ended" and now >= self.analysed:
            record["call_analysis"] = {
                "call_summary": f"The caller {'was helped' if self.successful else 'left'}.",
                "call_successful": self.successful, "user_sentiment": self.sentiment,
                "in_voicemail": self.reason == "voicemail_reached",
                "custom_analysis_data": {"follow_up": not self.successful}}
        return record


@dataclass
class RetellStore:
    env: str
    seed: int
    first: int  # the first day's ordinal
    calls_per_day: int
    offset_hours: int
    agents: list[dict[str, Any]] = field(default_factory=list)
    _days: dict[int, list[_Call]] = field(default_factory=dict)
    inserted: list[_Call] = field(default_factory=list)
    late: dict[str, int] = field(default_factory=dict)
    listings: int = 0

    def __post_init__(self) -> None:
        rng = seeded(self.seed, self.env, "retell-agents")
        changed = (self.first - EPOCH_ORDINAL) * DAY_MS - 10 * DAY_MS
        for name in AGENTS:
            self.agents.append({"agent_id": f"agent_{rng.getrandbits(96):024x}", "version": 1,
                                "agent_name": name, "last_modification_timestamp": changed})

    def make(self, rng: Any, start: int, n: int) -> _Call:
        pick, acc, reason = rng.random(), 0.0, REASONS[0][0]
        for word, share in REASONS:
            acc += share
            if pick < acc:
                reason = word
                break
        web = rng.random() < 0.05
        outbound = not web and (reason in NOT_CONNECTED or rng.random() < 0.4)
        talk = 0 if reason in NOT_CONNECTED else rng.randint(15, 600) * 1000
        end = start + (talk or rng.randint(10, 40) * 1000)
        late, draw = 0, rng.random()
        for share, low, high in ANALYSIS_LATE:
            if draw < share:
                late = rng.randint(low, high) * 1000
                break
            draw -= share
        return _Call(
            call_id=f"call_{rng.getrandbits(96):024x}",
            agent_id=self.agents[n % len(self.agents)]["agent_id"], web=web, outbound=outbound,
            customer=f"+1555{rng.randrange(10**7):07d}", ours=f"+1800555{n % 2:04d}",
            start=start, end=end, reason=reason, costed=end + rng.randint(2, 20) * 1000,
            analysed=end + rng.randint(5, 40) * 1000 + late,
            cents=round(talk / 60_000 * rng.uniform(7.0, 12.0), 4),
            successful=rng.random() < 0.7, sentiment=rng.choice(SENTIMENTS))

    def day(self, ordinal: int) -> list[_Call]:
        calls = self._days.get(ordinal)
        if calls is None:
            rng = seeded(self.seed, self.env, "retell-day", ordinal)
            count = max(0, int(self.calls_per_day * rng.uniform(0.8, 1.2)))
            calls = []
            for n in range(count):
                start = daytime_start_ms(rng, ordinal, self.offset_hours)
                if n % 7 == 6 and calls:
                    start = calls[-1].start  # a tie: same millisecond as the one before
                calls.append(self.make(rng, start, n))
            self._days[ordinal] = calls
        return calls

    def listed(self, now: int, lo: int, hi: int) -> list[dict[str, Any]]:
        """Every record at `now` of the calls that started in [lo, hi]."""
        out = []
        first = max(self.first, lo // DAY_MS + EPOCH_ORDINAL)
        last = min(now + 2000, hi) // DAY_MS + EPOCH_ORDINAL
        calls = [c for d in range(first, last + 1) for c in self.day(d)] + self.inserted
        for call in calls:
            if not lo <= call.start <= hi:
                continue
            if call.call_id in self.late:
                call = _Call(**{**call.__dict__, "end": self.late[call.call_id]})
                call.costed, call.analysed = call.end + 5000, call.end + 10_000
            record = call.record(now)
            if record is not None:
                out.append(record)
        return out


def _error(status: int, message: str) -> Response:
    return json_response(status, {"status": "error", "message": message})


def _position(record: dict[str, Any]) -> tuple[int, str]:
    return record["start_timestamp"], record["call_id"]


def _key(record: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(_position(record)).encode()).decode()


def _unkey(text: str) -> tuple[int, str] | None:
    try:
        start, call_id = json.loads(base64.urlsafe_b64decode(text.encode()))
    except (ValueError, TypeError):
        return None
    return (start, call_id) if isinstance(start, int) and isinstance(call_id, str) else None


class RetellPlugin(Plugin):
    key = KEY
    label = "Retell AI"
    token_prefix = "key_"
    post_routes = frozenset({"calls"})

    def default_environments(self) -> dict[str, EnvironmentSpec]:
        """One workspace."""
        return {"acme-retell": EnvironmentSpec(KEY, utc_offset_hours=-3)}

    def make_store(self, sim: Any, env: str, spec: EnvironmentSpec) -> RetellStore:
        config = sim.config
        calls_per_day = config.calls_per_day if spec.calls_per_day is None \
            else spec.calls_per_day
        return RetellStore(env, config.seed, sim.start_date.toordinal(), calls_per_day,
                           spec.utc_offset_hours)

    def route(self, parts: list[str]) -> tuple[str, str | None] | None:
        if parts == ["v3", "list-calls"]:
            return "calls", None
        if len(parts) == 3 and parts[:2] == ["v2", "get-call"] and parts[2]:
            return "call", parts[2]
        if parts == ["list-agents"]:
            return "agents", None
        return None

    def not_found(self, parts: list[str]) -> Response | None:
        # Retell's API has no prefix: its own paths are these.
        ours = parts[:1] in (["v2"], ["v3"]) or parts[:1] == ["list-agents"]
        return _error(404, "Not Found") if ours else None

    def error(self, status: int, state: str = "") -> Response:
        return _error(status, {401: "Invalid API Key", 405: "Method Not Allowed",
                               429: "Rate limit exceeded"}.get(status, "Internal Server Error"))

    def answer(self, sim: Any, env: str, route: tuple[str, str | None],
               query: dict[str, list[str]], body: bytes) -> Response:
        store: RetellStore = sim.store(env, KEY)
        now = sim.now_ts() * 1000
        name, arg = route
        if name == "agents":
            return json_response(200, store.agents)
        if name == "call":
            for record in store.listed(now, 0, 2**62):
                if record["call_id"] == arg:
                    return json_response(200, record)
            return _error(404, "Call not found")
        return self._calls(store, body, now)

    def _calls(self, store: RetellStore, body: bytes, now: int) -> Response:
        try:
            asked = json.loads(body or b"{}")
        except ValueError:
            return _error(400, "Request body must be JSON")
        if not isinstance(asked, dict):
            return _error(400, "Request body must be an object")
        limit = asked.get("limit", 50)
        if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_LIMIT:
            return _error(400, f"limit must be an integer from 1 to {MAX_LIMIT}")
        window = ((asked.get("filter_criteria") or {}).get("start_timestamp") or {})
        lo, hi = window.get("lower_threshold", 0), window.get("upper_threshold", 2**62)
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (lo, hi)):
            return _error(400, "start_timestamp thresholds must be integers (ms)")
        descending = asked.get("sort_order", "descending") == "descending"
        found = sorted(store.listed(now, lo, hi), key=_position, reverse=descending)
        if asked.get("pagination_key"):
            after = _unkey(str(asked["pagination_key"]))
            if after is None:
                return _error(400, "Invalid pagination_key")
            found = [r for r in found
                     if (_position(r) < after if descending else _position(r) > after)]
        page = found[:limit]
        store.listings += 1
        resp = json_response(200, {
            "calls": page,
            "pagination_key": _key(page[-1]) if len(found) > limit else None})
        resp.listing = Listing(store.env, None, None, None, store.listings)
        return resp

    def tamper(self, tampering: Tampering, route: str, query: dict[str, list[str]],
               body: bytes) -> bytes:
        if not tampering.calls or route not in ("calls", "call"):
            return body
        doc = json.loads(body)
        if isinstance(doc.get("calls"), list):
            doc["calls"] = [patched(r, tampering.calls.get(str(r.get("call_id"))))
                            for r in doc["calls"]]
            return dumps(doc)
        return dumps(patched(doc, tampering.calls.get(str(doc.get("call_id")))))

    def insert(self, sim: Any, store: RetellStore, count: int, filt: object, lo: int | None,
               hi: int | None) -> list[Any]:
        now = sim.now_ts() * 1000
        rng = seeded(store.seed, store.env, "retell-insert", len(store.inserted), now)
        made = []
        for n in range(count):
            call = store.make(rng, now - rng.randrange(2 * DAY_MS) // 1000 * 1000, n)
            call.shown = now
            store.inserted.append(call)
            made.append(call)
        return made

    def end_late(self, sim: Any, store: RetellStore, call_id: str, until_ts: int) -> None:
        store.late[call_id] = until_ts * 1000


PLUGIN = RetellPlugin()
