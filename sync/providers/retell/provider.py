"""Retell AI as the engine reads it (`sync.providers.registry`, listed in
`SWITCHBOARD_PROVIDERS`)."""
from __future__ import annotations

from sync.providers.adapter import ProviderAdapter
from sync.providers.retell import check, streams
from sync.providers.retell.client import RetellClient
from sync.providers.retell.spec import SPEC, pace

ADAPTER = ProviderAdapter(RetellClient, {
    "agents": streams.sync_agents,
    "calls": streams.sync_calls,
}, SPEC, check.check, pace=pace)
