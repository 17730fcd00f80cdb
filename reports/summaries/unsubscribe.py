"""Signed one-click unsubscribe links: one per (subscription, recipient), unforgeable, and
valid for MAX_AGE (every summary carries a fresh one, so a working link is always at hand)."""
from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.urls import reverse

from reports import signed_links
from reports.signed_links import Expired

__all__ = ["MAX_AGE", "Expired", "make_token", "read_token", "unsubscribe_url"]

SALT = "reports.summaries.unsubscribe"
MAX_AGE = timedelta(days=90)


def make_token(subscription_id: int, email: str) -> str:
    return signed_links.make_token(SALT, subscription_id, email)


def read_token(token: str) -> tuple[int, str] | None:
    """(subscription id, email), None for a forged token; raises `Expired` past MAX_AGE."""
    return signed_links.read_token(SALT, token, MAX_AGE)


def unsubscribe_url(subscription_id: int, email: str) -> str:
    path = reverse("subscription-unsubscribe", args=[make_token(subscription_id, email)])
    return settings.PORTAL_BASE_URL.rstrip("/") + path
