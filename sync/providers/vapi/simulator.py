"""Vapi, as the simulator serves it (`sync.simulator.plugins`): `GET /call`, `GET /call/{id}`,
`GET /assistant`, from a seeded data set, at the simulator's clock.

Plain Python (no Django), like the simulator core. Per environment: three assistants; each
UTC day's calls (the configured volume, a daytime peak in the environment's zone) with their
life at the clock — `queued` at `createdAt`, `ringing` a second later, `in-progress` from
`startedAt`, `ended` when the end-of-call report is in (seconds after `endedAt`; much later
for the lateness bands' share) — and `updatedAt` the last of those moments the clock has
passed. Instants are whole seconds with ".000Z", so many calls share one (ties are real).
Costs have at most six decimals; `costBreakdown`'s parts add up to `cost` exactly.

Analysis (`analysis.summary`, `structuredData`, `successEvaluation`) comes with the end-of-call
report for most calls, and minutes to hours later for the rest (`ANALYSIS_LATE`: it moves
`updatedAt`, as Vapi's does). Each assistant judges with its own rubric (`RUBRICS`: pass/fail,
a 1–10 score, a descriptive word). Transfers (`assistant-forwarded-call`) and voicemail move
from day to day; the first assistant's callers come from a small pool of numbers, so its
calls, "successful" ones included, are often followed by another from the same caller. These
draws come from each call's own seed (`_analysis`): every other draw is as before.

Faults, rate limit and truncation are the core's. The insert fault (and `insert`) adds calls
created in the last two days that become visible only now (`updatedAt` = the clock): records
that appear late, in a range a sync may already have read. `end_late` keeps one call
in progress until a later moment.
"""
from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sync.simulator.catalog import DAY_MS, EPOCH_ORDINAL, daytime_start_ms, seeded
from sync.simulator.config import EnvironmentSpec
from sync.simulator.plugins import Plugin
from sync.simulator.response import Listing, Response, dumps, json_response
from sync.simulator.tamper import Tampering, patched

KEY = "vapi"  # the provider, as `EnvironmentSpec.vendor`

MAX_LIMIT = 1000
ASSISTANTS = ("Front Desk", "Sales Caller", "Survey")
REASONS = (("customer-ended-call", 0.45), ("assistant-ended-call", 0.25),
           ("customer-did-not-answer", 0.12), ("customer-busy", 0.05), ("voicemail", 0.06),
           ("silence-timed-out", 0.04), ("assistant-error", 0.03))
NOT_CONNECTED = ("customer-did-not-answer", "customer-busy")
# Each assistant's success rubric, by its place in ASSISTANTS.
RUBRICS = ("PassFail", "NumericScale", "DescriptiveScale")
# (share, lowest, highest seconds) of calls whose analysis comes after the end-of-call report.
ANALYSIS_LATE = ((0.25, 120, 3600), (0.10, 3600, 6 * 3600))
TOPICS = ("billing", "refund", "appointment", "delivery", "cancellation", "upgrade")
# The first assistant's callers: a pool of half a day's calls (at least this many numbers), so
# they call again within days.
RETURNING_POOL = 20


def iso(ms: int) -> str:
    at = datetime.fromtimestamp(ms // 1000, UTC)
    return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def _ms(text: str) -> int | None:
    try:
        at = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return int(at.timestamp() * 1000)


@dataclass
class _Call:
    """A call's fixed facts; its state at a moment comes from `at`."""

    id: str
    assistant: str
    type: str
    customer: str
    created: int
    started: int | None
    ended: int
    final: int  # when the end-of-call report is in
    analysed: int  # how long after `final` the analysis is in (ms; 0: with the report)
    reason: str
    breakdown: dict[str, float]
    cost: float
    summary: str
    success: Any
    structured: dict[str, Any]
    our_number: str
    shown: int = 0  # an inserted call: listed from this moment on only

    def state(self, now: int) -> tuple[int, str] | None:
        """(updatedAt, status) at `now`; None before it was created (or shown). Integers
        only: a listing tests its bounds on these before it builds a record (an `updatedAt`
        listing spans the whole history)."""
        if now < max(self.created, self.shown):
            return None
        ringing = self.created + 1000
        if now >= self.final + self.analysed:
            return self.final + self.analysed, "ended"
        if now >= self.final:
            return self.final, "ended"
        if self.started is not None and now >= self.started:
            return self.started, "in-progress"
        if now >= ringing:
            return ringing, "ringing"
        return self.created, "queued"

    def record(self, updated: int, status: str) -> dict[str, Any]:
        """The record in `status`, last changed at `updated` (`state`)."""
        record: dict[str, Any] = {
            "id": self.id, "orgId": "org-sim", "assistantId": self.assistant,
            "type": self.type, "createdAt": iso(self.created)}
        if self.type != "webCall":
            record["customer"] = {"number": self.customer}
            record["phoneNumberId"] = f"pn-{self.assistant[:8]}"
            record["phoneNumber"] = {"number": self.our_number}
        if status == "ended":
            record.update(endedReason=self.reason, endedAt=iso(self.ended), cost=self.cost,
                          costBreakdown=dict(self.breakdown), analysis={})
            if updated >= self.final + self.analysed and self.started is not None:
                record["analysis"] = {"summary": self.summary,
                                      "structuredData": dict(self.structured),
                                      "successEvaluation": self.success}
        if self.started is not None and status in ("ended", "in-progress"):
            record["startedAt"] = iso(self.started)
        record.update(status=status, updatedAt=iso(updated))
        return record


@dataclass
class VapiStore:
    env: str
    seed: int
    first: int  # the first day's ordinal
    calls_per_day: int
    offset_hours: int
    lateness: tuple[tuple[float, int, int], ...]
    assistants: list[dict[str, Any]] = field(default_factory=list)
    _days: dict[int, list[_Call]] = field(default_factory=dict)
    inserted: list[_Call] = field(default_factory=list)
    late: dict[str, int] = field(default_factory=dict)
    listings: int = 0

    def __post_init__(self) -> None:
        rng = seeded(self.seed, self.env, "vapi-assistants")
        base = (self.first - EPOCH_ORDINAL) * DAY_MS - 30 * DAY_MS
        for name in ASSISTANTS:
            created = base + rng.randrange(DAY_MS) // 1000 * 1000
            self.assistants.append({
                "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)), "orgId": "org-sim",
                "name": name, "createdAt": iso(created), "updatedAt": iso(created)})

    def _make(self, rng: Any, created: int, n: int) -> _Call:
        assistant = self.assistants[n % len(self.assistants)]["id"]
        kind = rng.random()
        call_type = "inboundPhoneCall" if kind < 0.55 else \
            "outboundPhoneCall" if kind < 0.95 else "webCall"
        pick, acc, reason = rng.random(), 0.0, REASONS[0][0]
        for word, share in REASONS:
            acc += share
            if pick < acc:
                reason = word
                break
        if call_type == "inboundPhoneCall" and reason in NOT_CONNECTED:
            reason = "customer-ended-call"
        started = None if reason in NOT_CONNECTED else created + rng.randint(3, 20) * 1000
        talk = rng.randint(15, 600) * 1000 if started is not None else 0
        ended = (started or created + rng.randint(10, 40) * 1000) + talk
        final = ended + rng.randint(2, 30) * 1000
        draw = rng.random()
        for share, low, high in self.lateness:
            if draw < share:
                final += rng.randint(low, max(low, high)) * 1000
                break
        minutes = talk / 60_000
        parts = {"transport": round(minutes * 0.008, 6), "stt": round(minutes * 0.01, 6),
                 "llm": round(minutes * rng.uniform(0.01, 0.04), 6),
                 "tts": round(minutes * 0.036, 6), "vapi": round(minutes * 0.05, 6)}
        cost = round(sum(parts.values()), 6)
        tokens = int(minutes * rng.randint(300, 900))
        breakdown = {**parts, "total": cost, "llmPromptTokens": tokens,
                     "llmCompletionTokens": tokens // 4, "ttsCharacters": int(minutes * 700)}
        success = None if started is None else rng.choice(("true", "true", "false"))
        call = _Call(
            id=str(uuid.UUID(int=rng.getrandbits(128), version=4)), assistant=assistant,
            type=call_type, customer=f"+1555{rng.randrange(10**7):07d}", created=created,
            started=started, ended=ended, final=final, analysed=0, reason=reason,
            breakdown=breakdown, cost=cost,
            summary=f"Call about topic {rng.randint(1, 40)}." if started else "",
            success=success, structured={}, our_number=f"+1800555{n % len(self.assistants):04d}")
        return self._analysis(call, n % len(self.assistants))

    def _analysis(self, call: _Call, place: int) -> _Call:
        """The call's analysis, transfer, voicemail and returning caller, from its own seed."""
        rng = seeded(self.seed, self.env, "vapi-analysis", call.id)
        day = call.created // DAY_MS
        if place == 0 and call.type != "webCall":
            pool = max(RETURNING_POOL, self.calls_per_day // 2)
            call.customer = f"+1555000{rng.randrange(pool):04d}"
        if call.started is not None and call.reason in ("customer-ended-call",
                                                        "assistant-ended-call"):
            # Shares that move with the day (a week-long swing), in whole percent.
            transfer = 0.04 + 0.08 * ((day % 7) / 6)
            voicemail = 0.03 + 0.06 * (((day + 3) % 5) / 4)
            draw = rng.random()
            if draw < transfer:
                call.reason = "assistant-forwarded-call"
            elif draw < transfer + voicemail and call.type == "outboundPhoneCall":
                call.reason = "voicemail"
        draw = rng.random()
        for share, low, high in ANALYSIS_LATE:
            if draw < share:
                call.analysed = rng.randint(low, high) * 1000
                break
            draw -= share
        if call.started is None:
            return call
        topic, passed = rng.choice(TOPICS), call.success == "true"
        call.summary = (f"The caller asked about {topic}; "
                        + ("the assistant resolved it." if passed
                           else "it was left open for a follow-up."))
        call.structured = {"topic": topic, "appointmentBooked": passed and topic == "appointment",
                           "followUpNeeded": not passed}
        rubric = RUBRICS[place % len(RUBRICS)]
        if rubric == "NumericScale":
            call.success = rng.randint(7, 10) if passed else rng.randint(2, 6)
        elif rubric == "DescriptiveScale":
            call.success = rng.choice(("Excellent", "Good") if passed else ("Fair", "Poor"))
        return call

    def day(self, ordinal: int) -> list[_Call]:
        calls = self._days.get(ordinal)
        if calls is None:
            rng = seeded(self.seed, self.env, "vapi-day", ordinal)
            count = max(0, int(self.calls_per_day * rng.uniform(0.8, 1.2)))
            calls = [self._make(rng, daytime_start_ms(rng, ordinal, self.offset_hours), n)
                     for n in range(count)]
            self._days[ordinal] = calls
        return calls

    def visible(self, now: int, created: tuple[int, int] = (0, 2**62),
                keep: Callable[[int, int], bool] = lambda created, updated: True,
                ) -> list[tuple[int, dict[str, Any]]]:
        """Every call's (updatedAt, record) at `now`, of those created within `created`
        (inclusive milliseconds) that `keep(createdAt, updatedAt)` keeps: a day's calls are
        created on that day, so a day-long window builds the records of one day, and only
        the kept calls' records are built at all."""
        out = []
        lo, hi = created
        first = max(self.first, lo // DAY_MS + EPOCH_ORDINAL)
        last = min(now, hi) // DAY_MS + EPOCH_ORDINAL
        for ordinal in range(first, last + 1):
            for call in self.day(ordinal):
                self._add(out, call, now, created, keep)
        for call in self.inserted:
            self._add(out, call, now, created, keep)
        return out

    def _add(self, out: list[tuple[int, dict[str, Any]]], call: _Call, now: int,
             created: tuple[int, int], keep: Callable[[int, int], bool]) -> None:
        if not created[0] <= call.created <= created[1]:
            return
        late = self.late.get(call.id)
        if late is not None:  # its report comes at `late`: the call's last change
            call = _Call(**{**call.__dict__, "final": late})
        state = call.state(now)
        if state is not None and keep(call.created, state[0]):
            out.append((state[0], call.record(*state)))


def _error(status: int, message: Any, error: str) -> Response:
    return json_response(status, {"message": message, "error": error, "statusCode": status})


class VapiPlugin(Plugin):
    key = KEY
    label = "Vapi"
    token_prefix = "vapi_"

    def default_environments(self) -> dict[str, EnvironmentSpec]:
        """One organisation."""
        return {"acme-vapi": EnvironmentSpec(KEY, utc_offset_hours=-3)}

    def make_store(self, sim: Any, env: str, spec: EnvironmentSpec) -> VapiStore:
        config = sim.config
        calls_per_day = config.calls_per_day if spec.calls_per_day is None \
            else spec.calls_per_day
        return VapiStore(env, config.seed, sim.start_date.toordinal(), calls_per_day,
                         spec.utc_offset_hours, sim.lateness_bands())

    def route(self, parts: list[str]) -> tuple[str, str | None] | None:
        if parts == ["call"]:
            return "calls", None
        if len(parts) == 2 and parts[0] == "call" and parts[1]:
            return "call", parts[1]
        if parts == ["assistant"]:
            return "assistants", None
        return None

    def error(self, status: int, state: str = "") -> Response:
        if status == 401:
            return _error(401, "Invalid Key. Hot tip, you may be using the private key "
                               "instead of the public key, or vice versa.", "Unauthorized")
        if status == 429:
            return _error(429, "Too Many Requests", "Too Many Requests")
        if status == 405:
            return _error(405, "Method Not Allowed", "Method Not Allowed")
        return _error(500, "Internal server error", "Internal Server Error")

    def answer(self, sim: Any, env: str, route: tuple[str, str | None],
               query: dict[str, list[str]], body: bytes) -> Response:
        store: VapiStore = sim.store(env, KEY)
        now = sim.now_ts() * 1000
        name, arg = route
        if name == "assistants":
            limit = _limit(query)
            if isinstance(limit, Response):
                return limit
            return json_response(200, store.assistants[:limit])
        if name == "call":
            for _updated, record in store.visible(now):
                if record["id"] == arg:
                    return json_response(200, record)
            return _error(404, "Not Found", "Not Found")
        return self._calls(store, query, now)

    def _calls(self, store: VapiStore, query: dict[str, list[str]], now: int) -> Response:
        limit = _limit(query)
        if isinstance(limit, Response):
            return limit
        tests = []
        for field_name in ("createdAt", "updatedAt"):
            for op in ("Gt", "Ge", "Lt", "Le"):
                raw = (query.get(field_name + op) or [""])[-1]
                if not raw:
                    continue
                bound = _ms(raw)
                if bound is None:
                    return _error(400, [f"{field_name + op} must be a valid ISO 8601 date "
                                        "string"], "Bad Request")
                tests.append((field_name, op, bound))
        wanted = {k: (query.get(k) or [""])[-1] for k in ("assistantId", "id", "phoneNumberId")}
        def keep(created: int, updated: int) -> bool:
            times = {"createdAt": created, "updatedAt": updated}
            return all(_holds(times[f], op, bound) for f, op, bound in tests)

        found = []
        for _updated, record in store.visible(now, _created_range(tests), keep):
            if any(value and record.get(key) != value for key, value in wanted.items()):
                continue
            found.append(record)
        found.sort(key=lambda r: (r["createdAt"], r["id"]), reverse=True)
        store.listings += 1
        resp = json_response(200, found[:limit])
        resp.listing = Listing(store.env, None, None, None, store.listings)
        return resp

    def tamper(self, tampering: Tampering, route: str, query: dict[str, list[str]],
               body: bytes) -> bytes:
        if not tampering.calls or route not in ("calls", "call"):
            return body
        doc = json.loads(body)
        if isinstance(doc, list):
            return dumps([patched(r, tampering.calls.get(str(r.get("id")))) for r in doc])
        return dumps(patched(doc, tampering.calls.get(str(doc.get("id")))))

    def insert(self, sim: Any, store: VapiStore, count: int, filt: object, lo: int | None,
               hi: int | None) -> list[Any]:
        now = sim.now_ts() * 1000
        rng = seeded(store.seed, store.env, "vapi-insert", len(store.inserted), now)
        made = []
        for n in range(count):
            created = now - rng.randrange(2 * DAY_MS) // 1000 * 1000
            call = store._make(rng, created, n)
            # Listed from now on only, its last change now: a record that appears late.
            call.final, call.shown = max(call.final, now), now
            store.inserted.append(call)
            made.append(call)
        return made

    def end_late(self, sim: Any, store: VapiStore, call_id: str, until_ts: int) -> None:
        store.late[call_id] = until_ts * 1000


def _created_range(tests: list[tuple[str, str, int]]) -> tuple[int, int]:
    """The inclusive `createdAt` milliseconds the listing's bounds leave (all when none):
    every test is still applied to each record; this only spares building the others."""
    lo, hi = 0, 2**62
    for field_name, op, bound in tests:
        if field_name == "createdAt":
            if op in ("Gt", "Ge"):
                lo = max(lo, bound + (op == "Gt"))
            else:
                hi = min(hi, bound - (op == "Lt"))
    return lo, hi


def _holds(value: int | None, op: str, bound: int) -> bool:
    if value is None:
        return False
    return {"Gt": value > bound, "Ge": value >= bound, "Lt": value < bound,
            "Le": value <= bound}[op]


def _limit(query: dict[str, list[str]]) -> int | Response:
    raw = (query.get("limit") or ["100"])[-1]
    try:
        limit = int(raw)
    except ValueError:
        return _error(400, ["limit must be a number"], "Bad Request")
    if not 0 <= limit <= MAX_LIMIT:
        return _error(400, [f"limit must not be greater than {MAX_LIMIT}"], "Bad Request")
    return limit


PLUGIN = VapiPlugin()
