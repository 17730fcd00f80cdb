"""The Quality report: latency, billed minutes, cost and hang-up and insight breakdowns of
the environments whose provider reports voice quality (`reports.queries.quality`)."""
from __future__ import annotations

from datetime import datetime

from django.utils.translation import gettext_lazy as _

from reports import exports
from reports.api.parameters import AgentParameters
from reports.days import ScopeError
from reports.queries.quality import QualitySummary, quality_environments, quality_summary
from reports.registry import Metric, Report, Unit, tables_of
from reports.scope import ReportScope


class QualityReport(Report[QualitySummary]):
    kind = "quality"
    path = "quality"
    parameters = AgentParameters
    result = QualitySummary
    title = _("Quality")
    description = ("Latency p50/p90, billed minutes, cost, hang-up and insight breakdowns, "
                   "coverage.")
    tables = tables_of(exports.quality_rows, "days", "agents", "breakdown")
    metrics = (
        Metric("latency_p50_ms", _("Latency (median)"), Unit.MILLISECONDS,
               _("The middle of the calls' reported response latencies."),
               lambda t: t.latency_p50_ms, sample=lambda t: t.latency_calls,
               higher_is_better=False),
        Metric("latency_p90_ms", _("Latency (90th percentile)"), Unit.MILLISECONDS,
               _("Nine in ten calls' reported latencies are at or below it."),
               lambda t: t.latency_p90_ms, sample=lambda t: t.latency_calls,
               higher_is_better=False),
        Metric("billed_minutes", _("Billed minutes"), Unit.MINUTES,
               _("The minutes the vendor billed, over the calls that report them."),
               lambda t: t.billed_minutes, sample=lambda t: t.billed_calls),
    )

    def check(self, scope: ReportScope) -> None:
        if not quality_environments(scope.environments):
            raise ScopeError({"environment": [str(_(
                "The Quality report covers environments whose provider reports voice "
                "quality; none was given."))]}, {"environment": "invalid"})

    def cache_params(self, scope: ReportScope) -> dict:
        return scope.cache_params("quality")

    def compute(self, scope: ReportScope, now: datetime) -> QualitySummary:
        return quality_summary(scope.environments, scope.start, scope.end,
                               agent_ids=scope.agent_ids or None)


REPORT = QualityReport()
