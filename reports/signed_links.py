"""Signed links that work without signing in: one-click unsubscribe, alert acknowledge/snooze.

The token is the proof: it names one object and one recipient, cannot be forged (Django's
signing, under a salt per kind of link) and expires, so a forwarded or leaked email does not
act forever. A stale link is told apart from a forged one, so the page can say how to get a
fresh link.
"""
from __future__ import annotations

import dataclasses
from datetime import timedelta

from django.core import signing
from django.urls import reverse

from portal.emails import absolute_url


class Expired(Exception):
    """A genuine link older than its maximum age."""


def make_token(salt: str, object_id: int, email: str) -> str:
    # "s": the key the first links (unsubscribe, for subscriptions) were issued with.
    return signing.dumps({"s": object_id, "e": email.lower()}, salt=salt, compress=True)


def read_token(salt: str, token: str, max_age: timedelta) -> tuple[int, str] | None:
    """(object id, email) of a valid token, None for a forged or damaged one; raises
    `Expired` for a genuine one older than `max_age`."""
    try:
        data = signing.loads(token, salt=salt, max_age=max_age)
    except signing.SignatureExpired as exc:
        raise Expired from exc
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("s"), int):
        return None
    return data["s"], str(data.get("e", ""))


@dataclasses.dataclass(frozen=True)
class SignedLink:
    """One kind of link: its salt, how long it works and the page (URL name) it opens."""

    salt: str
    max_age: timedelta
    url_name: str

    def make_token(self, object_id: int, email: str) -> str:
        return make_token(self.salt, object_id, email)

    def read_token(self, token: str) -> tuple[int, str] | None:
        """(object id, email), None for a forged token; raises `Expired` past `max_age`."""
        return read_token(self.salt, token, self.max_age)

    def url(self, object_id: int, email: str) -> str:
        """The absolute link an email gives `email` for `object_id`."""
        return absolute_url(reverse(self.url_name, args=[self.make_token(object_id, email)]))
