"""Talkover's webhooks: their signature, as the one receiver (`sync.webhooks.receiver`) checks
it, and their registration, as `sync.webhooks.register` makes it on every agent.

Talkover does not document the name of its signature header, so the names it may use are
tried in turn (the simulator sends the first); the value is the hex HMAC-SHA256 of the body,
optionally prefixed "sha256=".
"""
from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

# What we subscribe to: a call that ended, answered or not (our only use: a sync trigger).
EVENTS = ["event_phone_call_ended", "event_phone_call_did_not_connect"]
HOOK_NAME = "Switchboard sync trigger"
SIGNATURE_HEADERS = ("X-Talkover-Signature", "X-Webhook-Signature", "X-Signature",
                     "X-Hub-Signature-256")


def signature(secret: str, body: bytes) -> str:
    """The hex HMAC-SHA256 of `body` under `secret`."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def sent_signature(headers: Mapping[str, str]) -> str | None:
    """The signature a delivery carries (without its "sha256=" prefix), None without one."""
    for name in SIGNATURE_HEADERS:
        value = headers.get(name)
        if value:
            value = value.strip()
            return value[7:] if value.lower().startswith("sha256=") else value
    return None


def verify_signature(headers: Mapping[str, str], body: bytes, secret: str) -> bool | None:
    """None when the delivery carries no signature, else whether it signs `body`."""
    sent = sent_signature(headers)
    if sent is None:
        return None
    return hmac.compare_digest(sent.lower(), signature(secret, body))


def registration(agent_id: str, url: str, secret: str) -> tuple[str, dict]:
    """(path under the base URL, JSON body) registering `url` on one agent, through the
    documented `POST /agents/{agent_id}/webhooks`."""
    return f"agents/{agent_id}/webhooks", {
        "name": HOOK_NAME, "webhook_url": url, "webhook_secret": secret, "events": EVENTS,
        "timeout": 10, "max_retries": 3, "enabled": True}
