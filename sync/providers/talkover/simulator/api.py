"""Talkover endpoints: query validation (Laravel-style 422s) and response bodies."""
from __future__ import annotations

import re
from datetime import date, timedelta

from sync.providers.talkover.envelope import pagination
from sync.simulator.host import Stores
from sync.simulator.response import Listing, Response, json_response

from .data import DIRECTIONS, KEY, STATUSES, Agent, call_json, dumps
from .store import Filter

_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_INT = re.compile(r"[+-]?[0-9]+")


def talkover_error(status: int, message: str) -> Response:
    return json_response(status, {"success": False, "message": message})


def agent_not_found() -> Response:
    return talkover_error(404, "Agent not found")


class Params:
    """Reads query values the Laravel way: last value wins, empty strings mean absent."""

    def __init__(self, query: dict[str, list[str]]) -> None:
        self.values = {k: v[-1] for k, v in query.items() if v and v[-1] != ""}
        self.errors: dict[str, list[str]] = {}

    def error(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)

    def text(self, name: str) -> str | None:
        value = self.values.get(name)
        # TrimStrings: a raw "+" in a query decodes to a space, so "+5511..." still matches.
        value = value.strip() if value is not None else None
        return value or None

    def choice(self, name: str, options: tuple[str, ...]) -> str | None:
        value = self.values.get(name)
        if value is not None and value not in options:
            self.error(name, f"The selected {_label(name)} is invalid.")
            return None
        return value

    def date(self, name: str) -> date | None:
        value = self.values.get(name)
        if value is None:
            return None
        try:
            if not _DATE.fullmatch(value):
                raise ValueError(value)
            return date.fromisoformat(value)
        except ValueError:
            self.error(name, f"The {_label(name)} must be a valid date.")
            return None

    def integer(self, name: str, default: int, minimum: int, maximum: int | None = None) -> int:
        value = self.values.get(name)
        if value is None:
            return default
        if not _INT.fullmatch(value):
            self.error(name, f"The {_label(name)} must be an integer.")
            return default
        n = int(value)
        if n < minimum:
            self.error(name, f"The {_label(name)} must be at least {minimum}.")
        elif maximum is not None and n > maximum:
            self.error(name, f"The {_label(name)} must not be greater than {maximum}.")
        return n

    def after_or_equal(self, first: str, second: str, a: date | None, b: date | None) -> None:
        if a is not None and b is not None and b < a:
            self.error(second, f"The {_label(second)} must be a date after or equal to "
                               f"{_label(first)}.")

    def invalid(self) -> Response | None:
        if not self.errors:
            return None
        return json_response(422, {"success": False, "message": "The given data was invalid.",
                                   "errors": self.errors})


def _label(name: str) -> str:
    return name.replace("_", " ")



def list_calls(sim: Stores, env: str, query: dict[str, list[str]],
               agent: Agent | None) -> Response:
    """/calls (``agent`` None, items carry ``agent``) or /agents/{id}/calls (no ``agent``)."""
    store = sim.store(env, KEY)
    p = Params(query)
    status = p.choice("status", STATUSES)
    direction = p.choice("direction", DIRECTIONS)
    d_from, d_to = p.date("date_from"), p.date("date_to")
    p.after_or_equal("date_from", "date_to", d_from, d_to)
    search = p.text("search")
    per_page = p.integer("per_page", 20, 1, 100)
    page = p.integer("page", 1, 1)
    agent_idx = agent.idx if agent is not None else None
    if agent is None and p.text("agent_id") is not None:
        chosen = store.profile.by_id.get(p.text("agent_id") or "")
        if chosen is None:
            p.error("agent_id", "The selected agent id is invalid.")
        else:
            agent_idx = chosen.idx
    invalid = p.invalid()
    if invalid:
        return invalid
    filt = Filter(agent_idx, status, direction, search)
    lo = d_from.toordinal() if d_from else None
    hi = d_to.toordinal() if d_to else None
    with sim.lock:
        now = sim.now_ts()
        total, recs = store.page(filt, lo, hi, now, (page - 1) * per_page, per_page)
        items = [call_json(r, store.profile.agents, now, agent is None) for r in recs]
    body = b"".join((
        b'{"success":true,"data":[', b",".join(items), b'],"pagination":',
        dumps(pagination(page, per_page, total, len(items))), b"}",
    ))
    return Response(200, body, listing=Listing(env, filt, lo, hi, page))


def sorted_agents(agents: list[Agent]) -> list[Agent]:
    """The /agents order: newest ``created_at`` first, then ``id`` descending."""
    return sorted(agents, key=lambda a: (a.created, a.id), reverse=True)


def filter_agents(agents: list[Agent], status: str | None, direction: str | None,
                  search: str | None) -> list[Agent]:
    needle = search.casefold() if search else None
    return [
        a for a in sorted_agents(agents)
        if status in (None, a.status) and direction in (None, a.direction)
        and (needle is None or needle in a.name.casefold() or needle in a.label.casefold())
    ]


def list_agents(sim: Stores, env: str, query: dict[str, list[str]]) -> Response:
    profile = sim.store(env, KEY).profile
    p = Params(query)
    status = p.choice("status", ("draft", "published"))
    direction = p.choice("direction", DIRECTIONS)
    search = p.text("search")
    per_page = p.integer("per_page", 20, 1, 100)
    page = p.integer("page", 1, 1)
    invalid = p.invalid()
    if invalid:
        return invalid
    found = filter_agents(profile.agents, status, direction, search)
    shown = found[(page - 1) * per_page: page * per_page]
    meta = pagination(page, per_page, len(found), len(shown))
    return json_response(200, {
        "success": True,
        "data": [a.as_dict() for a in shown],
        "meta": {k: meta[k] for k in ("current_page", "per_page", "total", "last_page")},
    })


def get_agent(sim: Stores, env: str, agent_id: str) -> Response:
    agent = sim.store(env, KEY).profile.by_id.get(agent_id)
    if agent is None:
        return agent_not_found()
    return json_response(200, {"success": True, "data": agent.as_dict()})


PRICE_PERIOD_DAYS = 14  # the simulated plan's price changes every 14 UTC days (epoch-based)


def agent_price(agent: Agent, now: int) -> dict:
    """The agent's prices under the plan in force at `now` (Unix seconds): deterministic per
    agent and plan period, so a test can price a past call as the snapshot of its day did."""
    period = now // 86400 // PRICE_PERIOD_DAYS
    voice = round(0.040 + 0.005 * (agent.idx % 3) + 0.010 * (period % 2), 4)
    transcription, outbound, inbound = 0.012, 0.018, 0.0085
    transport = outbound if agent.direction == "outbound" else inbound
    return {
        "agent_id": agent.id, "currency": "USD",
        "components": {
            "voice_synthesis": {"unit": "per_minute", "price": voice, "tier": "high_fidelity"},
            "transcription": {"unit": "per_minute", "price": transcription},
            "language_model": {"unit": "per_1k_tokens", "input_price": 0.0015,
                               "output_price": 0.006}},
        "transport": {"outbound": {"country_code": "US", "unit": "per_minute", "price": outbound},
                      "inbound": {"country_code": "US", "unit": "per_minute", "price": inbound}},
        "estimated_cost_per_minute": round(voice + transcription + transport, 4),
        "calculated_at": f"{date(1970, 1, 1) + timedelta(days=period * PRICE_PERIOD_DAYS)}"
                         "T00:00:00Z",
    }


def agent_pricing(sim: Stores, env: str, agent_id: str, now: int) -> Response:
    agent = sim.store(env, KEY).profile.by_id.get(agent_id)
    if agent is None:
        return agent_not_found()
    return json_response(200, {"success": True, "data": agent_price(agent, now)})


def agent_calls(sim: Stores, env: str, agent_id: str,
                query: dict[str, list[str]]) -> Response:
    agent = sim.store(env, KEY).profile.by_id.get(agent_id)
    if agent is None:
        return agent_not_found()
    return list_calls(sim, env, query, agent)


def callback_agents(sim: Stores, env: str) -> Response:
    agents = sim.store(env, KEY).profile.agents
    data = [a.as_callback_dict(agents) for a in agents if a.kind == "callback"]
    return json_response(200, {"success": True, "data": data})


def callback_stats(sim: Stores, env: str, query: dict[str, list[str]]) -> Response:
    p = Params(query)
    start, end = p.date("start_date"), p.date("end_date")
    today = sim.today
    # The documented defaults, each on its own: a lone end_date earlier than 30 days ago
    # is therefore a 422, as it would be with both dates given.
    if "start_date" not in p.errors and "end_date" not in p.errors:
        start = start or today - timedelta(days=30)
        end = end or today
        p.after_or_equal("start_date", "end_date", start, end)
    invalid = p.invalid()
    if invalid:
        return invalid
    assert start is not None and end is not None
    with sim.lock:
        data = sim.store(env, KEY).callback_stats(
            start.toordinal(), end.toordinal(), sim.now_ts())
    return json_response(200, {"success": True, "data": data})

