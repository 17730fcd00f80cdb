"""Origins AI as the engine reads it (`sync.providers.registry`, listed in
`SWITCHBOARD_PROVIDERS`)."""
from __future__ import annotations

from sync.providers.adapter import ProviderAdapter
from sync.providers.origins import check, streams
from sync.providers.origins.client import OriginsClient
from sync.providers.origins.spec import SPEC

ADAPTER = ProviderAdapter(OriginsClient, {
    "agents": streams.sync_agents,
    "calls": streams.sync_calls,
}, SPEC, check.check)
