"""The provider registry: how to build a client for an environment, which streams it has,
and what it has and lacks (its `spec`, which `SyncConfig.ready` hands to `portal.providers`
for the portal, the reports and the admin).

The engine (`sync.engine`) is provider-agnostic; adding a provider means adding a package
under `sync/providers/` (client, streams, records, shape, spec) and one adapter here: see
docs/extending.md, "Add a provider".
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings

from portal import upstream_url
from portal.models import Environment, Provider
from portal.providers import ProviderSpec
from portal.upstream_check import Check
from sync.budget import RequestBudget
from sync.connection_check import check_origins, check_talkover
from sync.providers.http import HttpClient
from sync.providers.origins import streams as origins
from sync.providers.origins.client import OriginsClient
from sync.providers.origins.spec import SPEC as ORIGINS
from sync.providers.talkover import streams as talkover
from sync.providers.talkover.client import TalkoverClient
from sync.providers.talkover.hinted import sync_hinted_calls
from sync.providers.talkover.spec import SPEC as TALKOVER
from sync.providers.transport import stream_limits
from sync.run_context import RunContext


@dataclass(frozen=True)
class ProviderAdapter:
    """A provider: its client class, its streams (run in this order) and its spec."""

    client_class: type[HttpClient]
    streams: dict[str, Callable[[RunContext], None]]
    spec: ProviderSpec
    # The one request made before an environment is saved (`portal.upstream_check`).
    connection_check: Check
    # A webhook round of the calls stream, given what the deliveries named (Talkover only).
    hinted_calls: Callable[..., None] | None = None

    @property
    def stream_names(self) -> list[str]:
        return list(self.streams)

    def client(self, environment: Environment, budget_wait: float | None = None) -> HttpClient:
        """A client within the token's budget; `budget_wait`: see `RequestBudget.max_wait`."""
        token = environment.get_token()
        budget = RequestBudget(token, environment.requests_per_minute,
                               window=float(getattr(settings, "SYNC_BUDGET_WINDOW", 60.0)),
                               max_wait=budget_wait)
        return self.client_class(environment.effective_base_url, token, budget=budget,
                                 address_check=upstream_url.check_allowed,
                                 stream_limits=stream_limits(environment.provider))

    def run_stream(self, name: str, ctx: RunContext) -> None:
        self.streams[name](ctx)


ADAPTERS: dict[str, ProviderAdapter] = {
    Provider.TALKOVER: ProviderAdapter(TalkoverClient, {
        "agents": talkover.sync_agents,
        "calls": talkover.sync_calls,
        "callback_days": talkover.sync_callback_days,
    }, TALKOVER, check_talkover, hinted_calls=sync_hinted_calls),
    Provider.ORIGINS: ProviderAdapter(OriginsClient, {
        "agents": origins.sync_agents,
        "calls": origins.sync_calls,
    }, ORIGINS, check_origins),
}


def provider_for(environment: Environment) -> ProviderAdapter:
    """The adapter of the environment's provider; ValueError when none exists yet."""
    try:
        return ADAPTERS[environment.provider]
    except KeyError:
        raise ValueError(f"no sync adapter for provider {environment.provider!r} yet") from None
