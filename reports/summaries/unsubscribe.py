"""Signed one-click unsubscribe links: one per (subscription, recipient), unforgeable, and
valid for MAX_AGE (every summary carries a fresh one, so a working link is always at hand)."""
from __future__ import annotations

from datetime import timedelta

from reports.signed_links import Expired, SignedLink

__all__ = ["MAX_AGE", "Expired", "make_token", "read_token", "unsubscribe_url"]

SALT = "reports.summaries.unsubscribe"
MAX_AGE = timedelta(days=90)
LINK = SignedLink(SALT, MAX_AGE, "subscription-unsubscribe")
# (subscription id, email) in and out of a token; the link a summary gives its recipient.
make_token, read_token, unsubscribe_url = LINK.make_token, LINK.read_token, LINK.url
