"""Upstream base URLs: accepted in any reasonable form, stored in one normal form, policed.

An operator pastes what they see — a vendor's host, with or without its API prefix — and every
door (settings form, admin, `addenv`, the model itself) stores the same normal form through
`normalise`, which the provider clients then extend with their paths. The rules are each
provider's (`ProviderSpec.api_prefix`, `accepted_suffixes`, `expected_form`,
`default_base_url`, declared in its package): the normal form is `scheme://host[:port][/p]`
followed by the API prefix, whichever accepted ending the operator pasted.

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

from portal.providers import spec_for


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
                              params={"example": spec_for(provider).expected_form},
                              code="invalid")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise ValidationError(
            _("The address must not contain a user name, password, query or fragment."),
            code="invalid")
    try:
        parts.port  # noqa: B018 — raises ValueError for a port out of range
    except ValueError:
        raise ValidationError(_("The port is not a valid number."), code="invalid") from None
    spec = spec_for(provider)
    path = parts.path.rstrip("/")
    for suffix in sorted(spec.accepted_suffixes, key=len, reverse=True):
        if path.endswith(suffix):
            path = path[: -len(suffix)]
            break
    path += spec.api_prefix
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, "", ""))


def effective(provider: str, stored: str) -> str:
    """The URL the client uses: the stored normal form, or the provider's default."""
    return (stored or spec_for(provider).default_base_url).rstrip("/")


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
