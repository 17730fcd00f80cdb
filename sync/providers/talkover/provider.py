"""Talkover as the engine reads it (`sync.providers.registry`, listed in
`SWITCHBOARD_PROVIDERS`)."""
from __future__ import annotations

from sync.providers.adapter import ProviderAdapter
from sync.providers.talkover import check, streams
from sync.providers.talkover.client import TalkoverClient
from sync.providers.talkover.hinted import sync_hinted_calls
from sync.providers.talkover.incremental import reconciliation_plan
from sync.providers.talkover.spec import SPEC
from sync.providers.talkover.webhook import registration

ADAPTER = ProviderAdapter(TalkoverClient, {
    "agents": streams.sync_agents,
    "calls": streams.sync_calls,
    "callback_days": streams.sync_callback_days,
}, SPEC, check.check, hinted_streams={"calls": sync_hinted_calls},
    reconciliation_plan=reconciliation_plan, webhook_registration=registration)
