"""The dashboard: KPI tiles with deltas, charts (with their numbers as tables and CSV)."""
from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portal.access import get_organization_for_user
from portal.pages import render_org_page
from reports.queries import Delta
from reports.views.export import csv_response
from reports.views.params import callbacks_for, calls_for, scope_from_request

WEEKDAYS = [gettext_lazy("Mon"), gettext_lazy("Tue"), gettext_lazy("Wed"),
            gettext_lazy("Thu"), gettext_lazy("Fri"), gettext_lazy("Sat"), gettext_lazy("Sun")]


@dataclass(frozen=True)
class Kpi:
    """One tile: its value, how to show it, and the change against the previous period."""

    label: str
    value: float | None
    kind: str  # count | rate | seconds
    delta: Delta | None
    higher_is_better: bool = True

    @property
    def trend(self) -> str:
        if self.delta is None or not self.delta.change:
            return "flat"
        good = (self.delta.change > 0) == self.higher_is_better
        return "up" if good else "down"


def _kpis(calls, callbacks) -> list[Kpi]:
    t, d, c, cd = calls.totals, calls.deltas, callbacks.totals, callbacks.deltas
    return [
        Kpi(_("Calls"), t.total, "count", d.get("total")),
        Kpi(_("Answer rate"), t.answer_rate, "rate", d.get("answer_rate")),
        Kpi(_("Talk time"), t.talk_time_total, "seconds", d.get("talk_time_total")),
        Kpi(_("Average duration"), t.talk_time_avg, "seconds", d.get("talk_time_avg")),
        Kpi(_("Callbacks received"), c.received, "count", cd.get("received")),
        Kpi(_("Callback answer rate"), c.answer_rate, "rate", cd.get("answer_rate")),
        Kpi(_("Unmatched callbacks"), c.unmatched, "count", cd.get("unmatched"), False),
    ]


def _chart_data(calls, callbacks) -> dict:
    """Everything the page's charts draw, JSON-ready (labels localised server-side)."""
    series = calls.series
    return {
        "labels": [date_format(p.start, "SHORT_DATE_FORMAT") for p in series],
        "status": {
            _("Answered"): [p.figures.answered for p in series],
            _("No answer"): [p.figures.no_answer for p in series],
            _("Busy"): [p.figures.busy for p in series],
            _("Failed"): [p.figures.failed for p in series],
            _("Other"): [p.figures.other for p in series],
        },
        "answer_rate": [None if p.figures.answer_rate is None
                        else round(p.figures.answer_rate * 100, 1) for p in series],
        "answer_rate_label": _("Answer rate (%)"),
        "cb_labels": [date_format(d.day, "SHORT_DATE_FORMAT") for d in callbacks.days],
        "callbacks": {
            _("Received"): [d.received for d in callbacks.days],
            _("Answered"): [d.answered for d in callbacks.days],
            _("Unmatched"): [d.unmatched for d in callbacks.days],
        },
    }


def _export(kind: str, calls, callbacks) -> HttpResponse | None:
    if kind == "daily":
        return csv_response("calls-per-day.csv", [
            "day", "total", "answered", "no_answer", "busy", "failed", "other", "answer_rate",
            "talk_time_total"], (
            [p.start.isoformat(), p.figures.total, p.figures.answered, p.figures.no_answer,
             p.figures.busy, p.figures.failed, p.figures.other, p.figures.answer_rate,
             p.figures.talk_time_total] for p in calls.series))
    if kind == "callbacks":
        return csv_response("callbacks-per-day.csv",
                            ["day", "mirrored", "received", "answered", "unmatched"],
                            ([d.day.isoformat(), d.mirrored, d.received, d.answered, d.unmatched]
                             for d in callbacks.days))
    if kind == "heatmap":
        return csv_response("calls-by-hour.csv", ["weekday", *range(24)],
                            ([str(WEEKDAYS[i]), *row] for i, row in enumerate(calls.heatmap)))
    if kind == "agents":
        return csv_response("agents.csv", [
            "environment_id", "agent_id", "name", "total", "answered", "answer_rate",
            "talk_time_total", "talk_time_avg"], (
            [a.environment_id, a.agent_id, a.name, a.figures.total, a.figures.answered,
             a.figures.answer_rate, a.figures.talk_time_total, a.figures.talk_time_avg]
            for a in calls.agents))
    return None


@login_required
def dashboard(request: HttpRequest, org_slug: str) -> HttpResponse:
    org = get_organization_for_user(request.user, org_slug)
    form, scope = scope_from_request(request, org)
    if scope is None or not scope.environments:
        return render_org_page(request, org, "reports/dashboard.html", {"form": form},
                               status=400 if form.errors else 200)
    calls, callbacks = calls_for(scope), callbacks_for(scope)
    exported = _export(request.GET.get("export", ""), calls, callbacks)
    if exported is not None:
        return exported
    peak = max((max(row) for row in calls.heatmap), default=0) or 1
    heatmap = [(WEEKDAYS[i], [(n, round(n / peak, 2)) for n in row])
               for i, row in enumerate(calls.heatmap)]
    return render_org_page(request, org, "reports/dashboard.html", {
        "form": form, "scope": scope, "calls": calls, "callbacks": callbacks,
        "kpis": _kpis(calls, callbacks), "chart_data": _chart_data(calls, callbacks),
        "heatmap": heatmap, "top_agents": calls.agents[:10], "hours": range(24),
    })
