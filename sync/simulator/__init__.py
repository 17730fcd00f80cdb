"""Upstream simulator: every provider's API over real HTTP, from a seeded data set.

This docstring is the contract the sync engine and its tests rely on.

Quick start
===========
::

    from sync.simulator import SimulatorConfig, running_simulator

    with running_simulator(SimulatorConfig(seed=7, days=30), spec="500=0.1") as (sim, server):
        env = "acme-sales"                        # a default environment
        token = sim.tokens[env]                   # its vendor's prefix + 40 hex
        vendor = sim.vendor(env)
        requests.get(f"{server.url_of(vendor)}/calls",
                     headers={"Authorization": f"Bearer {token}"})
        sim.truth.call_count(env)                 # what paging /calls must add up to

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
    keys to ``EnvironmentSpec(vendor, agent_ids=(), calls_per_day=None, utc_offset_hours=0)``
    (``vendor``: a provider's key whose package has a simulator); default: every vendor's
    ``Plugin.default_environments()``. ``tokens`` overrides derived tokens per environment.
    ``realtime=True`` makes the clock tick. ``lateness`` (``Lateness(bands=((0.01, 0.5, 4),
    (0.002, 12, 30), (0.0005, 72, 120)))``: share, hours) delays final statuses; ``None``
    turns it off; ``Lateness.parse("0.04:0.5-4,0.01:12-30")`` / ``"off"`` is the command's
    ``--lateness``. ``dips``: ``Dip(start, hours, factor)`` windows where a vendor's volume is
    multiplied by ``factor`` (``Dip.parse("2026-11-18T14:00Z/3h/0.1")``; ``simulate_upstream
    --dip``). ``clock_offset`` moves the default clock ahead of (negative: behind) the wall
    clock (``--clock-offset``); ``date_zone`` (an IANA zone, ``--date-zone``) is the zone of a
    vendor's date filters (UTC when None). Which vendor reads ``answer_drop``, ``dips``,
    ``date_zone`` and ``callback_match_days`` is in its plug-in's docstring.

``Simulator(config=None)``
    ``.tokens: dict[str, str]`` env -> bearer token (the vendor's ``token_prefix`` + 40 hex,
    from the seed). ``.now`` (aware UTC datetime, whole seconds), ``.today`` (``date_zone``'s),
    ``.set_now(dt)`` (naive = UTC), ``.advance(timedelta)``, ``.start_date``, ``.end_date``,
    ``.vendor(env)``, ``.envs_of(vendor)``, ``.store(env, vendor=None)``,
    ``.faults`` (a ``Faults``; assigning a spec string parses it with the config seed),
    ``.revoke(env)``, ``.rotate_token(env) -> str`` (old token revoked), ``.is_revoked(env)``,
    ``.insert_calls(env, count, filt=None, lo=None, hi=None)`` (what the insert fault does,
    over the whole data range unless given days), ``.end_late(env, call_id, until)`` (a late
    status: the call stays open until ``until``), ``.tamper(env) -> Tampering`` (hostile
    records: per-record JSON edits of what is served, see ``sync.simulator.tamper``),
    ``.untamper(env)``, ``.serve(host="127.0.0.1", port=0) -> SimulatorServer``,
    ``.truth: GroundTruth``; and each vendor's own members (``Plugin.members``, e.g.
    a store accessor), listed in its plug-in's docstring.

``SimulatorServer``
    ``.base_url`` (``http://127.0.0.1:PORT``), ``.url_of(vendor)`` (``base_url`` + the
    vendor's ``base_path``; also ``.<vendor>_url``), ``.request_log -> list[LoggedRequest]``
    (last 10,000; ``LoggedRequest(method, path, query: dict, status, env, at)``, ``env``
    being the token's environment or None, ``at`` the arrival time, ``time.time()``),
    ``.request_count``, ``.clear_log()``, ``.stop()`` (idempotent: shuts down, closes
    kept-alive connections, joins the thread); usable as a context manager. ``GET /healthz``
    answers 200 (no auth).

``GroundTruth`` (``sim.truth``; pure Python, equal to what HTTP serves at the same clock)
    Every vendor's truth methods (``Plugin.truth``), e.g. ``calls(env, ...)``.

``running_simulator(config=None, **faults)`` context manager yielding ``(sim, server)``;
``faults`` are ``Faults`` fields (``error_500=0.1``) or ``spec="500=0.1,..."``.

Vendors
=======
Each provider package's ``simulator`` module (or package) serves its vendor's API and data
(`sync.simulator.plugins.Plugin`); its docstring is that vendor's part of this contract:
``sync.providers.<name>.simulator``. The core below names none of them.

Data set
========
A pure function of (seed, environment, UTC day), generated lazily per day; same config =>
identical data in any process. The shape of each vendor's days is its plug-in's.

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
                      answer of a vendor that sends its rate limit
                      (``Plugin.rate_limit_headers``) carries X-RateLimit-Limit,
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
``.clear()``. Faults apply to every vendor's paths (never ``/healthz``).

Pipeline per request: unknown path 404 -> auth 401 -> rate limit 429 -> random faults (each
kind has its own ``Random(seed)``, advanced once per in-scope request whatever happens, so
the same request sequence gets the same faults; slow delays then 500 > 429 > 502 take
precedence in that order) -> endpoint -> truncation (200s only) -> revoke counter and insert
trigger (2xx only; no insert after a truncated page). Rate-limited requests do not use a
slot; requests answered by a random fault do.

Insert: which calls arrive, and where, is the vendor's (its plug-in's ``insert``, in its
docstring); they appear in ``sim.truth`` like any call.
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
