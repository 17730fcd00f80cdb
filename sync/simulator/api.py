"""Request pipeline shared by every vendor: routing, auth, rate limit, faults, handlers.

Order for a request: unknown path -> 404 (no auth, no faults); auth -> 401; rate limit ->
429; random faults (slow first, then 500 / 429 / 502); the endpoint; truncation of a 200
body; then success accounting (revocation counter, insert trigger). What a vendor answers
(and how its errors look) is its plug-in's (`sync.simulator.plugins`).
"""
from __future__ import annotations

import math
import time
from typing import Protocol
from urllib.parse import parse_qs, unquote

from .faults import Faults
from .host import Stores
from .plugins import not_found, plugins, route_of
from .response import Response, dumps, error_shape, json_response
from .tamper import Tampering


class Host(Stores, Protocol):
    """What a request needs of the simulator beyond its stores: tokens, faults, tampering
    and the insert fault (`core.Simulator` has them all)."""

    faults: Faults
    tamperings: dict[str, Tampering]

    def lookup_token(self, token: str | None, vendor: str) -> tuple[str | None, str]: ...

    def revoke(self, env: str) -> None: ...

    def insert_calls(self, env: str, count: int, filt: object = None,
                     lo: int | None = None, hi: int | None = None) -> list: ...

BAD_GATEWAY = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    b"</body>\r\n</html>\r\n"
)


def _bearer(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def _too_many(vendor: str, retry_after: int) -> Response:
    resp = plugins()[vendor].error(429)
    resp.headers.append(("Retry-After", str(retry_after)))
    return resp


def _injected(vendor: str, status: int, retry_after: int) -> Response:
    if status == 429:
        return _too_many(vendor, retry_after)
    if status == 502:
        return Response(502, BAD_GATEWAY, "text/html")
    return plugins()[vendor].error(500)


def respond(sim: Host, method: str, path: str, query_string: str,
            authorization: str | None, body: bytes = b"") -> Response:
    """Answer one request; never raises for client input. A vendor's `post_routes` take a
    POST, every other route a GET."""
    path = path.rstrip("/") or "/"
    if path == "/healthz":
        return json_response(200, {"status": "ok", "now": sim.now.isoformat()})
    parts = [unquote(p) for p in path.split("/")[1:]]
    plugged = route_of(parts)
    if plugged is None:
        return not_found(parts) or error_shape(404, "NOT_FOUND",
                                               "The requested resource was not found.")
    vendor, route = plugged
    plugin = plugins()[vendor]
    if method != ("POST" if route[0] in plugin.post_routes else "GET"):
        return plugin.error(405, method)

    token = _bearer(authorization)
    env, state = sim.lookup_token(token, vendor)
    if state != "ok":
        resp = plugin.error(401, state)
        resp.env = env
        return resp
    assert env is not None and token is not None

    faults = sim.faults
    in_scope = faults.applies(path)
    resp = _answer(sim, faults, in_scope, token, env, vendor, route, body, query_string)
    if plugin.rate_limit_headers:
        # The vendor sends its rate limit on every answer (`Reset`: epoch seconds).
        quota = faults.quota(token, time.monotonic(), time.time())
        resp.headers += [("X-RateLimit-Limit", str(quota.limit)),
                         ("X-RateLimit-Remaining", str(quota.remaining)),
                         ("X-RateLimit-Reset", str(math.ceil(quota.reset_at)))]
    return resp


def _answer(sim: Host, faults: Faults, in_scope: bool, token: str, env: str, vendor: str,
            route: tuple[str, str | None], body: bytes, query_string: str) -> Response:
    """An authenticated request's answer: rate limit, faults, the endpoint, tampering."""
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
    plugin = plugins()[vendor]
    with sim.lock:
        resp = plugin.answer(sim, env, route, query, body)
    resp.env = env
    tampering = sim.tamperings.get(env)
    if tampering is not None and resp.status == 200:
        with sim.lock:
            resp.body = plugin.tamper(tampering, route[0], query, resp.body)
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
            with sim.lock:
                resp = plugin.answer(sim, env, route, query, body)
            resp.env = env
    return resp


def internal_error() -> Response:
    """What an unexpected exception in the simulator itself looks like (never a fault)."""
    return Response(500, dumps({"success": False, "message": "Internal server error."}))
