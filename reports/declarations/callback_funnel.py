"""The callback funnel: unanswered outbound calls, called back, callbacks answered and the
time to callback, per UTC day (or week, month), beside the vendor's figures
(`reports.queries.callback_funnel`)."""
from __future__ import annotations

from datetime import datetime

from django.utils.translation import gettext_lazy as _

from reports import exports
from reports.api.parameters import IntervalParameters
from reports.queries.callback_funnel import CallbackFunnel, callback_funnel
from reports.queries.common import ratio
from reports.registry import Metric, Report, Unit, tables_of
from reports.scope import ReportScope


class CallbackFunnelReport(Report[CallbackFunnel]):
    kind = "callback_funnel"
    path = "callback-funnel"
    parameters = IntervalParameters
    result = CallbackFunnel
    title = _("Callback funnel")
    description = ("Callback funnel per UTC day (or week, month): unanswered outbound calls, "
                   "called back, callbacks answered, time to callback, by source agent; the "
                   "vendor's figures beside ours and every day where they differ.")
    tables = tables_of(exports.callback_funnel_rows, "series", "sources", "differences")
    metrics = (
        Metric("outbound_unanswered", _("Unanswered outbound calls"), Unit.COUNT,
               _("Outbound calls nobody answered."),
               lambda t: t.outbound_unanswered,
               drill={"callback": "unanswered_outbound", "utc": True}),
        Metric("called_back", _("Called back"), Unit.COUNT,
               _("Unanswered outbound calls whose number called back within the match "
                 "window."),
               lambda t: t.called_back, drill={"callback": "called_back", "utc": True}),
        Metric("callback_rate", _("Callback rate"), Unit.RATE,
               _("Called back over unanswered outbound calls."),
               lambda t: ratio(t.called_back, t.outbound_unanswered),
               sample=lambda t: t.outbound_unanswered,
               drill={"callback": "called_back", "utc": True}),
        Metric("median_time_to_callback", _("Median time to callback"), Unit.MINUTES,
               _("The middle of the times from an unanswered outbound call to its "
                 "callback."),
               lambda t: (None if t.median_seconds_to_callback is None
                          else t.median_seconds_to_callback / 60),
               sample=lambda t: t.called_back, higher_is_better=False),
    )

    def cache_params(self, scope: ReportScope) -> dict:
        return scope.cache_params("callback_funnel")

    def compute(self, scope: ReportScope, now: datetime) -> CallbackFunnel:
        return callback_funnel(scope.environments, scope.start, scope.end, scope.interval)


REPORT = CallbackFunnelReport()
