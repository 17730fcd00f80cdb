"""The outcome report: what a resolved call costs and how often callers come back, by period,
agent and vendor (`reports.queries.outcomes`: the figures and their rules). Its settled part
moves with the time of reading: computed as of the minute (`time_dependent`)."""
from __future__ import annotations

from datetime import datetime

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from reports import exports
from reports.api.parameters import OutcomesParameters
from reports.queries.outcomes import OutcomeSummary, outcomes_summary
from reports.registry import Metric, Report, Unit, tables_of
from reports.scope import ReportScope


class OutcomesReport(Report[OutcomeSummary]):
    kind = "outcomes"
    path = "outcomes"
    parameters = OutcomesParameters
    result = OutcomeSummary
    title = _("Outcomes")
    description = ("Calls, answered, settled, resolved, repeat contacts, pending, cost with "
                   "the calls it prices and its source, cost per call, per answered and per "
                   "resolved call (over the settled part of the period only).")
    tables = tables_of(exports.outcomes_rows, "series", "agents", "vendors")
    time_dependent = True
    metrics = (
        Metric("settled", _("Settled"), Unit.COUNT,
               _("Answered calls with a number to match, older than the organisation's "
                 "resolution window: their outcome is known."),
               lambda t: t.settled, drill={"resolution": "settled"}),
        Metric("resolved", pgettext_lazy("calls", "Resolved"), Unit.COUNT,
               _("Settled calls with no contact of the same number within the window after "
                 "them."),
               lambda t: t.resolved, drill={"resolution": "resolved"}),
        Metric("repeat_contacts", _("Repeat contacts"), Unit.COUNT,
               _("Settled calls whose number called or was called again within the window."),
               lambda t: t.repeat_contacts, drill={"resolution": "repeat"},
               higher_is_better=False),
        Metric("pending", pgettext_lazy("calls", "Pending"), Unit.COUNT,
               _("Answered calls with a number younger than the window: counted neither "
                 "way yet."),
               lambda t: t.pending, drill={"resolution": "pending"}),
        Metric("repeat_contact_rate", _("Repeat-contact rate"), Unit.RATE,
               _("Repeat contacts over settled calls."),
               lambda t: t.repeat_contact_rate, sample=lambda t: t.settled,
               drill={"resolution": "repeat"}, higher_is_better=False),
        Metric("cost", _("Cost"), Unit.MONEY,
               _("The calls' known cost: the vendor's own where it sends one, else an "
                 "estimate from the agent's price snapshot; says how many calls it prices."),
               lambda t: t.cost, sample=lambda t: t.calls, drill={},
               higher_is_better=False),
        Metric("cost_per_resolved", _("Cost per resolved call"), Unit.MONEY,
               _("The cost of the settled part of the period over its resolved calls; "
                 "none while that part is not wholly priced or nothing is settled."),
               lambda t: t.cost_per_resolved, sample=lambda t: t.settled,
               drill={"resolution": "resolved"}, higher_is_better=False),
    )

    def cache_params(self, scope: ReportScope) -> dict:
        return {"start": scope.start, "end": scope.end, "interval": scope.interval,
                "agent_ids": sorted(scope.agent_ids or []),
                "direction": sorted(scope.direction or []),
                "window": scope.organization.resolution_window_days}

    def compute(self, scope: ReportScope, now: datetime) -> OutcomeSummary:
        return outcomes_summary(scope.environments, scope.start, scope.end, scope.interval,
                                now=now, agent_ids=scope.agent_ids, direction=scope.direction)


REPORT = OutcomesReport()
