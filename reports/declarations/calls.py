"""The calls report: totals, series, agents, heatmap and deltas of a scope's calls
(`reports.queries.calls`, over the call rollups)."""
from __future__ import annotations

from datetime import datetime

from django.utils.translation import gettext_lazy as _

from reports import exports
from reports.api.parameters import CallsParameters
from reports.queries import CallsSummary, calls_summary
from reports.queries.common import ratio
from reports.registry import Metric, Report, Unit, tables_of
from reports.scope import ReportScope


class CallsReport(Report[CallsSummary]):
    kind = "calls"
    path = "calls"
    parameters = CallsParameters
    result = CallsSummary
    title = _("Calls")
    description = ("Calls summary: totals, series, per-agent table, heatmap, previous period, "
                   "deltas.")
    tables = tables_of(exports.calls_rows, "series", "agents", "heatmap", named=True)
    metrics = (
        Metric("calls", _("Calls"), Unit.COUNT,
               _("Calls started in the period (test calls left out unless included)."),
               lambda t: t.total, drill={}, delta="total"),
        Metric("answered", _("Answered"), Unit.COUNT,
               _("Calls whose status is answered or completed: the caller and the agent "
                 "talked."),
               lambda t: t.answered, drill={"outcome": "answered"}, delta="answered"),
        Metric("answer_rate", _("Answer rate"), Unit.RATE,
               _("Answered calls over all calls."),
               lambda t: ratio(t.answered, t.total), sample=lambda t: t.total,
               drill={"outcome": "answered"}, delta="answer_rate"),
        Metric("failed_rate", _("Failed rate"), Unit.RATE, _("Failed calls over all calls."),
               lambda t: ratio(t.failed, t.total), sample=lambda t: t.total,
               drill={"outcome": "failed"}, higher_is_better=False),
        Metric("no_answer_rate", _("No-answer rate"), Unit.RATE,
               _("Calls nobody answered over all calls."),
               lambda t: ratio(t.no_answer, t.total), sample=lambda t: t.total,
               drill={"outcome": "no_answer"}, higher_is_better=False),
        Metric("talk_time", _("Talk time"), Unit.SECONDS,
               _("The answered calls' durations, added up."),
               lambda t: t.talk_time_total, drill={"outcome": "answered"},
               delta="talk_time_total"),
        Metric("avg_talk_time", _("Average duration"), Unit.SECONDS,
               _("Talk time over answered calls."),
               lambda t: ratio(t.talk_time_total, t.answered), sample=lambda t: t.answered,
               drill={"outcome": "answered"}, delta="talk_time_avg"),
    )

    def compute(self, scope: ReportScope, now: datetime) -> CallsSummary:
        return calls_summary(scope.environments, scope.start, scope.end, **scope.filters())


REPORT = CallsReport()
