"""Upstream simulator: Talkover and Origins AI over real HTTP, from a seeded data set.

This docstring is the contract the sync engine and its tests rely on.

Quick start
===========
::

    from sync.simulator import SimulatorConfig, running_simulator

    with running_simulator(SimulatorConfig(seed=7, days=30), spec="500=0.1") as (sim, server):
        token = sim.tokens["acme-sales"]          # "talq_" + 40 hex
        requests.get(f"{server.talkover_url}/calls", headers={"Authorization": f"Bearer {token}"})
        sim.truth.call_count("acme-sales")        # what paging /calls must add up to

Or from a shell: ``python manage.py simulate_upstream --port 8765 --faults "500=0.05"``.

Public API
==========
``SimulatorConfig(seed=42, days=90, calls_per_day=500, end_date=None, now=None,
environments=default_environments(), callback_match_days=7, testing_rate=0.03,
bad_record_rate=0.002, tokens={}, cache_days=128, realtime=False, answer_drop=None,
lateness=Lateness(), dips=(), clock_offset=timedelta(0), date_zone=None)``
    ``end_date`` defaults to today (UTC); data starts ``days - 1`` days before it and goes on
    past it if the clock moves on. ``now`` (the clock) defaults to ``end_date`` at the current
    UTC time of day, or ``end_date 23:59:59`` when ``end_date`` is past. ``environments`` maps
    keys to ``EnvironmentSpec(vendor="talkover"|"origins", agent_ids=(), calls_per_day=None,
    utc_offset_hours=0)``; default: Talkover ``acme-sales``, ``acme-support``, ``globex`` and
    Origins ``origins-demo`` (agents 4012, 4013, 4027, 4051; 40 calls a day). ``tokens``
    overrides derived tokens per environment. ``realtime=True`` makes the clock tick.
    ``lateness`` (``Lateness(bands=((0.01, 0.5, 4), (0.002, 12, 30), (0.0005, 72, 120)))``:
    share, hours) delays final statuses, see *Status over time*; ``None`` turns it off;
    ``Lateness.parse("0.04:0.5-4,0.01:12-30")`` / ``"off"`` is the command's ``--lateness``.
    ``dips``: ``Dip(start, hours, factor)`` windows where Talkover volume is multiplied by
    ``factor`` (``Dip.parse("2026-11-18T14:00Z/3h/0.1")``; ``simulate_upstream --dip``).
    ``clock_offset`` moves the default clock ahead of (negative: behind) the wall clock
    (``--clock-offset``); ``date_zone`` (an IANA zone, ``--date-zone``) is the zone of
    Talkover's date filters and callback-stats days (UTC when None).

``Simulator(config=None)``
    ``.tokens: dict[str, str]`` env -> bearer token (``talq_``/``orig_`` + 40 hex, from the
    seed). ``.now`` (aware UTC datetime, whole seconds), ``.today`` (``date_zone``'s),
    ``.set_now(dt)`` (naive = UTC), ``.advance(timedelta)``, ``.start_date``, ``.end_date``,
    ``.talkover_envs``,
    ``.origins_envs``, ``.origins_agent_ids(env)``, ``.faults`` (a ``Faults``; assigning a
    spec string parses it with the config seed), ``.revoke(env)``, ``.rotate_token(env) ->
    str`` (old token revoked), ``.is_revoked(env)``, ``.insert_calls(env, count)`` (what the
    insert fault does, over the whole data range), ``.end_late(env, call_id, until)`` (a late
    status: the call stays answered or ringing until ``until``), ``.tamper(env) ->
    Tampering`` (hostile records: per-record JSON edits of what is served, see
    ``sync.simulator.tamper``),
    ``.untamper(env)``, ``.serve(host="127.0.0.1", port=0) ->
    SimulatorServer``, ``.truth: GroundTruth``.

``SimulatorServer``
    ``.base_url`` (``http://127.0.0.1:PORT``), ``.talkover_url`` (``base_url + "/api/v1"``),
    ``.origins_url`` (``base_url``; clients append ``/api/agents/{id}/call_stats``),
    ``.request_log -> list[LoggedRequest]`` (last 10,000; ``LoggedRequest(method, path, query:
    dict, status, env, at)``, ``env`` being the token's environment or None, ``at`` the
    arrival time, ``time.time()``), ``.request_count``,
    ``.clear_log()``, ``.stop()`` (idempotent: shuts down, closes kept-alive connections,
    joins the thread); usable as a context manager. ``GET /healthz`` answers 200 (no auth).

``GroundTruth`` (``sim.truth``; pure Python, equal to what HTTP serves at the same clock)
    ``agents(env) -> list[dict]`` (/agents order, all pages); ``agents_filtered(env, status,
    direction, search)``; ``callback_agents(env)``; ``calls(env, date_from=None, date_to=None,
    *, agent_id=None, status=None, direction=None, search=None, with_agent=True) ->
    Iterator[dict]`` (exact /calls items, all pages, newest first; ``with_agent=False`` is the
    /agents/{id}/calls shape); ``call_count(...)`` (same arguments, = ``pagination.total``);
    ``callback_stats(env, start=None, end=None) -> dict`` (the ``data`` of the stats
    endpoint); ``origins_calls(env, agent_id) -> list[dict]``; ``timeline(env, id_or_sid) ->
    dict | None`` (transition times, for clock tests); ``inserted_count(env)``.

``running_simulator(config=None, **faults)`` context manager yielding ``(sim, server)``;
``faults`` are ``Faults`` fields (``error_500=0.1``) or ``spec="500=0.1,..."``.

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
(``talkover_api.agent_price``: it changes every ``PRICE_PERIOD_DAYS`` UTC days).

``POST /agents/{id}/webhooks`` (JSON ``name``, ``webhook_url``, ``webhook_secret``,
``events``, ``timeout``, ``max_retries``, ``enabled``) registers a webhook: 201 with the
registration (never the secret), 404 unknown agent, 422 bad url/events, 403 after
``sim.forbid_webhooks(env, agent_id=None)``. Moving the clock forward POSTs, for every call
that reached its final status meanwhile, ``{"event", "agent_id", "call": {id, sid, status}}``
to its agent's registrations (``event_phone_call_ended``, or ``…_did_not_connect`` when not
answered), signed ``X-Talkover-Signature: sha256=<hex HMAC-SHA256 of the body>`` when a secret
was given; ``sim.webhooks.log`` / ``.wait()`` (see ``sync.simulator.webhooks``).

Errors: unknown token or a token of another vendor -> 401 ``{"success": false, "message":
"Unauthorized"}``; no/empty/non-Bearer header -> 401 ``{"message": "Missing Bearer Token"}``;
revoked token -> 401 ``{"success": false, "error": {"code": "INVALID_TOKEN", "message":
"Authentication token is invalid or missing", "details": {}}}``; unknown agent -> 404
``{"success": false, "message": "Agent not found"}``; unknown path -> 404 error shape with
code NOT_FOUND (before auth); non-GET -> 405 error shape (METHOD_NOT_ALLOWED); 500 ->
``{"success": false, "message": "Internal server error."}``; 429 -> ``{"success": false,
"message": "Too Many Attempts."}`` with ``Retry-After`` (seconds).

Origins HTTP (``GET /api/agents/{agent_id}/call_stats``, ``Bearer orig_...``)
============================================================================
A bare JSON array of every record of the agent existing at the clock, oldest first (by queue
time: the first ``call_state_changes`` entry), no envelope, no pagination, query ignored.
``call_duration`` is seconds with one decimal; ``billed_duration`` rounds up to whole minutes.
Fields as seed 004; ``call_status`` moves QUEUED -> INITIATED -> ANSWERED|FAILED (1% stay QUEUED or
INITIATED); ``answer_time``/``end_time``/``call_duration``/``billed_duration``/hangup fields
are null until they happen; transcript, costs, quality, insights, recording only for
answered calls that ended; ``call_timeline`` is null for ~5%; timestamps are
``2024-03-31T15:20:33+00:00``. About ``bad_record_rate`` of records have ``call_id: null``.
Errors: missing header -> 401 ``{"detail": "Not authenticated"}``; bad/revoked/other-vendor
token -> 401 ``{"detail": "Unauthorized"}``; non-integer id -> 422 ``{"detail": [{"type":
"int_parsing", "loc": ["path", "agent_id"], ...}]}``; unknown id -> 404 ``{"detail": "Agent
not found"}``; 500 -> text/plain "Internal Server Error"; 429 -> ``{"detail": "Too Many
Requests"}`` + ``Retry-After``.

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

Faults
======
Spec: comma-separated ``KEY=VALUE`` items, whitespace ignored, each key at most once::

    500=P             answer 500 (vendor's error body) with probability P (0..1)
    429=P[:S]         answer 429, Retry-After S seconds (default 1)
    502=P             answer 502, text/html nginx "Bad Gateway" page
    slow=P[:S]        wait S seconds (default 2.5) before answering
    truncate=P        a 200 answer's body is cut to half its length (Content-Length matches)
    insert=N[@K][xT][:early]  after serving page K (default 2) of a call listing, add N
                      calls to the listing's range (at the head of its oldest day), at most
                      T times (default: every time); ``:early``: just before answering,
                      so the page and its total already hold them (a call arriving while
                      we page, in any listing: status listings and counts included)
    revoke=N          revoke each token after its N-th successful (2xx) request
    ratelimit=N[:W]   per token at most N requests per rolling W wall-clock seconds (def. 60);
                      beyond: 429 with Retry-After = seconds until a slot frees
                      (without it a token is counted within 100,000 a window). Every
                      Talkover answer to a known token carries X-RateLimit-Limit,
                      X-RateLimit-Remaining (after this request) and X-RateLimit-Reset
                      (epoch seconds when the oldest counted request leaves the window)
    only=PREFIX[|PREFIX...]   faults touch only paths under these prefixes
    seed=INT          seed of the fault generators (default: the ``seed`` argument of
                      ``Faults.parse``; the ``sim.faults = "..."`` setter,
                      ``running_simulator`` and the command pass the simulator seed)

e.g. ``"500=0.1,429=0.05:2,502=0.02,slow=0.01:2.5,truncate=0.01,insert=30@2,revoke=200,
ratelimit=100,only=/api/v1/calls"``. Python: ``Faults(error_500, error_429, retry_after,
error_502, slow, slow_seconds, truncate, insert, insert_after_page, revoke_after, ratelimit,
ratelimit_window, only, seed)``, ``Faults.parse(spec, seed=0)``, ``.to_spec()``,
``.clear()``. Faults apply to ``/api/...`` paths only (never ``/healthz``).

Pipeline per request: unknown path 404 -> auth 401 -> rate limit 429 -> random faults (each
kind has its own ``Random(seed)``, advanced once per in-scope request whatever happens, so
the same request sequence gets the same faults; slow delays then 500 > 429 > 502 take
precedence in that order) -> endpoint -> truncation (200s only) -> revoke counter and insert
trigger (2xx only; no insert after a truncated page). Rate-limited requests do not use a
slot; requests answered by a random fault do.

Insert: N calls are added within the request's date range (default: the whole data set up to
the clock), strictly newer than every call existing there (if the newest call is at the
range's last possible second, they share it and get ``ffffffff``-prefixed ids), at most at
the clock. They honour the request's agent and direction (not status/search), so pages of a
newest-first offset listing shift: later pages repeat rows. They use fictional 555-01XX
numbers, never callbacks' numbers, so the callback rule still holds; they appear in
``sim.truth`` like any call.
"""
from __future__ import annotations

from .config import (
    AnswerDrop,
    Dip,
    EnvironmentSpec,
    Lateness,
    SimulatorConfig,
    default_environments,
)
from .core import Simulator, running_simulator
from .faults import Faults
from .server import LoggedRequest, SimulatorServer
from .tamper import REMOVE, Tampering
from .truth import GroundTruth

__all__ = [
    "REMOVE", "AnswerDrop", "Dip", "EnvironmentSpec", "Faults", "GroundTruth", "Lateness",
    "LoggedRequest",
    "Simulator", "SimulatorConfig", "SimulatorServer", "Tampering", "default_environments",
    "running_simulator",
]
