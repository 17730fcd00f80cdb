"""`POST /hooks/talkover/<key>/`: a Talkover webhook is a trigger to sync, never data.

Talkover does not document its payload nor the name of its signature header, so the body is
read (bounded) only to check its HMAC-SHA256 when the environment has a signing secret, and
is then dropped: what changed is learnt by reading today's calls through the API, as any
sync does. The URL's key is per environment and unguessable; an unknown key is a 404, a
missing signature a 401, a wrong one a 403, a body over `MAX_BODY_BYTES` a 413 (a chunked
body, without Content-Length, is read within the same cap). A signed delivery received
again within `REPLAY_SECONDS` (same body, same signature) is answered 200 and triggers
nothing. Refusals are counted per environment for the sync page (`rejections`).

Coalescing: the first event queues one targeted sync (`sync.webhook_sync`) and marks it
queued; events until that run starts ride on it, events during it make it run once more
(see `sync.tasks.webhook_sync`). So a burst of events costs one or two runs, each within the
webhooks' share of the token's request budget (`sync.webhooks.pacing`). The call a signed
delivery names is kept as a hint of what to read (`sync.webhooks.hints`).
"""
from __future__ import annotations

import hashlib
import hmac
import logging

from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from portal.models import Environment
from portal.tasks_client import QueueUnavailable, TaskNotAvailable, enqueue
from sync.cache_errors import CACHE_ERRORS
from sync.webhooks import coalesce, hints, rejections

logger = logging.getLogger("sync.webhooks")

MAX_BODY_BYTES = 64 * 1024
# Header names a Talkover delivery may carry its signature in (the vendor does not say which;
# the simulator sends the first). Values are the hex digest, optionally "sha256=" first.
SIGNATURE_HEADERS = ("X-Talkover-Signature", "X-Webhook-Signature", "X-Signature",
                     "X-Hub-Signature-256")
# A signed delivery seen again (same body and signature) within this is a replay: answered
# 200, it triggers nothing.
REPLAY_SECONDS = 600


def signature(secret: str, body: bytes) -> str:
    """The hex HMAC-SHA256 of `body` under `secret`."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _sent_signature(request: HttpRequest) -> str | None:
    for name in SIGNATURE_HEADERS:
        value = request.headers.get(name)
        if value:
            value = value.strip()
            return value[7:] if value.lower().startswith("sha256=") else value
    return None


def _read_body(request: HttpRequest) -> bytes | None:
    """The raw body, or None when it is over MAX_BODY_BYTES (never read whole).

    A chunked body comes without Content-Length (the server has removed the framing):
    Django would read it as empty, so it is read from the server's stream itself, still at
    most MAX_BODY_BYTES + 1 bytes."""
    length = request.META.get("CONTENT_LENGTH")
    try:
        declared = int(length) if length else None
    except ValueError:
        declared = None
    if declared is not None and declared > MAX_BODY_BYTES:
        return None
    stream = request if declared is not None else request.META.get("wsgi.input")
    body = b""
    while stream is not None and len(body) <= MAX_BODY_BYTES:
        chunk = stream.read(MAX_BODY_BYTES + 1 - len(body))
        if not chunk:
            break
        body += chunk
    return None if len(body) > MAX_BODY_BYTES else body


def _replayed(env_id: int, sent: str, body: bytes) -> bool:
    """Whether this signature and body were received (and queued) in the last
    REPLAY_SECONDS; a delivery Talkover retries after a failure is not one."""
    return cache.get(_seen_key(env_id, sent, body)) is not None


def _seen_key(env_id: int, sent: str, body: bytes) -> str:
    digest = hashlib.sha256(sent.lower().encode() + b"\0" + body).hexdigest()
    return f"sync:hook:seen:{env_id}:{digest}"


def _answer(status: int, message: str) -> JsonResponse:
    return JsonResponse({"detail": message}, status=status)


@csrf_exempt
@require_POST
def talkover_hook(request: HttpRequest, key: str) -> HttpResponse:
    """Check the event, then queue (or join) a sync of the environment's calls of today."""
    env = Environment.objects.filter(webhook_key=key).exclude(
        webhook_key="").first() if len(key) <= 64 else None
    if env is None or not env.spec.webhooks:
        if env is not None:
            rejections.record(env.pk, 404)
        return _answer(404, "Unknown webhook address.")
    body = _read_body(request)
    if body is None:
        rejections.record(env.pk, 413)
        return _answer(413, f"The body is over {MAX_BODY_BYTES} bytes.")
    secret = env.get_webhook_secret()
    sent = _sent_signature(request) if secret else None
    if secret:
        if sent is None:
            rejections.record(env.pk, 401)
            return _answer(401, "A signature (HMAC-SHA256 of the body) is required.")
        if not hmac.compare_digest(sent.lower(), signature(secret, body)):
            rejections.record(env.pk, 403)
            return _answer(403, "The signature does not match the body.")
    try:
        if sent is not None and _replayed(env.pk, sent, body):
            return _answer(200, "Already received; nothing more to do.")
    except CACHE_ERRORS as exc:
        logger.warning("webhook for environment %s: replay not checked (%s)", env.pk,
                       type(exc).__name__)
        return _answer(503, "Received, but it could not be checked now; send it again later.")
    if not env.sync_enabled or not env.has_token or env.last_synced_at is None:
        # Paused, disconnected or never synced: the schedule (or the first back-fill) owns it.
        return _answer(202, "Received; this environment does not sync on webhooks now.")
    try:
        # Signed, the call it names is a hint of what to read (never data); unsigned, none.
        hints.push(env.pk, hints.parse(body) if secret else None)
        joined = coalesce.announce(env.pk)
        if not joined:
            enqueue("sync.webhook_sync", env.pk)
        if sent is not None:
            # Once queued or joined: a delivery retried after a 503 is not a replay.
            cache.set(_seen_key(env.pk, sent, body), 1, timeout=REPLAY_SECONDS)
    except (*CACHE_ERRORS, QueueUnavailable, TaskNotAvailable) as exc:
        logger.warning("webhook for environment %s not queued (%s)", env.pk,
                       type(exc).__name__)
        return _answer(503, "Received, but the sync could not be queued; the schedule will "
                            "pick the change up.")
    if joined:
        return _answer(202, "Received; joined the sync already queued.")
    return _answer(202, "Received; a sync of today's calls is queued.")
