"""`POST /hooks/<provider>/<key>/`: the one door for every provider's webhooks, which are
triggers to sync, never data.

The provider's spec says whether it sends webhooks and how a delivery is signed
(`ProviderSpec.verify_signature`, declared in its package): the body is read (bounded) only
to check its signature when the environment has a signing secret, and is then dropped: what
changed is learnt by reading the calls through the API, as any sync does. The URL's key is
per environment and unguessable; an unknown key (or one of another provider's environment)
is a 404, a missing signature a 401, a wrong one a 403, a body over `MAX_BODY_BYTES` a 413 (a
chunked body, without Content-Length, is read within the same cap). A signed delivery
received again within `REPLAY_SECONDS` (same body, hence same signature) is answered 200 and
triggers nothing. Refusals are counted per environment for the sync page (`rejections`).

Coalescing: the first event queues one targeted sync (`sync.webhook_sync`) and marks it
queued; events until that run starts ride on it, events during it make it run once more
(see `sync.tasks.webhook_sync`). So a burst of events costs one or two runs, each within the
webhooks' share of the token's request budget (`sync.webhooks.pacing`). The call a signed
delivery names is kept as a hint of what to read (`sync.webhooks.hints`).
"""
from __future__ import annotations

import hashlib
import logging

from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from portal.models import Environment
from portal.tasks_client import QueueUnavailable, TaskNotAvailable, enqueue
from sync.cache_errors import CACHE_ERRORS
from sync.coverage import newest_mirrored
from sync.providers.registry import provider_for
from sync.webhooks import coalesce, hints, rejections

logger = logging.getLogger("sync.webhooks")

MAX_BODY_BYTES = 64 * 1024
# A signed delivery seen again (same body and signature) within this is a replay: answered
# 200, it triggers nothing.
REPLAY_SECONDS = 600


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


def _replayed(env_id: int, body: bytes) -> bool:
    """Whether this signed body was received (and queued) in the last REPLAY_SECONDS; a
    delivery the vendor retries after a failure is not one."""
    return cache.get(_seen_key(env_id, body)) is not None


def _seen_key(env_id: int, body: bytes) -> str:
    digest = hashlib.sha256(body).hexdigest()
    return f"sync:hook:seen:{env_id}:{digest}"


def _answer(status: int, message: str) -> JsonResponse:
    return JsonResponse({"detail": message}, status=status)


def _takes_deliveries(env: Environment) -> bool:
    """An environment that synced; or one whose first back-fill has mirrored its newest
    calls (`sync.coverage.newest_mirrored`) when its provider reads what deliveries name
    (its adapter's `hinted_streams`): the back-fill then serves them between its pages, and
    rounds between its runs stay small (`sync.webhooks.serving`)."""
    if env.last_synced_at is not None:
        return True
    return bool(provider_for(env).hinted_streams) and newest_mirrored(env)


@csrf_exempt
@require_POST
def hook(request: HttpRequest, provider: str, key: str) -> HttpResponse:
    """Check the event, then queue (or join) a sync of the environment's recent calls."""
    env = Environment.objects.filter(webhook_key=key).exclude(
        webhook_key="").first() if len(key) <= 64 else None
    if env is None or env.provider != provider or not env.spec.webhooks \
            or env.spec.verify_signature is None:
        if env is not None:
            rejections.record(env.pk, 404)
        return _answer(404, "Unknown webhook address.")
    body = _read_body(request)
    if body is None:
        rejections.record(env.pk, 413)
        return _answer(413, f"The body is over {MAX_BODY_BYTES} bytes.")
    secret = env.get_webhook_secret()
    signed = False
    if secret:
        verdict = env.spec.verify_signature(request.headers, body, secret)
        if verdict is None:
            rejections.record(env.pk, 401)
            return _answer(401, "A signature (HMAC-SHA256 of the body) is required.")
        if not verdict:
            rejections.record(env.pk, 403)
            return _answer(403, "The signature does not match the body.")
        signed = True
    try:
        if signed and _replayed(env.pk, body):
            return _answer(200, "Already received; nothing more to do.")
    except CACHE_ERRORS as exc:
        logger.warning("webhook for environment %s: replay not checked (%s)", env.pk,
                       type(exc).__name__)
        return _answer(503, "Received, but it could not be checked now; send it again later.")
    if not env.sync_enabled or not env.has_token or not _takes_deliveries(env):
        # Paused, disconnected, or a first back-fill that has not read today yet: the
        # schedule (or the back-fill) owns it.
        return _answer(202, "Received; this environment does not sync on webhooks now.")
    try:
        # Signed, the call it names is a hint of what to read (never data); unsigned, none.
        hints.push(env.pk, hints.parse(body) if secret else None)
        joined = coalesce.announce(env.pk)
        if not joined:
            enqueue("sync.webhook_sync", env.pk)
        if signed:
            # Once queued or joined: a delivery retried after a 503 is not a replay.
            cache.set(_seen_key(env.pk, body), 1, timeout=REPLAY_SECONDS)
    except (*CACHE_ERRORS, QueueUnavailable, TaskNotAvailable) as exc:
        logger.warning("webhook for environment %s not queued (%s)", env.pk,
                       type(exc).__name__)
        return _answer(503, "Received, but the sync could not be queued; the schedule will "
                            "pick the change up.")
    if joined:
        return _answer(202, "Received; joined the sync already queued.")
    return _answer(202, "Received; a sync of the recent calls is queued.")
