"""The keyed hash of a phone number: what tombstones and erasure logs hold instead of it.

HMAC-SHA256 with a key derived from settings (`PRIVACY_HASH_KEY`, by default derived from
`SECRET_KEY`): without the key nobody can test a guessed number against a tombstone (a plain
hash of a phone number is reversed by trying every number). The key must outlive
`SECRET_KEY` rotations, or old tombstones stop matching: set `PRIVACY_HASH_KEY` in production.
"""
from __future__ import annotations

import hashlib
import hmac

from django.conf import settings

# What replaces an erased number in the calls' number columns (at most 32 characters, so the
# same token fits every number column): the same number always gives the same token, so the
# anonymised calls of one caller still belong together (callback matching, counts).
TOKEN_PREFIX = "erased:"
TOKEN_HEX = 16


def _key() -> bytes:
    configured = getattr(settings, "PRIVACY_HASH_KEY", "") or ""
    if configured:
        return configured.encode()
    return hashlib.sha256(b"switchboard.privacy.number-hash:" + settings.SECRET_KEY.encode()
                          ).digest()


def number_hash(e164: str) -> str:
    """The keyed hash (64 hex digits) of an E.164 number."""
    return hmac.new(_key(), e164.encode(), hashlib.sha256).hexdigest()


def token_of(hashed: str) -> str:
    """What an erased number reads as everywhere (`erased:3f9c…`, 23 characters)."""
    return f"{TOKEN_PREFIX}{hashed[:TOKEN_HEX]}"
