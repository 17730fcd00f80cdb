"""Origins AI's connection test: the first agent's call_stats, read to its first byte (see
`sync.connection_check`)."""
from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from portal.upstream_check import CheckResult
from sync.connection_check import client_options, refused, unexpected
from sync.providers.errors import BadResponse, NotFound, UpstreamError
from sync.providers.origins.client import OriginsClient
from sync.providers.origins.spec import SPEC


def check(base_url: str, token: str, agent_ids: list[int]) -> CheckResult:
    """The first agent's call_stats, read only as far as its first byte (an array's `[`).

    Origins has no cheap listing: the endpoint returns an agent's whole history, so the
    answer is streamed and closed after its opening byte.
    """
    if not agent_ids:
        return CheckResult(False, _("Give at least one agent id to test the connection with."),
                           "agent_ids")
    client = OriginsClient(base_url, token, **client_options())
    try:
        opening = client.call_stats_opening(agent_ids[0])
    except BadResponse:
        return CheckResult(False, _("This is not an Origins AI API address. Give it as %(form)s.")
                           % {"form": SPEC.expected_form}, "base_url")
    except NotFound:
        message = _("Agent %(id)s was not found at this address; check the agent id and that "
                    "the address is an Origins AI API (%(form)s).")
        return CheckResult(False, message % {"id": agent_ids[0], "form": SPEC.expected_form},
                           "base_url")
    except UpstreamError as exc:
        return refused(exc) or unexpected(exc)
    finally:
        client.close()
    if opening != b"[":
        return CheckResult(False, _("This is not an Origins AI API address. Give it as %(form)s.")
                           % {"form": SPEC.expected_form}, "base_url")
    return CheckResult(True, ngettext("Connected: %(count)d agent configured.",
                                      "Connected: %(count)d agents configured.",
                                      len(agent_ids)) % {"count": len(agent_ids)})
