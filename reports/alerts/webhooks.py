"""Webhook bodies and signatures.

Two formats: Slack-compatible (`{"text": …}`, what Slack, Mattermost and Teams' Slack
connector accept) and generic JSON signed with HMAC-SHA256 of the exact body under the rule's
secret, sent as `X-Switchboard-Signature: sha256=<hex>`; receivers recompute it with the
secret they were shown once and compare in constant time.

Sent through the one outbound door (`sync.providers.transport`): no redirect followed, the
whole answer within `hook_limits` (a short total deadline, a small cap after decompression),
nothing of its body kept or shown. The URL is checked again before every send (its form, where
its name resolves now) and the address the connection reaches is checked too.
"""
from __future__ import annotations

import hashlib
import hmac
import json

import requests
from django.core.exceptions import ValidationError
from django.utils import translation

from portal.upstream_url import peer_allowed
from reports.alerts.explain import explanation
from reports.alerts.models import AlertEvent, AlertRule, WebhookFormat
from reports.alerts.webhook_url import check_webhook_url
from sync.providers.errors import UpstreamError
from sync.providers.transport import exchange, hook_limits

SIGNATURE_HEADER = "X-Switchboard-Signature"
TIMEOUT = (5.0, 10.0)


class WebhookError(Exception):
    """The receiver could not be reached or did not answer 2xx."""


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, header: str) -> bool:
    return hmac.compare_digest(sign(secret, body), header or "")


def payload(rule: AlertRule, event: AlertEvent, text: str, link: str) -> dict:
    """The generic JSON document (stable field names; values as stored)."""
    iso = lambda d: d.isoformat() if d else None  # noqa: E731
    return {
        "type": f"alert.{event.state}", "event_id": event.pk, "rule_id": rule.pk,
        "rule": rule.name, "organization": rule.organization.slug, "severity": rule.severity,
        "state": event.state, "metric": event.metric, "value": event.value,
        "compare_value": event.compare_value, "threshold": event.threshold,
        "condition": rule.condition, "compare_to": rule.compare_to or None,
        "window": rule.window, "window_start": iso(event.window_start),
        "window_end": iso(event.window_end), "coverage": event.coverage,
        "created_at": iso(event.created_at), "text": text, "url": link,
        # The anomaly condition's band and its sentence (null for the other conditions).
        "expected": event.expected, "low": event.low, "high": event.high,
        "explanation": _explanation(rule, event),
    }


def _explanation(rule: AlertRule, event: AlertEvent) -> str | None:
    with translation.override(rule.language):
        return explanation(event.detail) or None


def body_and_headers(rule: AlertRule, event: AlertEvent, text: str, link: str
                     ) -> tuple[bytes, dict[str, str]]:
    headers = {"Content-Type": "application/json", "User-Agent": "Switchboard-Alerts/1"}
    if rule.webhook_format == WebhookFormat.SLACK:
        body = json.dumps({"text": f"{text}\n<{link}|Open in Switchboard>"}).encode()
        return body, headers
    body = json.dumps(payload(rule, event, text, link), separators=(",", ":")).encode()
    headers[SIGNATURE_HEADER] = sign(rule.webhook_secret(), body)
    headers["X-Switchboard-Event"] = f"alert.{event.state}"
    return body, headers


def post(rule: AlertRule, event: AlertEvent, text: str, link: str) -> None:
    """POST the event to the rule's webhook; raises WebhookError unless it answers 2xx.

    The error says what happened (the bound met, the status, the class of a network error),
    never the URL (a credential) nor anything of the answer's body.
    """
    try:
        check_webhook_url(rule.webhook_url)  # again: a rule saved before the rules, DNS now
    except ValidationError as exc:
        raise WebhookError("; ".join(exc.messages)) from exc
    body, headers = body_and_headers(rule, event, text, link)
    try:
        answer = exchange("POST", rule.webhook_url, hook_limits(), where="webhook",
                          data=body, headers=headers, timeout=TIMEOUT,
                          peer_check=peer_allowed)
    except UpstreamError as exc:  # too slow, too large, a private address reached
        raise WebhookError(str(exc).split(": ", 1)[-1]) from None
    except requests.RequestException as exc:
        raise WebhookError(f"could not reach the webhook: {type(exc).__name__}") from None
    if not 200 <= answer.status < 300:
        raise WebhookError(f"the webhook answered HTTP {answer.status}")
