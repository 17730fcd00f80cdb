"""Vapi's connection test: one `GET /assistant?limit=1` (see `sync.connection_check`)."""
from __future__ import annotations

from django.utils.translation import gettext as _

from portal.upstream_check import CheckResult
from sync.connection_check import client_options, one_request
from sync.providers.vapi.client import VapiClient
from sync.providers.vapi.spec import SPEC


def check(base_url: str, token: str, agent_ids: list[int]) -> CheckResult:
    """The key works when the assistants' listing answers (one request, one item)."""
    client = VapiClient(base_url, token, **client_options())
    _answer, failed = one_request(
        client, lambda: client.assistants(limit=1),
        _("This is not a Vapi API address. Give it as %(form)s.") % {"form": SPEC.expected_form})
    return failed or CheckResult(
        True, _("Connected: the key lists this organisation's assistants."))
