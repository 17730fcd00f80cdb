"""What the engine reads of a provider: its client class, its streams, its spec, its
connection test and its optional hooks. Each provider package declares one, `ADAPTER` in its
`provider.py`; the registry (`sync.providers.registry`) loads those `SWITCHBOARD_PROVIDERS`
lists.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings

from portal import upstream_url
from portal.models import Environment
from portal.providers import ProviderSpec
from portal.upstream_check import Check
from sync.budget import RequestBudget
from sync.providers.http import HttpClient
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
