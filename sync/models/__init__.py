"""Every model of the `sync` app, by the module that defines it (one door: `sync.models`).

The mirror and the sync's bookkeeping live in `core`, the per-day call ledger in `ledger`, the
voice-quality rollups of Origins calls in `quality`, the callback funnel's links in
`callbacks`, rejected upstream records in `quarantine`, erased callers and per-kind retention
in `privacy`, agents' price snapshots in `prices`, the outcome report's days and the numbers
left out of resolution in `outcomes`, the KPI report's in `kpis`.
Choices and column constants are imported from the module that defines them.
"""
from sync.models.callbacks import CallbackFunnelDay, CallbackLink
from sync.models.core import (
    Agent,
    AgentDayRollup,
    Call,
    CallbackDay,
    CallbackSourceDay,
    CallRollup,
    StreamState,
    SyncRun,
)
from sync.models.kpis import KpiDayRollup
from sync.models.ledger import CallDayLedger
from sync.models.outcomes import ExcludedNumber, OutcomeDayRollup
from sync.models.prices import AgentPrice
from sync.models.privacy import CallerTombstone, Erasure, PrivacyRetention
from sync.models.quality import QualityDayRollup
from sync.models.quarantine import RejectedRecord

__all__ = [
    "Agent",
    "AgentPrice",
    "AgentDayRollup",
    "KpiDayRollup",
    "Call",
    "CallDayLedger",
    "CallerTombstone",
    "Erasure",
    "ExcludedNumber",
    "OutcomeDayRollup",
    "CallRollup",
    "CallbackDay",
    "CallbackFunnelDay",
    "CallbackLink",
    "CallbackSourceDay",
    "PrivacyRetention",
    "QualityDayRollup",
    "RejectedRecord",
    "StreamState",
    "SyncRun",
]
