"""The KPI report: contact-centre figures for AI agents (abandonment, voicemail, transfers and
containment, handle time, time to answer, peak concurrency, the vendor's success judgement and
whether success held) by period, agent and vendor (`reports.queries.kpis`: the figures and
their rules; `docs/kpis.md`: the definitions beside Amazon Connect's). Its "came back" figures
move with the time of reading: computed as of the hour, as the outcome report
(`time_dependent`). Calls, answered and answer rate are the calls report's metrics: declared
once, there."""
from __future__ import annotations

from datetime import datetime

from django.utils.translation import gettext_lazy as _

from reports import exports
from reports.api.parameters import IntervalAgentParameters
from reports.kpi_groups import KPI_LABELS
from reports.queries.kpis import METRICS, KpiSummary, kpis_summary
from reports.registry import Metric, Report, Unit, tables_of
from reports.scope import ReportScope

UNITS = {"count": Unit.COUNT, "ratio": Unit.RATE, "seconds": Unit.SECONDS}
# Declared by the calls report (the same figures, one definition).
CALLS_METRICS = ("calls", "answered", "answer_rate")
LOWER_IS_BETTER = {"abandoned", "abandon_rate", "voicemail", "voicemail_rate", "transferred",
                   "transfer_rate", "avg_time_to_answer_seconds", "succeeded_then_repeat",
                   "succeeded_then_repeat_rate"}


def _metric(kpi) -> Metric:
    key = kpi.key
    return Metric(key, kpi.label, UNITS[kpi.unit], kpi.definition,
                  lambda t, key=key: getattr(t, key),
                  drill={"kpi": key} if key in KPI_LABELS else None,
                  higher_is_better=key not in LOWER_IS_BETTER)


class KpisReport(Report[KpiSummary]):
    kind = "kpis"
    path = "kpis"
    parameters = IntervalAgentParameters
    result = KpiSummary
    title = _("KPIs")
    description = ("KPIs for AI agents per period, agent and vendor: abandonment, voicemail, "
                   "transfers and containment, handle time, time to answer, peak concurrency, "
                   "success rate and successful calls that came back; null with a reason where "
                   "a vendor sends nothing to compute a figure.")
    tables = tables_of(exports.kpis_rows, "series", "agents", "vendors")
    time_dependent = True
    metrics = tuple(_metric(k) for k in METRICS if k.key not in CALLS_METRICS)

    def cache_params(self, scope: ReportScope) -> dict:
        return {"start": scope.start, "end": scope.end, "interval": scope.interval,
                "agent_ids": sorted(scope.agent_ids or []),
                "window": scope.organization.resolution_window_days}

    def compute(self, scope: ReportScope, now: datetime) -> KpiSummary:
        return kpis_summary(scope.environments, scope.start, scope.end, scope.interval,
                            now=now, agent_ids=scope.agent_ids)


REPORT = KpisReport()
