"""Origins AI, as the simulator serves it (`sync.simulator.plugins`): call records per
(environment, UTC day), served per integer agent id.

A record's rich parts (transcript, costs, insights) come from its own seed, so they are the
same at every clock; which parts are present depends on the call's state at the clock.

Python: ``sim.origins_envs``, ``sim.origins_store(env)``, ``sim.origins_agent_ids(env)``
(`PLUGIN.members`), ``sim.truth.origins_calls(env, agent_id)``, ``server.origins_url``
(``base_url``; clients append ``/api/agents/{id}/call_stats``). An environment names its
agent ids (``EnvironmentSpec(agent_ids=...)``); it has 40 calls a day unless told.

Origins HTTP (``GET /api/agents/{agent_id}/call_stats``, ``Bearer orig_...``)
============================================================================
A bare JSON array of every record of the agent existing at the clock, oldest first (by queue
time: the first ``call_state_changes`` entry), no envelope, no pagination, query ignored.
``call_duration`` is seconds with one decimal; ``billed_duration`` rounds up to whole minutes.
Fields as seed 004; ``call_status`` moves QUEUED -> INITIATED -> ANSWERED|FAILED (1% stay QUEUED or
INITIATED); ``answer_time``/``end_time``/``call_duration``/``billed_duration``/hangup fields
are null until they happen; transcript, costs, quality, insights (sentiment, summary, intent,
``call_successful``), recording only for answered calls that ended (a transferred one hangs
up ``BLIND_TRANSFER``); ``call_timeline`` is null for ~5%; timestamps are
``2024-03-31T15:20:33+00:00``. About ``bad_record_rate`` of records have ``call_id: null``.
Errors: missing header -> 401 ``{"detail": "Not authenticated"}``; bad/revoked/other-vendor
token -> 401 ``{"detail": "Unauthorized"}``; non-integer id -> 422 ``{"detail": [{"type":
"int_parsing", "loc": ["path", "agent_id"], ...}]}``; unknown id -> 404 ``{"detail": "Agent
not found"}``; 500 -> text/plain "Internal Server Error"; 429 -> ``{"detail": "Too Many
Requests"}`` + ``Retry-After``.
"""
from __future__ import annotations

import json
import math
import random
import re
from collections import OrderedDict
from datetime import date
from typing import Any

from sync.simulator.catalog import (
    WEEKDAY_FACTOR,
    day_times,
    hour_cum,
    iso_offset,
    number_from,
    ordinal_of,
    seeded,
    uuid4_from,
)
from sync.simulator.config import EnvironmentSpec
from sync.simulator.plugins import Plugin
from sync.simulator.response import Response, dumps, json_response
from sync.simulator.tamper import Tampering, patched

KEY = "origins"  # the provider, as `EnvironmentSpec.vendor`

TRANSCRIPT_LINES = {
    "pt-BR": (
        ("agent", "Olá! Aqui é a assistente virtual da Acme. Posso falar com você um minuto?"),
        ("user", "Pode sim, do que se trata?"),
        ("agent", "Estou ligando sobre a sua solicitação de orçamento."),
        ("user", "Ah, sim. Ainda estou avaliando as opções."),
        ("agent", "Posso agendar uma conversa com um especialista amanhã às 10h?"),
        ("user", "Amanhã às 10h funciona."),
        ("agent", "Perfeito, agendado. Obrigada e tenha um ótimo dia!"),
    ),
    "en-US": (
        ("agent", "Hi, this is the virtual assistant from Origins. Is now a good time?"),
        ("user", "Sure, what is this about?"),
        ("agent", "You asked for a callback about your order."),
        ("user", "Right, it arrived damaged."),
        ("agent", "I'm sorry to hear that. I can send a replacement today."),
        ("user", "That would be great, thanks."),
        ("agent", "Done. You'll get a confirmation by SMS. Anything else?"),
        ("user", "No, that's all."),
    ),
}
SUMMARIES = (
    "Customer agreed to a follow-up meeting.",
    "Customer asked for a replacement; order created.",
    "Caller was not interested; marked do-not-call.",
    "Cliente pediu retorno em outro horário.",
    "Voicemail reached; no message left.",
)
CUSTOMER_NAMES = ("Ana Luíza", "João Pedro", "Zoë Müller", "Li Wei", "María José", "Chloé", "Sam")

STATUSES = ("ANSWERED", "FAILED", "INITIATED", "QUEUED")
FINAL = (("ANSWERED", 0.68), ("FAILED", 0.30), ("INITIATED", 0.01), ("QUEUED", 0.01))
FAIL_CAUSES = ("NO_ANSWER", "USER_BUSY", "CALL_REJECTED", "UNALLOCATED_NUMBER",
               "NORMAL_TEMPORARY_FAILURE")
NEVER = 1 << 62


class ORec:
    """One Origins call; ``t_ans`` is -1 when never answered."""

    __slots__ = ("id", "agent", "direction", "frm", "to", "task", "t0", "t_init", "t_ans",
                 "t_end", "final", "rseed", "cached")


def _status(r: ORec, now: int) -> str:
    if r.final == "QUEUED" or now < r.t_init:
        return "QUEUED"
    if r.final == "INITIATED":
        return "INITIATED"
    if r.t_ans >= 0:
        return "ANSWERED" if now >= r.t_ans else "INITIATED"
    return "FAILED" if now >= r.t_end else "INITIATED"


def _transcript(rich: random.Random, talk: float, lang: str) -> list[dict]:
    """The call's turns: two, and one more per 20 s of talk, with drawn lengths and pauses."""
    lines = TRANSCRIPT_LINES[lang]
    turns, t = [], 0.0
    for i in range(min(len(lines), 2 + int(talk // 20))):
        role, text = lines[i]
        length = round(rich.uniform(1.5, 6.0), 2)
        turns.append({"role": role, "text": text, "start": round(t, 2),
                      "end": round(t + length, 2)})
        t += length + round(rich.uniform(0.2, 1.5), 2)
    return turns


def _history(r: ORec, now: int, ended: bool) -> tuple[list[dict], list[dict]]:
    """(state changes, timeline) as far as `now` has seen them."""
    events = [("QUEUED", r.t0)]
    if r.final != "QUEUED":
        events.append(("INITIATED", r.t_init))
    if r.t_ans >= 0:
        events.append(("ANSWERED", r.t_ans))
    if r.final == "FAILED":
        events.append(("FAILED", r.t_end))
    changes, timeline, prev = [], [], None
    for name, at in events:
        if at <= now:
            changes.append({"from": prev, "to": name, "at": iso_offset(at)})
            timeline.append({"event": name.lower(), "timestamp": iso_offset(at)})
            prev = name
    if ended:
        timeline.append({"event": "hangup", "timestamp": iso_offset(r.t_end)})
    return changes, timeline


def _draws(r: ORec, lang: str) -> dict[str, Any]:
    """Every random part of the record, from its own seed and always in this order, so a
    record's details never change over time (`record_dict` shows the ones `now` allows)."""
    rich = random.Random(r.rseed)
    d: dict[str, Any] = {}
    d["talk"] = (r.t_end - r.t_ans) + rich.randrange(10) / 10 if r.t_ans >= 0 else 0.0
    d["recording"] = f"rec_{rich.getrandbits(64):016x}"
    d["turns"] = _transcript(rich, d["talk"], lang)
    d["tokens_in"], d["tokens_out"] = rich.randint(800, 6000), rich.randint(100, 900)
    d["tool_latency"], d["with_tool"] = rich.randint(40, 400), rich.random() < 0.4
    d["quality"] = {"mos": round(rich.uniform(3.2, 4.5), 2),
                    "avg_latency_ms": rich.randint(450, 1600),
                    "jitter_ms": round(rich.uniform(1, 30), 1),
                    "packet_loss_pct": round(rich.uniform(0, 2), 2)}
    d["insights"] = {"sentiment": rich.choice(("positive", "neutral", "negative")),
                     "summary": rich.choice(SUMMARIES),
                     "intent": rich.choice(("purchase", "support", "billing", "other"))}
    d["cause"] = rich.choice(FAIL_CAUSES)
    d["source"] = rich.choice(("caller", "callee", "agent", "system"))
    d["no_timeline"] = rich.random() < 0.05
    d["triggered"] = None if rich.random() < 0.03 else r.direction == "outbound"
    d["customer"], d["lead"] = rich.choice(CUSTOMER_NAMES), rich.randint(10_000, 99_999)
    # Stage timings (drawn last, so the draws above keep their values): mean response time of
    # each stage over the call's turns. One call in ten predates stage timing and carries only
    # call_quality.avg_latency_ms, which otherwise is the sum of the three.
    d["stt_ms"], d["llm_ms"], d["tts_ms"] = (rich.randint(120, 450), rich.randint(250, 1400),
                                             rich.randint(90, 400))
    d["timed"] = rich.random() >= 0.1
    if d["timed"]:
        d["quality"]["avg_latency_ms"] = d["stt_ms"] + d["llm_ms"] + d["tts_ms"]
    # The analysis' judgement and transfers (drawn after the rest, which keeps its values):
    # the share of calls handed on moves with the day of the week.
    d["insights"]["call_successful"] = rich.random() < 0.7
    d["transfer"] = rich.random() < 0.04 + 0.08 * ((r.t0 // 86400) % 7) / 6
    return d


def _pipeline(d: dict[str, Any], lang: str) -> dict[str, list[dict]]:
    """The speech-to-text, language-model and text-to-speech parts of a completed call."""
    talk = d["talk"]

    def timing(ms: int) -> dict[str, int]:
        return {"latency_ms": ms} if d["timed"] else {}

    return {
        "stt_data": [{"provider": "deepgram", "model": "nova-2", "language": lang,
                      "audio_seconds": round(talk, 1),
                      "cost": round(talk / 60 * 0.0043, 5), **timing(d["stt_ms"])}],
        "llm_data": [{"provider": "openai", "model": "gpt-4o-mini",
                      "prompt_tokens": d["tokens_in"], "completion_tokens": d["tokens_out"],
                      "cost": round(d["tokens_in"] * 1.5e-7 + d["tokens_out"] * 6e-7, 6),
                      **timing(d["llm_ms"])}],
        "tts_data": [{"provider": "elevenlabs", "voice_id": "21m00Tcm4TlvDq8ikWAM",
                      "characters": sum(len(x["text"]) for x in d["turns"]
                                        if x["role"] == "agent"),
                      "cost": round(talk / 60 * 0.018, 5), **timing(d["tts_ms"])}],
    }


def record_dict(r: ORec, now: int, org_id: int, lang: str) -> dict:
    """The record exactly as ``GET /api/agents/{id}/call_stats`` lists it at ``now``."""
    d = _draws(r, lang)
    status = _status(r, now)
    ended = r.final in ("ANSWERED", "FAILED") and now >= r.t_end
    complete = ended and r.t_ans >= 0
    duration = round(d["talk"], 1) if ended else None
    changes, timeline = _history(r, now, ended)
    recording = d["recording"]
    return {
        "call_id": r.id,
        "call_agent_id": r.agent,
        **(_pipeline(d, lang) if complete else {"stt_data": [], "llm_data": [],
                                                "tts_data": []}),
        "call_transcription": d["turns"] if complete else [],
        "call_recording_url": f"https://recordings.origins.example/{recording}.mp3"
        if complete else None,
        "from_number": r.frm,
        "to_number": r.to,
        "recording_id": recording if complete else None,
        "call_context": {"customer_name": d["customer"], "lead_id": d["lead"],
                         "campaign": "renovacao-q3"} if r.direction == "outbound" else {},
        "call_status": status,
        "call_duration": duration,
        "billed_duration": math.ceil(duration / 60) * 60 if duration is not None else None,
        "initiation_time": iso_offset(r.t_init) if status != "QUEUED" else None,
        "answer_time": iso_offset(r.t_ans) if r.t_ans >= 0 and now >= r.t_ans else None,
        "end_time": iso_offset(r.t_end) if ended else None,
        "hangup_cause_name": (("BLIND_TRANSFER" if d["transfer"] else "NORMAL_CLEARING")
                              if r.t_ans >= 0 else d["cause"]) if ended else None,
        "hangup_source": d["source"] if ended else None,
        "call_direction": r.direction,
        "task_id": r.task,
        "call_state_changes": changes,
        "call_triggered": d["triggered"],
        "call_quality": d["quality"] if complete else {},
        "call_insights": d["insights"] if complete else {},
        "call_timeline": None if d["no_timeline"] else timeline,
        "tool_data": [{"tool": "crm_lookup", "input": {"phone": r.frm},
                       "output": {"found": True}, "latency_ms": d["tool_latency"]}]
        if complete and d["with_tool"] else [],
        "audio_config": {"codec": "PCMU", "sample_rate": 8000, "channels": 1, "vad": True},
        "org_id": org_id,
    }


class OriginsStore:
    """All call records of one Origins environment, generated per UTC day on demand."""

    def __init__(self, env: str, agent_ids: tuple[int, ...], seed: int, first: int,
                 calls_per_day: int, utc_offset: int, bad_record_rate: float,
                 cache_days: int) -> None:
        self.env, self.agent_ids, self.seed, self.first = env, agent_ids, seed, first
        self.calls_per_day, self.bad_record_rate = calls_per_day, bad_record_rate
        self.cache_days = cache_days
        rng = seeded(seed, env, "origins-profile")
        self.org_id = rng.randint(100, 9999)
        self.lang = rng.choice(("pt-BR", "en-US"))
        self.br_share = 0.8 if self.lang == "pt-BR" else 0.1
        self.numbers = {a: number_from(rng.getrandbits(64), self.br_share) for a in agent_ids}
        # The first half of the agents dial out, the rest answer.
        self.direction = {a: ("outbound" if i < max(1, len(agent_ids) // 2) else "inbound")
                          for i, a in enumerate(agent_ids)}
        self.weights = [rng.uniform(0.5, 1.5) for _ in agent_ids]
        self.hour_cum = hour_cum(utc_offset)
        self._days: OrderedDict[int, list[ORec]] = OrderedDict()
        self._settle: dict[int, int] = {}  # ordinal -> when its last record reached its end
        self._chunks: OrderedDict[tuple[int, int], bytes] = OrderedDict()

    def day(self, ordinal: int) -> list[ORec]:
        recs = self._days.get(ordinal)
        if recs is not None:
            self._days.move_to_end(ordinal)
            return recs
        rng = seeded(self.seed, self.env, ordinal, "origins")
        mean = self.calls_per_day * WEEKDAY_FACTOR[date.fromordinal(ordinal).weekday()]
        times = day_times(rng, ordinal, mean, self.hour_cum)
        agents = rng.choices(self.agent_ids, weights=self.weights, k=len(times))
        names = [f for f, _ in FINAL]
        recs = []
        for agent, t0 in zip(agents, times, strict=True):
            r = ORec()
            bits = rng.getrandbits(128)
            r.id = None if rng.random() < self.bad_record_rate else uuid4_from(bits)
            r.agent, r.direction, r.t0 = agent, self.direction[agent], t0
            customer = number_from(rng.getrandbits(64), self.br_share)
            own = self.numbers[agent]
            r.frm, r.to = (own, customer) if r.direction == "outbound" else (customer, own)
            r.task = rng.randint(1000, 99999) if r.direction == "outbound" else None
            r.final = rng.choices(names, weights=[w for _, w in FINAL])[0]
            r.t_init = t0 + rng.randint(1, 20)
            r.t_ans = -1
            if r.final == "ANSWERED":
                r.t_ans = r.t_init + rng.randint(3, 25)
                r.t_end = r.t_ans + min(2400, max(8, int(rng.lognormvariate(math.log(90), 0.9))))
            elif r.final == "FAILED":
                r.t_end = r.t_init + rng.randint(2, 40)
            elif r.final == "INITIATED":
                r.t_end = r.t_init
            else:
                r.t_init, r.t_end = NEVER, t0
            r.rseed = rng.getrandbits(64)
            r.cached = None
            recs.append(r)
        recs.sort(key=lambda x: (x.t0, x.id or ""))
        self._settle[ordinal] = max((r.t_end for r in recs), default=0)
        self._days[ordinal] = recs
        if len(self._days) > self.cache_days:
            self._days.popitem(last=False)
        return recs

    def _visible(self, ordinal: int, agent_id: int, now: int) -> list[ORec]:
        return [r for r in self.day(ordinal) if r.agent == agent_id and r.t0 <= now]

    def records(self, agent_id: int, now: int) -> list[dict]:
        """Every record of the agent existing at ``now``, oldest first."""
        return [record_dict(r, now, self.org_id, self.lang)
                for o in range(self.first, ordinal_of(now) + 1)
                for r in self._visible(o, agent_id, now)]

    def records_json(self, agent_id: int, now: int) -> bytes:
        chunks = []
        for o in range(self.first, ordinal_of(now) + 1):
            key = (o, agent_id)
            if o not in self._settle:
                self.day(o)
            settled = now >= self._settle[o]  # the clock may have moved back since
            chunk = self._chunks.get(key) if settled else None
            if chunk is None:
                recs = self._visible(o, agent_id, now)
                chunk = b",".join(self._record_json(r, now) for r in recs)
                if settled:
                    self._chunks[key] = chunk
                    if len(self._chunks) > self.cache_days * len(self.agent_ids):
                        self._chunks.popitem(last=False)
            else:
                self._chunks.move_to_end(key)
            if chunk:
                chunks.append(chunk)
        return b"[" + b",".join(chunks) + b"]"

    def _record_json(self, r: ORec, now: int) -> bytes:
        if now >= r.t_end and r.cached is not None:
            return r.cached
        raw = json.dumps(record_dict(r, now, self.org_id, self.lang),
                         separators=(",", ":")).encode()
        if now >= r.t_end:
            r.cached = raw
        return raw


_INT = re.compile(r"\s*[+-]?[0-9]+\s*")


class OriginsTruth:
    """Origins' part of `sim.truth`."""

    def __init__(self, sim: Any) -> None:
        self._sim = sim

    def origins_calls(self, env: str, agent_id: int) -> list[dict]:
        """The bare array of /api/agents/{agent_id}/call_stats (oldest first)."""
        sim = self._sim
        with sim.lock:
            return sim.store(env, KEY).records(agent_id, sim.now_ts())


class OriginsPlugin(Plugin):
    key = KEY
    label = "Origins AI"
    token_prefix = "orig_"

    # Beside the others, so every page shows (the Quality tab, transcripts).
    demo_names = {"origins-demo": "Acme Quality"}

    def default_environments(self) -> dict[str, EnvironmentSpec]:
        """One organisation (agents 4012, 4013, 4027, 4051; 40 calls a day)."""
        return {"origins-demo": EnvironmentSpec(KEY, agent_ids=(4012, 4013, 4027, 4051),
                                                calls_per_day=40, utc_offset_hours=-3)}

    def check_spec(self, spec: EnvironmentSpec) -> None:
        if not spec.agent_ids:
            raise ValueError("an Origins environment needs at least one integer agent id")

    def make_store(self, sim: Any, env: str, spec: EnvironmentSpec) -> OriginsStore:
        config = sim.config
        return OriginsStore(env, spec.agent_ids, config.seed, sim.start_date.toordinal(),
                            40 if spec.calls_per_day is None else spec.calls_per_day,
                            spec.utc_offset_hours, config.bad_record_rate, config.cache_days)

    def route(self, parts: list[str]) -> tuple[str, str | None] | None:
        if len(parts) == 4 and parts[:2] == ["api", "agents"] and parts[3] == "call_stats":
            return "call_stats", parts[2]
        return None

    def not_found(self, parts: list[str]) -> Response | None:
        if parts[:2] == ["api", "agents"]:
            return json_response(404, {"detail": "Not Found"})
        return None

    def answer(self, sim: Any, env: str, route: tuple[str, str | None],
               query: dict[str, list[str]], body: bytes) -> Response:
        raw_id = route[1] or ""
        if not _INT.fullmatch(raw_id):
            return json_response(422, {"detail": [{
                "type": "int_parsing", "loc": ["path", "agent_id"],
                "msg": "Input should be a valid integer, unable to parse string as an integer",
                "input": raw_id,
            }]})
        store = sim.store(env, KEY)
        agent_id = int(raw_id)
        if agent_id not in store.agent_ids:
            return json_response(404, {"detail": "Agent not found"})
        return Response(200, store.records_json(agent_id, sim.now_ts()))

    def error(self, status: int, state: str = "") -> Response:
        if status == 401:
            detail = "Not authenticated" if state == "missing" else "Unauthorized"
            return json_response(401, {"detail": detail})
        if status == 405:
            return json_response(405, {"detail": "Method Not Allowed"})
        if status == 429:
            return json_response(429, {"detail": "Too Many Requests"})
        return Response(500, b"Internal Server Error", "text/plain; charset=utf-8")

    def tamper(self, tampering: Tampering, route: str, query: dict[str, list[str]],
               body: bytes) -> bytes:
        if not tampering.calls:
            return body
        doc = json.loads(body)
        if not isinstance(doc, list):
            return body
        return dumps([patched(r, tampering.calls.get(str(r.get("call_id")))) for r in doc])

    def insert(self, sim: Any, store: OriginsStore, count: int, filt: object,
               lo: int | None, hi: int | None) -> list[Any]:
        raise KeyError(f"{store.env!r}: the Origins AI simulator inserts no calls")

    def end_late(self, sim: Any, store: OriginsStore, call_id: str, until_ts: int) -> None:
        raise KeyError(f"{store.env!r}: the Origins AI simulator has no late statuses")

    def members(self, sim: Any) -> dict[str, Any]:
        def origins_store(env: str) -> OriginsStore:
            return sim.store(env, KEY)

        def origins_agent_ids(env: str) -> tuple[int, ...]:
            return sim.store(env, KEY).agent_ids

        return {"origins_envs": sim.envs_of(KEY), "origins_store": origins_store,
                "origins_agent_ids": origins_agent_ids}

    def truth(self, sim: Any) -> OriginsTruth:
        return OriginsTruth(sim)

    def describe(self, sim: Any, env: str) -> str:
        return f"(agents {', '.join(str(i) for i in sim.store(env, KEY).agent_ids)})"


PLUGIN = OriginsPlugin()
