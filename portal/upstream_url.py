"""Upstream base URLs: accepted in any reasonable form, stored in one normal form, policed.

An operator pastes what they see — `https://app.talkover.ai`, `…/api/v1/`, an Origins host with
or without `/api` — and every door (settings form, admin, `addenv`, the model itself) stores the
same normal form through `normalise`, which the provider clients then extend with their paths:

| provider | normal form                      | the client asks for         |
|----------|----------------------------------|-----------------------------|
| talkover | `scheme://host[:port][/p]/api/v1` | `…/api/v1/calls`, `/agents`  |
| origins  | `scheme://host[:port][/p]`        | `…/api/agents/{id}/call_stats` |

`check_allowed` is the production policy (DEBUG=false): https only, and a host that resolves to
public addresses only, unless listed in `UPSTREAM_ALLOWED_HOSTS` — so an organisation admin cannot
point the sync at the deployment's own network (SSRF). Development and tests allow any host.
"""
from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

TALKOVER, ORIGINS = "talkover", "origins"
# The API prefix each provider's paths hang from, and the forms accepted in examples.
API_PREFIX = {TALKOVER: "/api/v1", ORIGINS: ""}
EXPECTED_FORM = {
    TALKOVER: "https://app.talkover.ai (or …/api/v1)",
    ORIGINS: "https://your-origins-host (or …/api)",
}
DEFAULT = {TALKOVER: "https://app.talkover.ai/api/v1", ORIGINS: ""}


def normalise(provider: str, raw: str) -> str:
    """The stored form of `raw` for `provider` ("" stays "" — the provider's default applies).

    Raises ValidationError (on the `base_url` field's terms) for what is not an http(s) URL
    with a host, or carries credentials, a query or a fragment.
    """
    raw = (raw or "").strip()
    if not raw:
        return ""
    parts = urlsplit(raw)
    if parts.scheme.lower() not in {"http", "https"} or not parts.hostname:
        raise ValidationError(_("Give the address as http(s)://host, e.g. %(example)s."),
                              params={"example": EXPECTED_FORM.get(provider, "https://host")},
                              code="invalid")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise ValidationError(
            _("The address must not contain a user name, password, query or fragment."),
            code="invalid")
    try:
        parts.port  # noqa: B018 — raises ValueError for a port out of range
    except ValueError:
        raise ValidationError(_("The port is not a valid number."), code="invalid") from None
    path = parts.path.rstrip("/")
    if provider == TALKOVER:
        if path.endswith("/api"):
            path += "/v1"
        elif not path.endswith("/api/v1"):
            path += "/api/v1"
    elif provider == ORIGINS and path.endswith("/api"):
        path = path[: -len("/api")]
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, "", ""))


def effective(provider: str, stored: str) -> str:
    """The URL the client uses: the stored normal form, or the provider's default."""
    return (stored or DEFAULT.get(provider, "")).rstrip("/")


def _allowed_hosts() -> set[str]:
    return {h.strip().lower() for h in getattr(settings, "UPSTREAM_ALLOWED_HOSTS", []) if h}


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    return ip.is_global and not ip.is_multicast


def peer_allowed(host: str, address: str) -> bool:
    """The production policy for the address a connection actually reached (see
    `sync.providers.transport`): public, or the host allow-listed; anything in DEBUG."""
    if settings.DEBUG or host.strip("[]").lower() in _allowed_hosts():
        return True
    try:
        return _public(address)
    except ValueError:
        return False


def check_allowed(url: str) -> None:
    """Refuse, in production, an upstream that is not https on public addresses only.

    Every address the host resolves to must be public: one private answer is enough for a
    rebinding attacker. A host in UPSTREAM_ALLOWED_HOSTS (exact name or address) is trusted.
    """
    if settings.DEBUG or not url:
        return
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if host in _allowed_hosts():
        return
    if parts.scheme != "https":
        raise ValidationError(_("The upstream address must use https."), code="insecure")
    try:
        infos = socket.getaddrinfo(host, parts.port or 443, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        # Nothing to reach, so nothing to protect: the request itself will fail plainly.
        # The sync checks again before its first request (the name may resolve by then).
        return
    if not all(_public(info[4][0]) for info in infos):
        raise ValidationError(
            _("The host %(host)s is not on a public address; an operator can allow it with "
              "UPSTREAM_ALLOWED_HOSTS."), params={"host": host}, code="private")
