"""Encryption of secrets at rest (upstream tokens) with MultiFernet over FIELD_ENCRYPTION_KEYS."""
from __future__ import annotations

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class DecryptionError(RuntimeError):
    """The stored ciphertext cannot be read with any configured key."""


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key.encode()) for key in keys])


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS))


def encrypt(plaintext: str) -> str:
    return fernet().encrypt(plaintext.encode()).decode()


def decrypt(ciphertext: str) -> str:
    try:
        return fernet().decrypt(ciphertext.encode()).decode()
    except InvalidToken as exc:
        raise DecryptionError(
            "stored secret cannot be decrypted with FIELD_ENCRYPTION_KEYS "
            "(was a key removed before `manage.py rotate_keys` ran?)"
        ) from exc


def rotate(ciphertext: str) -> str:
    """Re-encrypt under the first key (a no-op in meaning, a change in bytes)."""
    return fernet().rotate(ciphertext.encode()).decode()


def token_hint(token: str) -> str:
    """What may be shown of a secret: its prefix and last four characters, e.g. talq_…9f3c."""
    token = token.strip()
    prefix = token.split("_", 1)[0] + "_" if "_" in token[:8] else ""
    return f"{prefix}…{token[-4:]}" if len(token) >= 8 else "…"


def url_hint(url: str) -> str:
    """What may be shown of a secret URL (a webhook: its path is the credential): the host and
    the last four characters of the rest, e.g. hooks.slack.com/…CRET; "" for no URL. Short
    paths (under 12 characters) show none of theirs; credentials in the URL never show."""
    from urllib.parse import urlsplit

    url = url.strip()
    if not url:
        return ""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        host += f":{parts.port}" if parts.port else ""
    except ValueError:
        host, parts = "", None
    rest = (parts.path + ("?" + parts.query if parts.query else "")) if parts else url
    tail = rest[-4:] if len(rest) >= 12 else ""
    return f"{host}/…{tail}"
