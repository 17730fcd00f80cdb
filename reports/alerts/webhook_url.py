"""What an alert webhook URL may be: plain https to a named host, checked when a rule is saved
and again before every send.

A webhook URL is typed by an organisation's admin and fetched by our servers, so it is a
server-side request on their behalf: no scheme but https (http too while DEBUG, for local
receivers), a host name (not an address literal; `localhost` and its kin neither), no user name
or password in it (a credential the hint would show and logs could keep). Where the name
points is checked by `portal.upstream_url.check_allowed` (every address it resolves to
public, unless the host is in UPSTREAM_ALLOWED_HOSTS), at save and at send, and the address the
connection reaches is checked once more by the transport (`peer_allowed`), so a name rebound
to a private address between the two is refused.
"""
from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from portal.upstream_url import check_allowed

_LOCAL_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def url_problem(url: str) -> str:
    """Why `url` may not be a webhook ("" when it may): its form, without resolving it."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 — raises ValueError for a port out of range
    except ValueError:
        return _("The webhook URL is not a valid address.")
    scheme = parts.scheme.lower()
    if scheme != "https" and not (settings.DEBUG and scheme == "http"):
        return _("The webhook URL must start with https://.")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        return _("The webhook URL must name a host.")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        return _("The webhook URL must not contain a user name or password.")
    allowed = {h.strip().lower() for h in settings.UPSTREAM_ALLOWED_HOSTS if h}
    if not settings.DEBUG and host not in allowed and (
            _is_address(host) or host in _LOCAL_NAMES or host.endswith(".localhost")):
        return _("The webhook URL must name a public host, not an address or localhost.")
    return ""


def check_webhook_url(url: str) -> None:
    """Raise ValidationError (one message) unless `url` may be a webhook now: its form, then
    where its name resolves (production)."""
    problem = url_problem(url)
    if problem:
        raise ValidationError(problem, code="invalid")
    try:
        check_allowed(url)
    except ValidationError as exc:
        raise ValidationError(" ".join(exc.messages).replace("upstream", "webhook"),
                              code=exc.code) from None
