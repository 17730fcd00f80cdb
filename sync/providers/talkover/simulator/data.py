"""Talkover data generation: agents per environment, calls per (environment, UTC day).

Everything is a pure function of ``(seed, environment, day)`` (callbacks also read the base
calls of the ``callback_match_days`` days before), so any day can be generated alone, in any
order, in any process, and comes out identical.
"""
from __future__ import annotations

import math
import random
from bisect import bisect_left
from collections.abc import Sequence
from datetime import date
from statistics import NormalDist

from sync.simulator.catalog import (
    DAY,
    WEEKDAY_FACTOR,
    day_count,
    day_start,
    day_times,
    format_number,
    hour_cum,
    iso_z,
    mix64,
    number_from,
    reserved_number,
    seeded,
    uuid4_from,
)
from sync.simulator.response import dumps

# (name, label, language, description). Unicode on purpose: the portal shows these verbatim.
OUTBOUND_AGENTS = (
    ("Vendas São Paulo", "Vendas SP", "pt-BR", "Prospecção ativa de leads na Grande São Paulo."),
    ("Sales Outbound", "Sales", "en-US", "Qualifies inbound web leads by phone."),
    ("Survey Outbound", "Survey", "en-US", "Post-purchase satisfaction survey (CSAT)."),
    ("Pesquisa de Satisfação", "NPS", "pt-BR", "Pesquisa NPS trimestral com clientes ativos."),
    ("Renovação de Contratos", "Renovação", "pt-BR", "Lembra clientes de renovar o contrato."),
    ("Reactivation — Q3 Leads", "Reactivation", "en-US", "Win-back campaign for lapsed users."),
    ("Cobrança Amigável", "Cobrança", "pt-BR", "Lembretes de pagamento em atraso."),
    ("Encuesta de Satisfacción", "Encuesta", "es-MX", "Encuesta de satisfacción postventa."),
)
INBOUND_AGENTS = (
    ("Überweisung Support", "Überweisung", "de-DE", "Hilfe bei Überweisungen und Lastschriften."),
    ("客服", "客服中心", "zh-CN", "中文客户服务热线。"),
    ("Support Inbound", "Support", "en-US", "Tier-1 support line."),
    ("Atendimento Nível 1", "N1", "pt-BR", "Primeiro atendimento ao cliente."),
    ("Billing Help Desk", "Billing", "en-US", "Invoices, refunds and payment methods."),
    ("Soporte Técnico", "Soporte", "es-MX", "Soporte técnico de primer nivel."),
    ("Réservations Hôtel", "Réservations", "fr-FR", "Réservations et annulations."),
)
CALLBACK_AGENTS = (
    ("Callback Vendas", "Retorno", "pt-BR", "Atende quem retorna ligações das campanhas."),
    ("Rückruf-Agent", "Rückruf", "de-DE", "Nimmt Rückrufe auf Kampagnenanrufe an."),
    ("Callback Desk", "Callback", "en-US", "Answers people calling back a campaign number."),
)
SANDBOX_AGENT = ("Sandbox — Test Agent 🧪", "Sandbox", "en-US", "Prompt experiments; test calls.")

KEY = "talkover"  # the provider, as `EnvironmentSpec.vendor`
STATUSES = ("initiated", "ringing", "answered", "completed", "failed", "busy", "no-answer")
DIRECTIONS = ("inbound", "outbound")
ANSWERED = frozenset({"answered", "completed"})
# Final statuses that may be reported late (an "answered"/"initiated" final never comes).
LATE_FINALS = frozenset({"completed", "no-answer", "busy", "failed"})
# Final statuses; "answered"/"initiated" finals are calls whose last event never came.
OUTBOUND_FINAL = (
    ("completed", 0.53), ("no-answer", 0.22), ("busy", 0.09), ("failed", 0.15),
    ("answered", 0.005), ("initiated", 0.005),
)
INBOUND_FINAL = (
    ("completed", 0.86), ("no-answer", 0.06), ("busy", 0.02), ("failed", 0.05),
    ("answered", 0.005), ("initiated", 0.005),
)
CALLBACK_SHARE = 0.05
MATCHED_SHARE = 0.85
# How long after a missed outbound call its callback comes (seconds): log-normal, median
# ~1.5 h, most within a working day, a few the next day — as people ring back a number
# that called them (a demo median of 92 h read as nobody ever calling back).
CALLBACK_DELAY_MEDIAN = 5400
CALLBACK_DELAY_SIGMA = 1.1
DRAFT_FROM_NUMBER = "+15005550006"
# The longest a call can take from creation to its final state (ring + answer + talk).
MAX_CALL_SPAN = 6 + 25 + 3600
# Answered calls talk for a log-normal time (median 75 s, sigma 1: a long tail), capped at
# an hour; drawn from a quantile table, several times cheaper than a gauss() per call.
_TALK_POINTS = 8192
_TALK = [
    min(3600, max(5, int(math.exp(math.log(75) + NormalDist().inv_cdf((i + 0.5) / _TALK_POINTS)))))
    for i in range(_TALK_POINTS)
]
NOT_CALLBACK = -2
UNMATCHED = -1


def _cum(pairs: Sequence[tuple[str, float]]) -> tuple[tuple[str, ...], list[float]]:
    names = tuple(p[0] for p in pairs)
    acc, out = 0.0, []
    for _, w in pairs:
        acc += w
        out.append(acc)
    return names, [c / acc for c in out]


_OUT_NAMES, _OUT_CUM = _cum(OUTBOUND_FINAL)
_IN_NAMES, _IN_CUM = _cum(INBOUND_FINAL)


class Agent:
    """A Talkover agent; ``kind`` is outbound, inbound, callback, sandbox or draft."""

    __slots__ = (
        "idx", "id", "name", "label", "description", "language", "direction", "status",
        "sandbox", "created", "updated", "numbers", "kind", "sources", "ref", "ref_json",
    )

    def as_dict(self) -> dict:
        return {
            "id": self.id, "name": self.name, "label": self.label,
            "description": self.description, "language": self.language,
            "direction": self.direction, "current_status": self.status,
            "is_sandbox": self.sandbox, "created_at": iso_z(self.created),
            "updated_at": iso_z(self.updated), "phone_numbers": list(self.numbers),
        }

    def as_callback_dict(self, agents: Sequence[Agent]) -> dict:
        return {
            "id": self.id, "name": self.name, "label": self.label,
            "direction": self.direction, "current_status": self.status,
            "callback_config": {"source_agent_ids": [agents[i].id for i in self.sources]},
        }


class CallRec:
    """One call's whole life: its state at any clock follows from the transition times.

    ``t_ans`` is -1 for calls never answered. ``t_hang`` is when the call really ended
    (its talk time), ``t_end`` when its final status is reported: later for a late call
    (`config.Lateness`). ``src`` is NOT_CALLBACK for calls to non-callback agents, UNMATCHED,
    or the index of the attributed outbound agent.
    """

    __slots__ = (
        "id", "sid", "to", "frm", "testing", "agent", "direction", "final",
        "t0", "t_ring", "t_ans", "t_hang", "t_end", "src", "json_a", "json_n",
    )

    def sort_key(self) -> tuple[int, str]:
        return (self.t0, self.id)


def state(rec: CallRec, now: int) -> tuple[str, int, int]:
    """(status, duration, updated_at) of a call at clock ``now`` (epoch seconds)."""
    if now >= rec.t_end:
        return rec.final, (rec.t_hang - rec.t_ans if rec.t_ans >= 0 else 0), rec.t_end
    if rec.t_ans >= 0 and now >= rec.t_ans:
        # A late call hung up already: its talk time is known, its final status is not.
        return "answered", min(now, rec.t_hang) - rec.t_ans, rec.t_ans
    if now >= rec.t_ring:
        return "ringing", 0, rec.t_ring
    return "initiated", 0, rec.t0


def call_dict(rec: CallRec, agents: Sequence[Agent], now: int, with_agent: bool) -> dict:
    status, duration, updated = state(rec, now)
    out = {
        "id": rec.id, "sid": rec.sid,
        "to": rec.to, "to_formatted": format_number(rec.to),
        "from": rec.frm, "from_formatted": format_number(rec.frm),
        "is_testing": rec.testing, "direction": rec.direction, "status": status,
        "duration": duration, "created_at": iso_z(rec.t0), "updated_at": iso_z(updated),
    }
    if with_agent:
        out["agent"] = dict(agents[rec.agent].ref)
    return out


def call_json(rec: CallRec, agents: Sequence[Agent], now: int, with_agent: bool) -> bytes:
    """``dumps(call_dict(...))``, byte for byte, built by hand because this is the hot path;
    cached once the call reached its final state (it never changes after that)."""
    settled = now >= rec.t_end
    if settled:
        cached = rec.json_a if with_agent else rec.json_n
        if cached is not None:
            return cached
    status, duration, updated = state(rec, now)
    # Every interpolated value is ASCII without quotes or backslashes: no escaping needed.
    text = (
        f'{{"id":"{rec.id}","sid":"{rec.sid}","to":"{rec.to}",'
        f'"to_formatted":"{format_number(rec.to)}","from":"{rec.frm}",'
        f'"from_formatted":"{format_number(rec.frm)}",'
        f'"is_testing":{"true" if rec.testing else "false"},"direction":"{rec.direction}",'
        f'"status":"{status}","duration":{duration},"created_at":"{iso_z(rec.t0)}",'
        f'"updated_at":"{iso_z(updated)}"'
    )
    raw = (text + f',"agent":{agents[rec.agent].ref_json}}}' if with_agent else text + "}").encode()
    if settled:
        if with_agent:
            rec.json_a = raw
        else:
            rec.json_n = raw
    return raw


class Digest:
    """A day's outbound dialling, as the callback rule sees it."""

    __slots__ = ("every", "dialled", "candidates", "missed")

    def __init__(self) -> None:
        self.every: set[str] = set()  # every number dialled out, test calls included
        # number -> [(created, id, agent)] of non-testing outbound calls
        self.dialled: dict[str, list[tuple[int, str, int]]] = {}
        self.candidates: list[str] = []  # numbers a callback may come from
        # (created, number) of the source agents' calls nobody answered, ascending: who
        # rings back, some hours later
        self.missed: list[tuple[int, str]] = []


class Profile:
    """The fixed part of a Talkover environment: agents, number pools, volume, daily rhythm."""

    # (start, end, share): answered calls created in [start, end) epoch seconds end as
    # no-answer with probability share (SimulatorConfig.answer_drop); None: no change.
    answer_drop: tuple[int, int, float] | None = None
    # (cumulative share, min seconds, max seconds) of late final statuses (config.Lateness).
    lateness: tuple[tuple[float, int, int], ...] = ()
    # (start, end, factor): calls created in [start, end) epoch seconds are kept with
    # probability factor (SimulatorConfig.dips); empty: no change.
    dips: tuple[tuple[int, int, float], ...] = ()

    def __init__(self, seed: int, env: str, calls_per_day: int, utc_offset: int,
                 testing_rate: float, start_ordinal: int) -> None:
        self.seed, self.env = seed, env
        rng = seeded(seed, env, "profile")
        self.salt = rng.getrandbits(64)
        self.br_share = rng.uniform(0.25, 0.75)
        self.base_mean = calls_per_day * (1 - CALLBACK_SHARE)
        self.callback_mean = calls_per_day * CALLBACK_SHARE
        self.lead_pool = max(50, calls_per_day * 20)
        self._leads: dict[int, str] = {}  # lead index -> number, memoised
        self.hour_cum = hour_cum(utc_offset)
        self.agents = self._make_agents(rng, start_ordinal)
        self.by_id = {a.id: a for a in self.agents}
        self.callback_idx = [a.idx for a in self.agents if a.kind == "callback"]
        self.sources = {i for c in self.callback_idx for i in self.agents[c].sources}
        fixed = {"sandbox": 0.01, "draft": 0.01}
        callers = [a for a in self.agents if a.kind != "callback"]
        raw = {a.idx: rng.uniform(0.5, 1.5) for a in callers if a.kind not in fixed}
        forced = sum(fixed.get(a.kind, 0.0) for a in callers)
        scale = (1 - forced) / sum(raw.values())
        self.base_agents = [a.idx for a in callers]
        acc, self.base_cum = 0.0, []
        for a in callers:
            acc += fixed[a.kind] if a.kind in fixed else raw[a.idx] * scale
            self.base_cum.append(acc)
        # Sandbox and draft calls are all tests; the others get the rate that brings the
        # overall testing share to testing_rate.
        self.p_test = max(0.0, (testing_rate - forced) / (1 - forced))

    def _make_agents(self, rng: random.Random, start_ordinal: int) -> list[Agent]:
        n_out, n_in, n_cb = rng.randint(2, 3), rng.randint(2, 3), rng.randint(1, 2)
        outs = rng.sample(OUTBOUND_AGENTS, n_out + 1)
        plan = [("outbound", "outbound", t) for t in outs[:n_out]]
        plan += [("inbound", "inbound", t) for t in rng.sample(INBOUND_AGENTS, n_in)]
        plan += [("callback", "inbound", t) for t in rng.sample(CALLBACK_AGENTS, n_cb)]
        plan.append(("sandbox", rng.choice(DIRECTIONS), SANDBOX_AGENT))
        plan.append(("draft", "outbound", outs[n_out]))
        start = day_start(start_ordinal)
        agents: list[Agent] = []
        for idx, (kind, direction, (name, label, language, description)) in enumerate(plan):
            a = Agent()
            a.idx, a.kind, a.direction = idx, kind, direction
            a.id = uuid4_from(rng.getrandbits(128))
            a.name, a.label, a.language, a.description = name, label, language, description
            a.status = "draft" if kind == "draft" else "published"
            a.sandbox = kind == "sandbox"
            a.created = start - rng.randint(20, 400) * DAY - rng.randrange(DAY)
            a.updated = a.created + rng.randrange(start - a.created)
            count = 0 if kind == "draft" else (1 if kind in ("sandbox", "callback") else 2)
            a.numbers = [number_from(rng.getrandbits(64), self.br_share) for _ in range(count)]
            a.sources = []
            a.ref = {"id": a.id, "name": a.name, "label": a.label}
            a.ref_json = dumps(a.ref).decode()
            agents.append(a)
        outbound = [a.idx for a in agents if a.kind == "outbound"]
        callbacks = [a for a in agents if a.kind == "callback"]
        if len(callbacks) == 1:
            callbacks[0].sources = outbound
        else:
            # Two callback lines split the campaigns, sharing one so routing is ambiguous.
            cut = rng.randint(1, len(outbound) - 1)
            callbacks[0].sources = outbound[: cut + 1]
            callbacks[1].sources = outbound[cut:]
        return agents

    # --- calls ---------------------------------------------------------------------------

    def make_call(self, rng: random.Random, agent: Agent, t0: int, *,
                  number: str | None = None, testing: bool | None = None) -> CallRec:
        rnd = rng.random  # int(rnd() * n) instead of randrange: several times cheaper
        r = CallRec()
        bits = rng.getrandbits(256)
        r.id = uuid4_from(bits & ((1 << 128) - 1))
        r.sid = "CA%032x" % (bits >> 128)
        r.agent, r.direction, r.t0 = agent.idx, agent.direction, t0
        numbers = agent.numbers
        own = numbers[int(rnd() * len(numbers))] if numbers else DRAFT_FROM_NUMBER
        if agent.direction == "outbound":
            if number is None:
                lead = int(rnd() * self.lead_pool)
                number = self._leads.get(lead)
                if number is None:
                    number = self._leads[lead] = number_from(mix64(self.salt + lead),
                                                             self.br_share)
            r.frm, r.to = own, number
        else:
            if number is None:
                number = number_from(rng.getrandbits(64), self.br_share)
            r.frm, r.to = number, own
        if testing is None:
            testing = agent.kind in ("sandbox", "draft") or rnd() < self.p_test
        r.testing = testing
        names, cum = (_OUT_NAMES, _OUT_CUM) if agent.direction == "outbound" else (
            _IN_NAMES, _IN_CUM)
        r.final = final = names[min(bisect_left(cum, rnd()), len(names) - 1)]
        drop = self.answer_drop
        if drop is not None and final in ANSWERED and drop[0] <= t0 < drop[1] \
                and rnd() < drop[2]:
            r.final = final = "no-answer"
        r.t_ring = t0 + 1 + int(rnd() * 6)
        r.t_ans = -1
        if final in ANSWERED:
            r.t_ans = r.t_ring + 3 + int(rnd() * 23)
            r.t_end = r.t_ans + _TALK[int(rnd() * _TALK_POINTS)]
        elif final == "no-answer":
            r.t_end = r.t_ring + 25 + int(rnd() * 21)
        elif final == "busy":
            r.t_end = r.t_ring + 2 + int(rnd() * 7)
        elif final == "failed":
            r.t_end = r.t_ring + int(rnd() * 6)
        else:  # stuck in "initiated": no event ever came
            r.t_ring = r.t_end = t0
        r.t_hang = r.t_end
        r.src = NOT_CALLBACK
        r.json_a = r.json_n = None
        return r

    def day_size(self, ordinal: int) -> int:
        """How many calls (base + callbacks) a day has, without generating it: the count is
        the first draw of each day's generators."""
        weekday = WEEKDAY_FACTOR[date.fromordinal(ordinal).weekday()]
        n = day_count(seeded(self.seed, self.env, ordinal, "base"), self.base_mean * weekday)
        if self.callback_idx:
            rng = seeded(self.seed, self.env, ordinal, "callbacks")
            n += day_count(rng, self.callback_mean * weekday)
        return n

    def base_day(self, ordinal: int) -> list[CallRec]:
        """Outbound and inbound (non-callback) calls of one UTC day, unsorted."""
        rng = seeded(self.seed, self.env, ordinal, "base")
        mean = self.base_mean * WEEKDAY_FACTOR[date.fromordinal(ordinal).weekday()]
        times = day_times(rng, ordinal, mean, self.hour_cum)
        ds = day_start(ordinal)
        # Campaign dialers fire at exactly midnight; some calls start in the last second.
        at_midnight = min(len(times), rng.choice((0, 1, 1, 2, 3)))
        times[:at_midnight] = [ds] * at_midnight
        if len(times) > at_midnight and rng.random() < 0.5:
            times[at_midnight] = ds + DAY - 1
        picks = rng.choices(self.base_agents, cum_weights=self.base_cum, k=len(times))
        calls = [self.make_call(rng, self.agents[a], t)
                 for a, t in zip(picks, times, strict=True)]
        self.make_late(calls, seeded(self.seed, self.env, ordinal, "late"))
        return self._thinned(calls, ordinal, "base") if self.dips else calls

    def make_late(self, calls: list[CallRec], rng: random.Random) -> None:
        """Delay some final statuses (`lateness`), from a generator of their own: the calls
        themselves stay what the seed made them."""
        bands = self.lateness
        if not bands:
            return
        rnd = rng.random
        for r in calls:
            x = rnd()
            if r.final not in LATE_FINALS:
                continue
            for cum, low, high in bands:
                if x < cum:
                    r.t_end = r.t_hang + low + int(rnd() * (high - low + 1))
                    break

    def dipped(self, ordinal: int) -> bool:
        """Whether a dip touches this UTC day (its size must then be counted, not drawn)."""
        start = day_start(ordinal)
        return any(lo < start + DAY and hi > start for lo, hi, _ in self.dips)

    def _thinned(self, calls: list[CallRec], ordinal: int, part: str) -> list[CallRec]:
        """The calls a dip keeps: one draw per call inside a dip, from a generator of its
        own, so the calls outside every dip are exactly the undipped ones."""
        if not self.dipped(ordinal):
            return calls
        rng = seeded(self.seed, self.env, ordinal, part, "dip")
        kept = []
        for rec in calls:
            factor = next((f for lo, hi, f in self.dips if lo <= rec.t0 < hi), None)
            if factor is None or rng.random() < factor:
                kept.append(rec)
        return kept

    def digest(self, calls: list[CallRec]) -> Digest:
        """What callbacks of later days need from a day's base calls."""
        sources = self.sources
        d = Digest()
        for r in calls:
            if r.direction != "outbound":
                continue
            d.every.add(r.to)
            if not r.testing:
                d.dialled.setdefault(r.to, []).append((r.t0, r.id, r.agent))
                if r.agent in sources:
                    d.candidates.append(r.to)
                    if r.final not in ANSWERED:
                        d.missed.append((r.t0, r.to))
        d.missed.sort()
        return d

    @staticmethod
    def _missed_before(missed: list[tuple[int, str]], t0: int, rng: random.Random
                       ) -> str | None:
        """The number of the missed call closest to a log-normal delay before ``t0``."""
        if not missed:
            return None
        delay = rng.lognormvariate(math.log(CALLBACK_DELAY_MEDIAN), CALLBACK_DELAY_SIGMA)
        i = bisect_left(missed, (t0 - int(delay), ""))
        i = min(i, bisect_left(missed, (t0, "")) - 1)
        return missed[i][1] if i >= 0 else None

    def callback_day(self, ordinal: int, today: Digest, window: list[Digest]) -> list[CallRec]:
        """Callbacks of a day; ``window`` digests the base calls of the N preceding days.

        A callback is matched when a non-testing outbound call reached its ``from`` number on
        one of those N days or earlier the same day; it is attributed to the agent of the most
        recent such call. Matched numbers are those of the source agents' unanswered calls of
        that window, the one closest to a log-normal delay (median `CALLBACK_DELAY_MEDIAN`)
        before the callback, else any number they dialled; unmatched ones are fresh numbers
        never dialled in it, so the rule holds by construction.
        """
        if not self.callback_idx:
            return []
        rng = seeded(self.seed, self.env, ordinal, "callbacks")
        mean = self.callback_mean * WEEKDAY_FACTOR[date.fromordinal(ordinal).weekday()]
        times = sorted(day_times(rng, ordinal, mean, self.hour_cum))
        candidates = [n for d in window for n in d.candidates]
        digests = [*window, today]
        missed = sorted(m for d in digests for m in d.missed)
        out = []
        for t0 in times:
            matched = rng.random() < MATCHED_SHARE
            number = self._missed_before(missed, t0, rng) if matched else None
            if number is None and matched and candidates:
                number = candidates[int(rng.random() * len(candidates))]
            if number is None:
                number = number_from(rng.getrandbits(64), self.br_share)
                while any(number in d.every for d in digests):
                    number = number_from(rng.getrandbits(64), self.br_share)
            earlier = [c for d in digests for c in d.dialled.get(number, ()) if c[0] < t0]
            src = max(earlier)[2] if earlier else UNMATCHED
            routes = [c for c in self.callback_idx if src in self.agents[c].sources]
            line = self.agents[rng.choice(routes or self.callback_idx)]
            rec = self.make_call(rng, line, t0, number=number)
            rec.src = src
            out.append(rec)
        self.make_late(out, seeded(self.seed, self.env, ordinal, "late-callbacks"))
        return self._thinned(out, ordinal, "callbacks") if self.dips else out

    def inserted_call(self, rng: random.Random, agent: Agent, t0: int, big_id: bool) -> CallRec:
        """A call added by the ``insert`` fault: reserved numbers keep the callback rule."""
        low, high = (0, 49) if agent.direction == "outbound" else (50, 99)
        rec = self.make_call(rng, agent, t0, number=reserved_number(rng, low, high),
                             testing=False)
        if big_id:
            # Same second as the newest existing call: the id must sort above it.
            rec.id = "ffffffff" + rec.id[8:]
        if agent.kind == "callback":
            rec.src = UNMATCHED
        return rec
