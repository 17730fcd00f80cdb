"""Talkover, as the simulator serves it (`sync.simulator.plugins`): its API under
``/api/v1``, from a seeded data set, at the simulator's clock.

Python: ``sim.talkover_envs``, ``sim.talkover_store(env)``, ``sim.webhooks``,
``sim.forbid_webhooks(env, agent_id=None)`` (`PLUGIN.members`); ``sim.truth``'s ``agents``,
``agents_filtered``, ``callback_agents``, ``calls``, ``call_count``, ``callback_stats``,
``timeline``, ``inserted_count`` (`truth.TalkoverTruth`); ``server.talkover_url``
(``base_url + "/api/v1"``). ``SimulatorConfig``'s ``answer_drop``, ``dips`` and
``date_zone`` shape this vendor's data only.

Talkover HTTP (``/api/v1``, ``Authorization: Bearer talq_...``)
================================================================
``GET /calls`` (items carry ``agent: {id, name, label}``) and ``GET /agents/{id}/calls``
(same filters, no ``agent``; ``agent_id`` is ignored there). Query: ``status`` (initiated,
ringing, answered, completed, failed, busy, no-answer; matched against the status *at the
clock*), ``direction``, ``agent_id`` (unknown -> 422 "The selected agent id is invalid."),
``date_from``/``date_to``, ``search``, ``per_page`` (default 20, 1..100), ``page`` (default 1).
Body ``{"success": true, "data": [...], "pagination": {current_page, last_page, per_page,
total, from, to}}``; ``last_page`` is at least 1; past the end ``data`` is ``[]`` and
``from``/``to`` are null. Items: ``id`` (uuid4), ``sid`` ("CA" + 32 lower hex), ``to``,
``to_formatted``, ``from``, ``from_formatted`` (E.164 +1/+55; "(212) 555-0143",
"(11) 98765-4321"), ``is_testing``, ``direction``, ``status``, ``duration`` (int s),
``created_at``, ``updated_at`` (``YYYY-MM-DDTHH:MM:SSZ``).

Assumptions (documented choices, the vendor does not say):
* Ordering is newest first: ``created_at`` descending, then ``id`` descending (string order).
  Several calls share a second (e.g. campaign calls at exactly 00:00:00).
* Dates are inclusive calendar days of ``created_at`` in ``date_zone`` (``--date-zone``, an
  IANA zone; UTC when unset: Talkover does not say which zone), strictly ``YYYY-MM-DD`` (anything
  else is a 422); ``date_to < date_from`` is a 422 on ``date_to``. Without dates the listing
  spans the whole data set up to the clock. Only calls with ``created_at <= now`` exist.
* ``search`` is trimmed (a raw ``+`` in a query string decodes to a space), then matched as a
  substring of ``to`` or ``from`` (E.164) or, case-insensitively, of ``sid``.
* Query values: last one wins; empty values count as absent; unknown keys are ignored.
* Every failing field is reported, e.g. ``{"status": ["The selected status is invalid."],
  "date_from": ["The date from must be a valid date."], "per_page": ["The per page must not
  be greater than 100."], "page": ["The page must be at least 1."]}``; non-integers: "The per
  page must be an integer.".

``GET /agents`` (``status`` draft|published, ``direction``, ``search`` = case-insensitive
substring of name or label, ``per_page``, ``page``): ``{"success": true, "data": [agent],
"meta": {current_page, per_page, total, last_page}}``, ordered ``created_at`` desc then
``id`` desc. Agent: ``{id, name, label, description, language, direction, current_status,
is_sandbox, created_at, updated_at, phone_numbers: [E.164 strings]}`` (a draft agent may have
none). Callback agents are agents too. ``GET /agents/{id}`` -> ``{"success": true, "data":
agent}``. ``GET /callback-agents`` -> ``{"success": true, "data": [{id, name, label,
direction, current_status, callback_config: {source_agent_ids}}]}`` (unpaginated).

``GET /callback-agents/stats?start_date&end_date`` (inclusive days of ``date_zone``, as the
date filters; defaults today-30 and today (of ``date_zone``) of the clock, each applied
alone; ``end < start`` -> 422 on ``end_date``). Figures count non-testing calls
(``is_testing`` calls are excluded, as the vendor excludes them from analytics) to callback
agents created on those days and existing at the clock: ``total_callbacks_received``;
``callbacks_answered`` = status answered or completed at the clock; ``callbacks_unmatched``
= no non-testing outbound call was made to the caller's ``from`` number on the
``callback_match_days`` UTC days (the data's own, whatever ``date_zone``) before the
callback's day or earlier that day (strictly earlier ``created_at``);
``callbacks_by_source_agent`` counts the matched ones by the outbound agent of the most
recent such call (``name`` = that agent's), sorted by count desc, then name. So one-day
figures add up to any range.

``GET /agents/{id}/pricing`` -> ``{"success": true, "data": {agent_id, currency, components,
transport, estimated_cost_per_minute, calculated_at}}``: the plan in force at the clock
(``api.agent_price``: it changes every ``PRICE_PERIOD_DAYS`` UTC days).

``POST /agents/{id}/webhooks`` (JSON ``name``, ``webhook_url``, ``webhook_secret``,
``events``, ``timeout``, ``max_retries``, ``enabled``) registers a webhook: 201 with the
registration (never the secret), 404 unknown agent, 422 bad url/events, 403 after
``sim.forbid_webhooks(env, agent_id=None)``. Moving the clock forward POSTs, for every call
that reached its final status meanwhile, ``{"event", "agent_id", "call": {id, sid, status}}``
to its agent's registrations (``event_phone_call_ended``, or ``…_did_not_connect`` when not
answered), signed ``X-Talkover-Signature: sha256=<hex HMAC-SHA256 of the body>`` when a secret
was given; ``sim.webhooks.log`` / ``.wait()`` (see ``webhooks``).

Errors: unknown token or a token of another vendor -> 401 ``{"success": false, "message":
"Unauthorized"}``; no/empty/non-Bearer header -> 401 ``{"message": "Missing Bearer Token"}``;
revoked token -> 401 ``{"success": false, "error": {"code": "INVALID_TOKEN", "message":
"Authentication token is invalid or missing", "details": {}}}``; unknown agent -> 404
``{"success": false, "message": "Agent not found"}``; unknown path -> 404 error shape with
code NOT_FOUND (before auth); non-GET -> 405 error shape (METHOD_NOT_ALLOWED); 500 ->
``{"success": false, "message": "Internal server error."}``; 429 -> ``{"success": false,
"message": "Too Many Attempts."}`` with ``Retry-After`` (seconds).

Data set
========
A pure function of (seed, environment, UTC day), generated lazily per day with an LRU of
``cache_days`` days; same config => identical data in any process. Per Talkover environment
7-10 agents: 2-3 outbound, 2-3 inbound, 1-2 callback (inbound; sources = outbound agents), a
sandbox agent (all its calls are tests) and a draft agent (test calls only, no phone numbers:
its calls come from +15005550006); unicode names (one has an emoji).
About ``calls_per_day`` calls a day (5% callbacks), fewer on weekends, diurnal peak in
the workspace's business hours, 0-3 calls at exactly 00:00:00 and often one at 23:59:59;
``is_testing`` ~``testing_rate``.

Status over time: a call is ``initiated`` at ``created_at``, ``ringing`` 1-6 s later,
``answered`` (duration growing, ``updated_at`` = answer time) 3-25 s after that if answered,
then its final status at its end (``updated_at`` = end, ``duration`` = talk time; 0 unless
answered). 0.5% stay ``initiated`` forever, 0.5% stay ``answered`` (end never reported).
Late statuses (``lateness``, on by default): of the calls that end, 1% are reported final
0.5-4 h after they ended, 0.2% 12-30 h after, 0.05% 72-120 h after (still open when they leave
a two-day lookback); meanwhile they stay ``answered`` (duration = their talk time once they
hung up) or ``ringing``, and the final record carries the real talk time with
``updated_at`` = the moment it was reported (``timeline``'s ``ended_at``). Drawn from a
generator of their own: the calls are the same with lateness on or off.

The insert fault: N calls are added within the request's date range (default: the whole data
set up to the clock), strictly newer than every call existing there (if the newest call is
at the range's last possible second, they share it and get ``ffffffff``-prefixed ids), at
most at the clock. They honour the request's agent and direction (not status/search), so
pages of a newest-first offset listing shift: later pages repeat rows. They use fictional
555-01XX numbers, never callbacks' numbers, so the callback rule still holds; they appear in
``sim.truth`` like any call.
"""
from __future__ import annotations

import json
from typing import Any

from sync.simulator.catalog import to_ts
from sync.simulator.config import EnvironmentSpec
from sync.simulator.plugins import Plugin
from sync.simulator.response import Response, dumps, error_shape, json_response
from sync.simulator.tamper import Tampering, patched

from . import api
from .api import talkover_error
from .data import KEY, Profile
from .store import Filter, TalkoverStore
from .truth import TalkoverTruth
from .webhooks import Webhooks


def _route(parts: list[str]) -> tuple[str, str | None] | None:
    if parts == ["calls"]:
        return "calls", None
    if parts == ["agents"]:
        return "agents", None
    if len(parts) == 2 and parts[0] == "agents" and parts[1]:
        return "agent", parts[1]
    if len(parts) == 3 and parts[0] == "agents" and parts[2] == "calls" and parts[1]:
        return "agent_calls", parts[1]
    if len(parts) == 3 and parts[0] == "agents" and parts[2] == "pricing" and parts[1]:
        return "agent_pricing", parts[1]
    if len(parts) == 3 and parts[0] == "agents" and parts[2] == "webhooks" and parts[1]:
        return "agent_webhooks", parts[1]
    if parts == ["callback-agents"]:
        return "callback_agents", None
    if parts == ["callback-agents", "stats"]:
        return "callback_stats", None
    return None


class TalkoverPlugin(Plugin):
    key = KEY
    label = "Talkover"
    token_prefix = "talq_"
    base_path = "/api/v1"
    post_routes = frozenset({"agent_webhooks"})
    rate_limit_headers = True
    volume_dips = True
    demo_names = {"acme-sales": "Acme Sales", "acme-support": "Acme Support"}

    def default_environments(self) -> dict[str, EnvironmentSpec]:
        """Three workspaces."""
        return {"acme-sales": EnvironmentSpec(KEY, utc_offset_hours=-3),
                "acme-support": EnvironmentSpec(KEY, utc_offset_hours=-5),
                "globex": EnvironmentSpec(KEY, utc_offset_hours=1)}

    def check_spec(self, spec: EnvironmentSpec) -> None:
        if spec.agent_ids:
            raise ValueError("Talkover agents are generated; it takes no agent_ids")

    def make_store(self, sim: Any, env: str, spec: EnvironmentSpec) -> TalkoverStore:
        config, first = sim.config, sim.start_date.toordinal()
        cpd = config.calls_per_day if spec.calls_per_day is None else spec.calls_per_day
        profile = Profile(config.seed, env, cpd, spec.utc_offset_hours, config.testing_rate,
                          first)
        profile.lateness = sim.lateness_bands()
        if config.answer_drop is not None:
            drop = config.answer_drop
            profile.answer_drop = (to_ts(drop.start), to_ts(drop.end), drop.share)
        profile.dips = tuple((to_ts(d.start), to_ts(d.end), d.factor) for d in config.dips)
        return TalkoverStore(env, profile, first, config.callback_match_days, config.cache_days,
                             config.seed, sim.date_zone)

    def route(self, parts: list[str]) -> tuple[str, str | None] | None:
        return _route(parts[2:]) if parts[:2] == ["api", "v1"] else None

    def answer(self, sim: Any, env: str, route: tuple[str, str | None],
               query: dict[str, list[str]], body: bytes) -> Response:
        name, arg = route
        if name == "agent_webhooks":
            return sim.webhooks.create(sim, env, arg or "", body)
        if name == "calls":
            return api.list_calls(sim, env, query, None)
        if name == "agents":
            return api.list_agents(sim, env, query)
        if name == "agent":
            return api.get_agent(sim, env, arg or "")
        if name == "agent_calls":
            return api.agent_calls(sim, env, arg or "", query)
        if name == "agent_pricing":
            return api.agent_pricing(sim, env, arg or "", sim.now_ts())
        if name == "callback_agents":
            return api.callback_agents(sim, env)
        return api.callback_stats(sim, env, query)

    def error(self, status: int, state: str = "") -> Response:
        if status == 401:
            if state == "missing":
                return json_response(401, {"message": "Missing Bearer Token"})
            if state == "revoked":
                return error_shape(401, "INVALID_TOKEN",
                                   "Authentication token is invalid or missing")
            return talkover_error(401, "Unauthorized")
        if status == 405:
            return error_shape(405, "METHOD_NOT_ALLOWED", f"The {state} method is not supported.")
        if status == 429:
            return talkover_error(429, "Too Many Attempts.")
        return talkover_error(500, "Internal server error.")

    def tamper(self, tampering: Tampering, route: str, query: dict[str, list[str]],
               body: bytes) -> bytes:
        if not tampering:
            return body
        doc = json.loads(body)
        if route in ("calls", "agent_calls"):
            items = [patched(c, tampering.calls.get(str(c.get("id")))) for c in doc["data"]]
            if items and tampering.extra_items:
                items += [{**items[0], "id": f"{items[0]['id']}-extra-{i}"}
                          for i in range(tampering.extra_items)]
            doc["data"] = items
        elif route in ("agents", "callback_agents"):
            doc["data"] = [patched(a, tampering.agents.get(str(a.get("id"))))
                           for a in doc["data"]]
        elif route == "agent":
            doc["data"] = patched(doc["data"], tampering.agents.get(str(doc["data"].get("id"))))
        elif route == "callback_stats":
            start, end = query.get("start_date", [""])[-1], query.get("end_date", [""])[-1]
            if start == end:
                doc["data"] = patched(doc["data"], tampering.callback_days.get(start))
        return dumps(doc)

    def insert(self, sim: Any, store: TalkoverStore, count: int, filt: object,
               lo: int | None, hi: int | None) -> list[Any]:
        chosen = filt if isinstance(filt, Filter) else Filter()
        return store.insert(count, chosen, lo, hi, sim.now_ts())

    def end_late(self, sim: Any, store: TalkoverStore, call_id: str, until_ts: int) -> None:
        store.end_late(call_id, until_ts, sim.now_ts())

    def members(self, sim: Any) -> dict[str, Any]:
        webhooks = Webhooks()

        def forbid_webhooks(env: str, agent_id: str | None = None) -> None:
            """The token may not manage webhooks (of one agent, or of all): POST answers 403."""
            with sim.lock:
                webhooks.forbidden.add((env, agent_id))

        def talkover_store(env: str) -> TalkoverStore:
            return sim.store(env, KEY)

        return {"webhooks": webhooks, "forbid_webhooks": forbid_webhooks,
                "talkover_envs": sim.envs_of(KEY), "talkover_store": talkover_store}

    def truth(self, sim: Any) -> TalkoverTruth:
        return TalkoverTruth(sim)

    def clock_moved(self, sim: Any, before: int, after: int) -> None:
        sim.webhooks.clock_moved(sim, before, after)


PLUGIN = TalkoverPlugin()
