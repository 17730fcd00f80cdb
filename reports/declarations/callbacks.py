"""The callbacks report: the vendor's callback statistics per day and source agent
(`reports.queries.callbacks`; a member restricted to teams: the funnel's links)."""
from __future__ import annotations

from datetime import datetime

from django.utils.translation import gettext_lazy as _

from reports import exports
from reports.api.parameters import RangeParameters
from reports.queries import CallbacksSummary, callbacks_summary
from reports.queries.common import ratio
from reports.registry import Metric, Report, Unit, tables_of
from reports.scope import ReportScope


class CallbacksReport(Report[CallbacksSummary]):
    kind = "callbacks"
    path = "callbacks"
    parameters = RangeParameters
    result = CallbacksSummary
    title = _("Callbacks")
    description = "Callbacks summary: totals, per day (missing days marked), per source agent."
    tables = tables_of(exports.callbacks_rows, "days", "sources")
    metrics = (
        Metric("callbacks_received", _("Callbacks received"), Unit.COUNT,
               _("Inbound calls the vendor counted as callbacks (its callback statistics)."),
               lambda t: t.received, delta="received"),
        Metric("callbacks_answered", _("Callbacks answered"), Unit.COUNT,
               _("Callbacks the vendor counted as answered."),
               lambda t: t.answered, delta="answered"),
        Metric("callbacks_answered_rate", _("Callback answer rate"), Unit.RATE,
               _("Answered callbacks over callbacks received."),
               lambda t: ratio(t.answered, t.received), sample=lambda t: t.received,
               delta="answer_rate"),
        Metric("callbacks_unmatched", _("Unmatched callbacks"), Unit.COUNT,
               _("Callbacks the vendor matched to no outbound call."),
               lambda t: t.unmatched, higher_is_better=False, delta="unmatched"),
        Metric("callbacks_unmatched_rate", _("Unmatched callbacks (share)"), Unit.RATE,
               _("Unmatched callbacks over callbacks received."),
               lambda t: ratio(t.unmatched, t.received), sample=lambda t: t.received,
               higher_is_better=False, delta="unmatched_rate"),
    )

    def cache_params(self, scope: ReportScope) -> dict:
        return scope.cache_params("callbacks")

    def compute(self, scope: ReportScope, now: datetime) -> CallbacksSummary:
        return callbacks_summary(scope.environments, scope.start, scope.end)


REPORT = CallbacksReport()
