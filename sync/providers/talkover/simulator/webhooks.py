"""Talkover agent webhooks in the simulator: registration, and signed deliveries.

`POST /api/v1/agents/{agent_id}/webhooks` registers (body as the vendor documents it:
`name`, `webhook_url`, `webhook_secret`, `events`, `timeout`, `max_retries`, `enabled`);
`webhook_url` must be http(s) and `events` known, else a 422 in Laravel's shape; the secret
is never echoed. `sim.forbid_webhooks(env, agent_id=None)` makes the token answer 403 (for
one agent or all), as a token without that permission would.

Deliveries: when the clock moves forward (`sim.set_now` / `sim.advance`), every call of the
environment that reached its final status in between is POSTed, on a background thread, to
each enabled registration of its agent subscribed to `event_phone_call_ended` (or
`event_phone_call_did_not_connect` for unanswered ones): a JSON body signed with
HMAC-SHA256 of the raw body in `X-Talkover-Signature: sha256=<hex>` when a secret was given.
Failed deliveries (non-2xx, no answer) are retried `max_retries` times. `sim.webhooks.log`
lists every attempt (`Delivery`).
"""
from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sync.simulator.catalog import ordinal_of
from sync.simulator.host import Stores
from sync.simulator.response import Response, json_response

from .api import talkover_error
from .data import KEY

EVENTS = (
    "event_phone_call_started", "event_phone_call_ended", "event_phone_call_did_not_connect",
    "event_phone_call_answered", "event_phone_call_transferred", "event_transcript_ready",
    "event_recording_ready", "event_agent_updated",
)
SIGNATURE_HEADER = "X-Talkover-Signature"
CONNECTED = ("completed", "answered")


@dataclass
class Registration:
    id: int
    env: str
    agent_id: str
    name: str
    url: str
    secret: str
    events: tuple[str, ...]
    timeout: float
    max_retries: int
    enabled: bool
    created_at: str

    def public(self) -> dict:
        return {"id": self.id, "agent_id": self.agent_id, "name": self.name,
                "webhook_url": self.url, "events": list(self.events), "timeout": self.timeout,
                "max_retries": self.max_retries, "enabled": self.enabled,
                "created_at": self.created_at}


@dataclass(frozen=True)
class Delivery:
    """One POST attempt: its registration, event, call id, and the answer's status (None:
    no answer)."""

    registration: int
    event: str
    call_id: str
    status: int | None


@dataclass
class Webhooks:
    """Registrations per environment, and the delivery log."""

    registrations: dict[str, list[Registration]] = field(default_factory=dict)
    forbidden: set[tuple[str, str | None]] = field(default_factory=set)
    log: list[Delivery] = field(default_factory=list)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _threads: list[threading.Thread] = field(default_factory=list)

    def create(self, sim: Stores, env: str, agent_id: str, body: bytes) -> Response:
        if (env, None) in self.forbidden or (env, agent_id) in self.forbidden:
            return talkover_error(403, "This action is unauthorized.")
        if sim.store(env, KEY).profile.by_id.get(agent_id) is None:
            return talkover_error(404, "Agent not found")
        try:
            data = json.loads(body or b"{}")
        except ValueError:
            data = None
        if not isinstance(data, dict):
            return json_response(422, {"message": "The given data was invalid.",
                                       "errors": {"body": ["The body must be a JSON object."]}})
        errors: dict[str, list[str]] = {}
        url = data.get("webhook_url")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            errors["webhook_url"] = ["The webhook url must be a valid URL."]
        events = data.get("events") or ["event_phone_call_ended"]
        if not isinstance(events, list) or any(e not in EVENTS for e in events):
            errors["events"] = ["The selected events is invalid."]
        if errors:
            return json_response(422, {"message": "The given data was invalid.",
                                       "errors": errors})
        with self._lock:
            reg = Registration(
                next(self._ids), env, agent_id, str(data.get("name") or "webhook"), url,
                str(data.get("webhook_secret") or ""), tuple(events),
                float(data.get("timeout") or 30), int(data.get("max_retries", 3) or 0),
                bool(data.get("enabled", True)),
                datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
            self.registrations.setdefault(env, []).append(reg)
        return json_response(201, {"success": True, "data": reg.public()})

    def clock_moved(self, sim: Stores, before: int, after: int) -> None:
        """Deliver the end of every call that ended in (before, after] (epoch seconds)."""
        if after <= before or not self.registrations:
            return
        jobs = []
        for env, regs in list(self.registrations.items()):
            store = sim.store(env, KEY)
            agents = store.profile.agents
            for ordinal in range(ordinal_of(before) - 1, ordinal_of(after) + 1):
                if ordinal < store.first:
                    continue
                for rec in store.day(ordinal).recs:
                    if not before < rec.t_end <= after:
                        continue
                    agent_id = agents[rec.agent].id
                    event = ("event_phone_call_ended" if rec.final in CONNECTED
                             else "event_phone_call_did_not_connect")
                    payload = {"event": event, "agent_id": agent_id,
                               "call": {"id": rec.id, "sid": rec.sid, "status": rec.final}}
                    for reg in regs:
                        if reg.enabled and reg.agent_id == agent_id and event in reg.events:
                            jobs.append((reg, event, rec.id, payload))
        if jobs:
            thread = threading.Thread(target=self._deliver_all, args=(jobs,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def wait(self, timeout: float = 30.0) -> None:
        """Wait for deliveries in flight (tests)."""
        for thread in list(self._threads):
            thread.join(timeout)

    def _deliver_all(self, jobs: list) -> None:
        for reg, event, call_id, payload in jobs:
            body = json.dumps(payload, separators=(",", ":")).encode()
            headers = {"Content-Type": "application/json", "User-Agent": "Talkover-Webhooks"}
            if reg.secret:
                digest = hmac.new(reg.secret.encode(), body, hashlib.sha256).hexdigest()
                headers[SIGNATURE_HEADER] = f"sha256={digest}"
            for attempt in range(reg.max_retries + 1):
                status = _post(reg.url, body, headers, reg.timeout)
                with self._lock:
                    self.log.append(Delivery(reg.id, event, call_id, status))
                if status is not None and 200 <= status < 300:
                    break
                time.sleep(0.2 * 2 ** attempt)


def _post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> int | None:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:  # noqa: S310 - test tool
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return None
