from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SyncConfig(AppConfig):
    name = "sync"
    verbose_name = _("Sync (mirrored upstream data)")

    def ready(self) -> None:
        # The doors that save environments live in portal/, which imports nothing from sync/:
        # hand it each provider's connection test and what it has and lacks (its spec,
        # declared in its package), from the one provider registry.
        from portal import providers, upstream_check
        from sync.providers.registry import ADAPTERS

        for key, adapter in ADAPTERS.items():
            upstream_check.register(key, adapter.connection_check)
            providers.register(adapter.spec)

        from sync import receivers  # noqa: F401  (rebuilds rollups when a timezone changes)

        self.declare_tenancy()

    @staticmethod
    def declare_tenancy() -> None:
        """Every mirrored row belongs to its environment's organisation (`portal.tenancy.registry`).
        """
        from portal.tenancy import registry as tenancy
        from portal.tenancy.restriction import restrict
        from sync.models import (
            Agent,
            AgentDayRollup,
            AgentPrice,
            Call,
            CallbackDay,
            CallbackFunnelDay,
            CallbackLink,
            CallbackSourceDay,
            CallDayLedger,
            CallerTombstone,
            CallRollup,
            Erasure,
            ExcludedNumber,
            KpiDayRollup,
            OutcomeDayRollup,
            PrivacyRetention,
            QualityDayRollup,
            RejectedRecord,
            StreamState,
            SyncRun,
        )

        tenancy.register(Agent, Call, CallbackDay, CallbackSourceDay, SyncRun, StreamState,
                         CallRollup, AgentDayRollup, CallDayLedger, QualityDayRollup,
                         RejectedRecord, CallbackLink, CallbackFunnelDay, AgentPrice,
                         OutcomeDayRollup, KpiDayRollup, path="environment__organization")
        tenancy.register(CallerTombstone, Erasure, PrivacyRetention, ExcludedNumber,
                         path="organization")
        # A member restricted to teams (portal.tenancy.restriction): rows per agent are
        # theirs; an environment's aggregate over every agent is not.
        restrict(Agent, kind="agents", agents=("external_id",))
        restrict(Call, CallRollup, AgentDayRollup, QualityDayRollup, AgentPrice, OutcomeDayRollup,
                 KpiDayRollup, kind="agents",
                 agents=("agent_external_id",))
        restrict(CallbackLink, kind="agents",
                 agents=("callback_agent_external_id", "source_agent_external_id"))
        restrict(CallbackSourceDay, kind="agents", agents=("source_agent_id",))
        restrict(SyncRun, StreamState, CallDayLedger, kind="environment")
        restrict(CallbackDay, CallbackFunnelDay, RejectedRecord, kind="hidden")
        restrict(CallerTombstone, Erasure, PrivacyRetention, ExcludedNumber, kind="open")
