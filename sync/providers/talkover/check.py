"""Talkover's connection test: one `GET /agents?per_page=1` (see `sync.connection_check`)."""
from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from portal.upstream_check import CheckResult
from sync.connection_check import client_options, one_request
from sync.providers.talkover.client import TalkoverClient
from sync.providers.talkover.spec import SPEC


def check(base_url: str, token: str, agent_ids: list[int]) -> CheckResult:
    """GET /agents?per_page=1: the token works and `meta.total` counts the agents."""
    client = TalkoverClient(base_url, token, **client_options())
    page, failed = one_request(
        client, lambda: next(iter(client.agent_pages(per_page=1))),
        _("This is not a Talkover API address. Give it as %(form)s.")
        % {"form": SPEC.expected_form})
    if failed:
        return failed
    message = ngettext("Connected: %(count)d agent.", "Connected: %(count)d agents.", page.total)
    return CheckResult(True, message % {"count": page.total})
