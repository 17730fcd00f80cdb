"""What every provider's connection test shares (each test lives in its provider's package,
`check.py`, and is named in its adapter).

Registered into `portal.upstream_check` at start-up (`sync.apps`), so the settings form, the
admin and `addenv` can test a token and URL without `portal` importing `sync`. Each check
makes one request, never retried, with short timeouts, and answers in the user's terms:
token rejected / not a <provider> API at this URL / unreachable / OK with the agent count.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.utils.translation import gettext as _

from portal import upstream_url
from portal.upstream_check import CheckResult
from sync.providers.errors import (
    AddressRefused,
    AnswerTooLarge,
    AnswerTooSlow,
    AuthError,
    BadResponse,
    NotFound,
    Redirected,
    UpstreamError,
)
from sync.providers.http import HttpClient
from sync.providers.transport import Limits, page_limits

TIMEOUT = (3.0, 10.0)
# A person waits on the check: its whole answer within this, even the Origins stream's head.
CHECK_DEADLINE = 15.0


def client_options() -> dict[str, Any]:
    """A check's client: one attempt, short timeouts, quiet, the address policy, bounded."""
    return {"timeout": TIMEOUT, "max_attempts": 1, "quiet": True,
            "address_check": upstream_url.check_allowed, **_limits()}


def one_request(client: HttpClient, ask: Callable[[], Any],
                not_this_api: str) -> tuple[Any, CheckResult | None]:
    """The check's one request on `client`, which is closed after: (its answer, None), or
    (None, the failure in the user's terms) — `not_this_api` when the address answers, but
    not as the provider's API (a 404 on a collection any account has, or a foreign shape)."""
    try:
        return ask(), None
    except (NotFound, BadResponse):
        return None, CheckResult(False, not_this_api, "base_url")
    except UpstreamError as exc:
        return None, refused(exc) or unexpected(exc)
    finally:
        client.close()


def refused(exc: UpstreamError) -> CheckResult | None:
    """The answer for an address refused or a token rejected (None for any other error)."""
    if isinstance(exc, AddressRefused):
        return CheckResult(False, str(exc), "base_url")
    if isinstance(exc, AuthError):
        return CheckResult(False, _("The upstream rejected this token."), "token")
    return None


def _limits() -> dict[str, Limits]:
    page = page_limits()
    bounded = Limits(min(page.deadline, CHECK_DEADLINE), page.max_bytes)
    return {"limits": bounded, "stream_limits": bounded}


def unexpected(exc: UpstreamError) -> CheckResult:
    if isinstance(exc, Redirected):
        return CheckResult(False, _("This address redirects elsewhere (HTTP %(status)s), and "
                                    "redirects are not followed: give the address the API "
                                    "answers at.") % {"status": exc.status}, "base_url")
    if isinstance(exc, AnswerTooSlow | AnswerTooLarge):
        return CheckResult(False, _("The upstream's answer was too slow or too large to be "
                                    "this API's."), "base_url")
    if exc.status is None:
        return CheckResult(False, _("The address could not be reached (%(error)s).")
                           % {"error": str(exc).rsplit(": ", 1)[-1]}, "base_url")
    return CheckResult(False, _("Unexpected answer from the upstream: HTTP %(status)s.")
                       % {"status": exc.status}, "base_url")
