"""Vapi's webhook ("server message") authentication, as the one receiver checks it.

Vapi signs a delivery with an HMAC credential (`x-vapi-signature`: the hex HMAC-SHA256 of the
body, "sha256=" optional) or, in its older form, sends the server URL's secret itself
(`x-vapi-secret`). Either proves the sender knows the environment's secret; the body is
never data (a trigger to read the calls through the API).
"""
from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

SIGNATURE_HEADER = "X-Vapi-Signature"
SECRET_HEADER = "X-Vapi-Secret"


def signature(secret: str, body: bytes) -> str:
    """The hex HMAC-SHA256 of `body` under `secret`."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify_signature(headers: Mapping[str, str], body: bytes, secret: str) -> bool | None:
    """None when the delivery carries neither header, else whether it proves the secret."""
    signed = (headers.get(SIGNATURE_HEADER) or "").strip()
    if signed:
        signed = signed[7:] if signed.lower().startswith("sha256=") else signed
        return hmac.compare_digest(signed.lower(), signature(secret, body))
    sent = (headers.get(SECRET_HEADER) or "").strip()
    if sent:
        return hmac.compare_digest(sent.encode(), secret.encode())
    return None
