"""Request pipeline shared by both vendors: routing, auth, rate limit, faults, handlers.

Order for a request: unknown path -> 404 (no auth, no faults); auth -> 401; rate limit ->
429; random faults (slow first, then 500 / 429 / 502); the endpoint; truncation of a 200
body; then success accounting (revocation counter, insert trigger).
"""
from __future__ import annotations

import math
import re
import time
from typing import Protocol
from urllib.parse import parse_qs, unquote

from . import talkover_api as to
from .config import ORIGINS, TALKOVER
from .data import CallRec, dumps
from .faults import Faults
from .host import Stores
from .plugins import plugins, route_of
from .store import Filter
from .talkover_api import Response, json_response
from .tamper import Tampering
from .webhooks import Webhooks


class Host(Stores, Protocol):
    """What a request needs of the simulator beyond its stores: tokens, faults, tampering,
    webhook registrations and the insert fault (`core.Simulator` has them all)."""

    faults: Faults
    webhooks: Webhooks
    tamperings: dict[str, Tampering]

    def lookup_token(self, token: str | None, vendor: str) -> tuple[str | None, str]: ...

    def revoke(self, env: str) -> None: ...

    def insert_calls(self, env: str, count: int, filt: Filter | None = None,
                     lo: int | None = None, hi: int | None = None) -> list[CallRec]: ...

    def plugged_store(self, env: str) -> object: ...

BAD_GATEWAY = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    b"</body>\r\n</html>\r\n"
)
_INT = re.compile(r"\s*[+-]?[0-9]+\s*")


def _error_shape(status: int, code: str, message: str) -> Response:
    return json_response(status, {"success": False, "error": {
        "code": code, "message": message, "details": {}}})


def _talkover_route(parts: list[str]) -> tuple[str, str | None] | None:
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


def _bearer(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def _unauthorized(vendor: str, state: str) -> Response:
    if vendor in plugins():
        return plugins()[vendor].error(401, state)
    if vendor == ORIGINS:
        detail = "Not authenticated" if state == "missing" else "Unauthorized"
        return json_response(401, {"detail": detail})
    if state == "missing":
        return json_response(401, {"message": "Missing Bearer Token"})
    if state == "revoked":
        return _error_shape(401, "INVALID_TOKEN", "Authentication token is invalid or missing")
    return to.talkover_error(401, "Unauthorized")


def _too_many(vendor: str, retry_after: int) -> Response:
    if vendor in plugins():
        resp = plugins()[vendor].error(429)
    elif vendor == ORIGINS:
        resp = json_response(429, {"detail": "Too Many Requests"})
    else:
        resp = to.talkover_error(429, "Too Many Attempts.")
    resp.headers.append(("Retry-After", str(retry_after)))
    return resp


def _injected(vendor: str, status: int, retry_after: int) -> Response:
    if status == 429:
        return _too_many(vendor, retry_after)
    if status == 502:
        return Response(502, BAD_GATEWAY, "text/html")
    if vendor in plugins():
        return plugins()[vendor].error(500)
    if vendor == ORIGINS:
        return Response(500, b"Internal Server Error", "text/plain; charset=utf-8")
    return to.talkover_error(500, "Internal server error.")


def _origins_call_stats(sim: Host, env: str, raw_id: str) -> Response:
    if not _INT.fullmatch(raw_id):
        return json_response(422, {"detail": [{
            "type": "int_parsing", "loc": ["path", "agent_id"],
            "msg": "Input should be a valid integer, unable to parse string as an integer",
            "input": raw_id,
        }]})
    store = sim.origins_store(env)
    agent_id = int(raw_id)
    if agent_id not in store.agent_ids:
        return json_response(404, {"detail": "Agent not found"})
    with sim.lock:
        body = store.records_json(agent_id, sim.now_ts())
    return Response(200, body)


def respond(sim: Host, method: str, path: str, query_string: str,
            authorization: str | None, body: bytes = b"") -> Response:
    """Answer one request; never raises for client input. Only webhook registration takes a
    POST (`sync.simulator.webhooks`)."""
    path = path.rstrip("/") or "/"
    if path == "/healthz":
        return json_response(200, {"status": "ok", "now": sim.now.isoformat()})
    parts = [unquote(p) for p in path.split("/")[1:]]
    vendor, route = None, None
    plugged = route_of(parts)
    if plugged is not None:
        vendor, route = plugged
    elif parts[:2] == ["api", "v1"]:
        vendor, route = TALKOVER, _talkover_route(parts[2:])
    elif len(parts) == 4 and parts[:2] == ["api", "agents"] and parts[3] == "call_stats":
        vendor, route = ORIGINS, ("call_stats", parts[2])
    if route is None:
        if parts[:2] == ["api", "agents"]:
            return json_response(404, {"detail": "Not Found"})
        return _error_shape(404, "NOT_FOUND", "The requested resource was not found.")
    posting = route is not None and route[0] == "agent_webhooks"
    if method != ("POST" if posting else "GET"):
        if vendor in plugins():
            return plugins()[vendor].error(405)
        if vendor == ORIGINS:
            return json_response(405, {"detail": "Method Not Allowed"})
        return _error_shape(405, "METHOD_NOT_ALLOWED", f"The {method} method is not supported.")
    assert vendor is not None

    token = _bearer(authorization)
    env, state = sim.lookup_token(token, vendor)
    if state != "ok":
        resp = _unauthorized(vendor, state)
        resp.env = env
        return resp
    assert env is not None and token is not None

    faults = sim.faults
    in_scope = faults.applies(path)
    resp = _answer(sim, faults, in_scope, token, env, vendor, route, body, query_string)
    if vendor == TALKOVER:
        # Talkover sends its rate limit on every answer (`Reset`: epoch seconds).
        quota = faults.quota(token, time.monotonic(), time.time())
        resp.headers += [("X-RateLimit-Limit", str(quota.limit)),
                         ("X-RateLimit-Remaining", str(quota.remaining)),
                         ("X-RateLimit-Reset", str(math.ceil(quota.reset_at)))]
    return resp


def _answer(sim: Host, faults: Faults, in_scope: bool, token: str, env: str, vendor: str,
            route: tuple[str, str | None], body: bytes, query_string: str) -> Response:
    """An authenticated request's answer: rate limit, faults, the endpoint, tampering."""
    posting = route[0] == "agent_webhooks"
    decision = None
    if in_scope:
        retry = faults.admit(token, time.monotonic())
        if retry is not None:
            resp = _too_many(vendor, retry)
            resp.env = env
            return resp
        decision = faults.draw()
        if decision.delay:
            time.sleep(decision.delay)
        if decision.error is not None:
            resp = _injected(vendor, decision.error, faults.retry_after)
            resp.env = env
            return resp

    query = parse_qs(query_string, keep_blank_values=True)
    if posting:
        with sim.lock:
            resp = sim.webhooks.create(sim, env, route[1] or "", body)
        resp.env = env
        return resp
    if vendor in plugins():
        with sim.lock:
            resp = plugins()[vendor].answer(sim.plugged_store(env), route, query, sim.now_ts())
    else:
        resp = _dispatch(sim, env, route, query)
    resp.env = env
    tampering = sim.tamperings.get(env)
    if tampering is not None and resp.status == 200:
        with sim.lock:
            resp.body = tampering.apply(route[0], query, resp.body)
    if not in_scope or not 200 <= resp.status < 300:
        return resp
    truncated = bool(decision and decision.truncate)
    if truncated:
        resp.body = resp.body[: max(1, len(resp.body) // 2)]
    if faults.succeeded(token):
        sim.revoke(env)
    listing = resp.listing
    if not truncated and listing is not None and faults.insert_fires(listing.page):
        sim.insert_calls(listing.env, faults.insert, listing.filt, listing.lo, listing.hi)
        if faults.insert_early:  # they arrived just before the page was asked: it holds them
            resp = _dispatch(sim, env, route, query)
            resp.env = env
    return resp


def _dispatch(sim: Host, env: str, route: tuple[str, str | None],
              query: dict[str, list[str]]) -> Response:
    name, arg = route
    if name == "call_stats":
        return _origins_call_stats(sim, env, arg or "")
    if name == "calls":
        return to.list_calls(sim, env, query, None)
    if name == "agents":
        return to.list_agents(sim, env, query)
    if name == "agent":
        return to.get_agent(sim, env, arg or "")
    if name == "agent_calls":
        return to.agent_calls(sim, env, arg or "", query)
    if name == "agent_pricing":
        return to.agent_pricing(sim, env, arg or "", sim.now_ts())
    if name == "callback_agents":
        return to.callback_agents(sim, env)
    return to.callback_stats(sim, env, query)


def internal_error() -> Response:
    """What an unexpected exception in the simulator itself looks like (never a fault)."""
    return Response(500, dumps({"success": False, "message": "Internal server error."}))
