"""The connection test before an environment is saved: one cheap request per provider.

Registered into `portal.upstream_check` at start-up (`sync.apps`), so the settings form, the
admin and `addenv` can test a token and URL without `portal` importing `sync`. Each check
makes one request, never retried, with short timeouts, and answers in the user's terms:
token rejected / not a <provider> API at this URL / unreachable / OK with the agent count.
"""
from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from portal import upstream_url
from portal.upstream_check import CheckResult
from portal.upstream_url import EXPECTED_FORM, ORIGINS, TALKOVER
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
from sync.providers.origins.client import OriginsClient
from sync.providers.talkover.client import TalkoverClient
from sync.providers.transport import Limits, page_limits

TIMEOUT = (3.0, 10.0)
# A person waits on the check: its whole answer within this, even the Origins stream's head.
CHECK_DEADLINE = 15.0


def _limits() -> dict[str, Limits]:
    page = page_limits()
    bounded = Limits(min(page.deadline, CHECK_DEADLINE), page.max_bytes)
    return {"limits": bounded, "stream_limits": bounded}


def _unexpected(exc: UpstreamError) -> CheckResult:
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


def check_talkover(base_url: str, token: str, agent_ids: list[int]) -> CheckResult:
    """GET /agents?per_page=1: the token works and `meta.total` counts the agents."""
    client = TalkoverClient(base_url, token, timeout=TIMEOUT, max_attempts=1, quiet=True,
                            address_check=upstream_url.check_allowed, **_limits())
    try:
        page = next(iter(client.agent_pages(per_page=1)))
    except AddressRefused as exc:
        return CheckResult(False, str(exc), "base_url")
    except AuthError:
        return CheckResult(False, _("The upstream rejected this token."), "token")
    except (NotFound, BadResponse):
        return CheckResult(False, _("This is not a Talkover API address. Give it as %(form)s.")
                           % {"form": EXPECTED_FORM[TALKOVER]}, "base_url")
    except UpstreamError as exc:
        return _unexpected(exc)
    finally:
        client.close()
    message = ngettext("Connected: %(count)d agent.", "Connected: %(count)d agents.", page.total)
    return CheckResult(True, message % {"count": page.total})


def check_origins(base_url: str, token: str, agent_ids: list[int]) -> CheckResult:
    """The first agent's call_stats, read only as far as its first byte (an array's `[`).

    Origins has no cheap listing: the endpoint returns an agent's whole history, so the
    answer is streamed and closed after its opening byte.
    """
    if not agent_ids:
        return CheckResult(False, _("Give at least one agent id to test the connection with."),
                           "agent_ids")
    client = OriginsClient(base_url, token, timeout=TIMEOUT, max_attempts=1, quiet=True,
                           address_check=upstream_url.check_allowed, **_limits())
    try:
        opening = client.call_stats_opening(agent_ids[0])
    except AddressRefused as exc:
        return CheckResult(False, str(exc), "base_url")
    except AuthError:
        return CheckResult(False, _("The upstream rejected this token."), "token")
    except BadResponse:
        return CheckResult(False, _("This is not an Origins AI API address. Give it as %(form)s.")
                           % {"form": EXPECTED_FORM[ORIGINS]}, "base_url")
    except NotFound:
        message = _("Agent %(id)s was not found at this address; check the agent id and that "
                    "the address is an Origins AI API (%(form)s).")
        return CheckResult(False, message % {"id": agent_ids[0], "form": EXPECTED_FORM[ORIGINS]},
                           "base_url")
    except UpstreamError as exc:
        return _unexpected(exc)
    finally:
        client.close()
    if opening != b"[":
        return CheckResult(False, _("This is not an Origins AI API address. Give it as %(form)s.")
                           % {"form": EXPECTED_FORM[ORIGINS]}, "base_url")
    return CheckResult(True, ngettext("Connected: %(count)d agent configured.",
                                      "Connected: %(count)d agents configured.",
                                      len(agent_ids)) % {"count": len(agent_ids)})

