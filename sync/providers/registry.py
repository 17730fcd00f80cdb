"""The provider registry: how to build a client for an environment, which streams it has,
and what it has and lacks (its `spec`, which `SyncConfig.ready` hands to `portal.providers`
for the portal, the reports and the admin).

The engine (`sync.engine`) is provider-agnostic; adding a provider means adding a package
under `sync/providers/` (client, streams, records, shape, spec) and one adapter here: see
docs/extending.md, "Add a provider".
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings

from portal import upstream_url
from portal.models import Environment, Provider
from portal.providers import ProviderSpec
from portal.upstream_check import Check
from sync.budget import RequestBudget
from sync.providers.http import HttpClient
from sync.providers.origins import check as origins_check
from sync.providers.origins import streams as origins
from sync.providers.origins.client import OriginsClient
from sync.providers.origins.spec import SPEC as ORIGINS
from sync.providers.talkover import check as talkover_check
from sync.providers.talkover import streams as talkover
from sync.providers.talkover.client import TalkoverClient
from sync.providers.talkover.hinted import sync_hinted_calls
from sync.providers.talkover.incremental import reconciliation_plan as talkover_plan
from sync.providers.talkover.spec import SPEC as TALKOVER
from sync.providers.talkover.webhook import registration as talkover_registration
from sync.providers.transport import stream_limits
from sync.providers.vapi import check as vapi_check
from sync.providers.vapi import streams as vapi
from sync.providers.vapi.client import VapiClient
from sync.providers.vapi.spec import SPEC as VAPI
from sync.providers.vapi.spec import pace as vapi_pace
from sync.run_context import RunContext


@dataclass(frozen=True)
class ProviderAdapter:
    """A provider: its client class, its streams (run in this order) and its spec."""

    client_class: type[HttpClient]
    streams: dict[str, Callable[[RunContext], None]]
    spec: ProviderSpec
    # The one request made before an environment is saved (`portal.upstream_check`).
    connection_check: Check
    # Streams read differently on a webhook round, given what the deliveries named:
    # name → (ctx, hints, put_back).
    hinted_streams: dict[str, Callable[..., None]] = field(default_factory=dict)
    # The sync page's "until when each day may change" (env, now) → day plans; None: no plan.
    reconciliation_plan: Callable[[Environment, datetime], list[Any]] | None = None
    # The provider's own pace (requests a minute, read when a client is made), used while the
    # environment's setting is left at its default (None: the setting alone).
    pace: Callable[[], int] | None = None
    # (agent id, hook URL, secret) → (path, JSON body) of the request registering the hook on
    # one agent (`sync.webhooks.register`); None: its webhooks are set up upstream by hand.
    webhook_registration: Callable[[str, str, str], tuple[str, dict]] | None = None

    @property
    def stream_names(self) -> list[str]:
        return list(self.streams)

    def client(self, environment: Environment, budget_wait: float | None = None) -> HttpClient:
        """A client within the token's budget; `budget_wait`: see `RequestBudget.max_wait`."""
        token = environment.get_token()
        pace = environment.requests_per_minute
        if self.pace is not None and pace == _DEFAULT_PACE:
            # Left at the default: the provider's own (lower) pace. Set on the environment,
            # the operator's figure is taken as it is (a plan with a higher limit).
            pace = min(pace, self.pace())
        budget = RequestBudget(token, pace,
                               window=float(getattr(settings, "SYNC_BUDGET_WINDOW", 60.0)),
                               max_wait=budget_wait)
        return self.client_class(environment.effective_base_url, token, budget=budget,
                                 address_check=upstream_url.check_allowed,
                                 stream_limits=stream_limits(environment.provider))

    def run_stream(self, name: str, ctx: RunContext) -> None:
        self.streams[name](ctx)


_DEFAULT_PACE = Environment._meta.get_field("requests_per_minute").default

ADAPTERS: dict[str, ProviderAdapter] = {
    Provider.TALKOVER: ProviderAdapter(TalkoverClient, {
        "agents": talkover.sync_agents,
        "calls": talkover.sync_calls,
        "callback_days": talkover.sync_callback_days,
    }, TALKOVER, talkover_check.check, hinted_streams={"calls": sync_hinted_calls},
        reconciliation_plan=talkover_plan, webhook_registration=talkover_registration),
    Provider.ORIGINS: ProviderAdapter(OriginsClient, {
        "agents": origins.sync_agents,
        "calls": origins.sync_calls,
    }, ORIGINS, origins_check.check),
    Provider.VAPI: ProviderAdapter(VapiClient, {
        "agents": vapi.sync_agents,
        "calls": vapi.sync_calls,
    }, VAPI, vapi_check.check, pace=vapi_pace),
}


def provider_for(environment: Environment) -> ProviderAdapter:
    """The adapter of the environment's provider; ValueError when none exists yet."""
    try:
        return ADAPTERS[environment.provider]
    except KeyError:
        raise ValueError(f"no sync adapter for provider {environment.provider!r} yet") from None
