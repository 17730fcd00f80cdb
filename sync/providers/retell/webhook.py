"""Retell's webhook signature, as the one receiver checks it.

Retell signs every delivery with the account's API key (the key that carries the webhook
badge in its dashboard), not a secret of ours: `x-retell-signature: v=<unix ms>,d=<hex>`,
where the digest is HMAC-SHA256 under the key of the raw body followed by the timestamp's
digits. The environment's webhook secret is therefore that API key. A delivery is a trigger,
never data (the calls are read through the API).
"""
from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping

SIGNATURE_HEADER = "X-Retell-Signature"
# A signature older (or newer) than this is refused: a replayed delivery.
TOLERANCE_MS = 5 * 60 * 1000


def signature(api_key: str, body: bytes, timestamp_ms: int) -> str:
    """The header value Retell sends for `body` at `timestamp_ms`."""
    digest = hmac.new(api_key.encode(), body + str(timestamp_ms).encode(),
                      hashlib.sha256).hexdigest()
    return f"v={timestamp_ms},d={digest}"


def _parts(header: str) -> tuple[int, str] | None:
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    stamp, digest = fields.get("v", "").strip(), fields.get("d", "").strip().lower()
    if not stamp.isdigit() or not digest:
        return None
    return int(stamp), digest


def verify_signature(headers: Mapping[str, str], body: bytes, secret: str,
                     now_ms: int | None = None) -> bool | None:
    """None when the delivery is not signed; else whether it proves the key, within
    `TOLERANCE_MS` of `now_ms` (the clock when not given): a replay is refused."""
    sent = (headers.get(SIGNATURE_HEADER) or "").strip()
    if not sent:
        return None
    parts = _parts(sent)
    if parts is None:
        return False
    stamp, digest = parts
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    if abs(now_ms - stamp) > TOLERANCE_MS:
        return False
    expected = signature(secret, body, stamp).split(",d=", 1)[1]
    return hmac.compare_digest(digest, expected)
