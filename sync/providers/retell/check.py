"""Retell's connection test: one `POST /v3/list-calls` asking for one call (see
`sync.connection_check`): it proves the key reads calls, which is what the sync does."""
from __future__ import annotations

from django.utils.translation import gettext as _

from portal.upstream_check import CheckResult
from sync.connection_check import client_options, one_request
from sync.providers.retell.client import RetellClient
from sync.providers.retell.spec import SPEC


def check(base_url: str, token: str, agent_ids: list[int]) -> CheckResult:
    """The key works when the calls' listing answers (one request, one item)."""
    client = RetellClient(base_url, token, **client_options())
    _answer, failed = one_request(
        client, lambda: client.list_calls(0, limit=1),
        _("This is not a Retell AI API address. Give it as %(form)s.")
        % {"form": SPEC.expected_form})
    return failed or CheckResult(True, _("Connected: the key lists this workspace's calls."))
