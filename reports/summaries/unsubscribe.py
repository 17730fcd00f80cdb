"""Signed one-click unsubscribe links: one per (subscription, recipient), unforgeable, and
valid for MAX_AGE (every summary carries a fresh one, so a working link is always at hand)."""
from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.urls import reverse

SALT = "reports.summaries.unsubscribe"
MAX_AGE = timedelta(days=90)


class Expired(Exception):
    """A genuine link older than MAX_AGE."""


def make_token(subscription_id: int, email: str) -> str:
    return signing.dumps({"s": subscription_id, "e": email.lower()}, salt=SALT, compress=True)


def read_token(token: str) -> tuple[int, str] | None:
    """(subscription id, email) of a valid token, None for a forged or damaged one; raises
    `Expired` for a genuine one older than MAX_AGE."""
    try:
        data = signing.loads(token, salt=SALT, max_age=MAX_AGE)
    except signing.SignatureExpired as exc:
        raise Expired from exc
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("s"), int):
        return None
    return data["s"], str(data.get("e", ""))


def unsubscribe_url(subscription_id: int, email: str) -> str:
    path = reverse("subscription-unsubscribe", args=[make_token(subscription_id, email)])
    return settings.PORTAL_BASE_URL.rstrip("/") + path
