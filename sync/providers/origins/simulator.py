"""Origins AI data: call records per (environment, UTC day), served per integer agent id.

A record's rich parts (transcript, costs, insights) come from its own seed, so they are the
same at every clock; which parts are present depends on the call's state at the clock.
"""
from __future__ import annotations

import json
import math
import random
from collections import OrderedDict
from datetime import date
from typing import Any

from .catalog import (
    CUSTOMER_NAMES,
    SUMMARIES,
    TRANSCRIPT_LINES,
    WEEKDAY_FACTOR,
    day_times,
    hour_cum,
    iso_offset,
    number_from,
    ordinal_of,
    seeded,
    uuid4_from,
)

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
        "hangup_cause_name": ("NORMAL_CLEARING" if r.t_ans >= 0 else d["cause"])
        if ended else None,
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
