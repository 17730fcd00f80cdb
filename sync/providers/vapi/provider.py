"""Vapi as the engine reads it (`sync.providers.registry`, listed in
`SWITCHBOARD_PROVIDERS`)."""
from __future__ import annotations

from sync.providers.adapter import ProviderAdapter
from sync.providers.vapi import check, streams
from sync.providers.vapi.client import VapiClient
from sync.providers.vapi.spec import SPEC, pace

ADAPTER = ProviderAdapter(VapiClient, {
    "agents": streams.sync_agents,
    "calls": streams.sync_calls,
}, SPEC, check.check, pace=pace)
