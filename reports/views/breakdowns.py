"""Callbacks (per day, per source agent) and agents (per-agent figures) pages."""
from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from portal.access import org_page
from portal.pages import render_org_page
from reports.agent_table import DEFAULT_SORT, sort_rows
from reports.scope import callbacks_report, calls_report
from reports.views.coverage import coverage_context
from reports.views.export import csv_response
from reports.views.params import scope_from_request


@org_page()
def callbacks(request: HttpRequest, org_slug: str) -> HttpResponse:
    org = request.tenant.organization
    form, scope = scope_from_request(request, org)
    if scope is None or not scope.environments:
        return render_org_page(request, org, "reports/callbacks.html", {"form": form},
                               status=400 if form.errors else 200)
    summary = callbacks_report(scope)
    export = request.GET.get("export")
    if export == "days":
        return csv_response("callbacks-per-day.csv",
                            ["day", "mirrored", "received", "answered", "unmatched"],
                            ([d.day.isoformat(), d.mirrored, d.received, d.answered, d.unmatched]
                             for d in summary.days))
    if export == "sources":
        return csv_response("callbacks-by-source-agent.csv",
                            ["environment_id", "source_agent_id", "name", "count"],
                            ([r.environment_id, r.source_agent_id, r.name, r.count]
                             for r in summary.by_source_agent))
    return render_org_page(request, org, "reports/callbacks.html", {
        "form": form, "scope": scope, "summary": summary, "show_agent": False,
        "days": list(reversed(summary.days)),
    })


@org_page()
def agents(request: HttpRequest, org_slug: str) -> HttpResponse:
    org = request.tenant.organization
    form, scope = scope_from_request(request, org)
    if scope is None or not scope.environments:
        return render_org_page(request, org, "reports/agents.html", {"form": form},
                               status=400 if form.errors else 200)
    summary = calls_report(scope)
    names = {e.pk: e.name for e in scope.environments}
    rows, sort = sort_rows([(a, names.get(a.environment_id, "")) for a in summary.agents],
                           request.GET.get("sort", DEFAULT_SORT))
    if request.GET.get("export") == "csv":
        # Exactly the table's rows, in the table's order (the same filters and sort).
        return csv_response("agents.csv", [
            "environment_id", "environment", "agent_id", "name", "total", "answered",
            "answer_rate", "failed", "busy", "no_answer", "talk_time_total", "talk_time_avg",
            "duration_median", "duration_p90"], (
            [a.environment_id, env_name, a.agent_id, a.name, a.figures.total,
             a.figures.answered, a.figures.answer_rate, a.figures.failed, a.figures.busy,
             a.figures.no_answer, a.figures.talk_time_total, a.figures.talk_time_avg,
             a.figures.duration_median, a.figures.duration_p90] for a, env_name in rows))
    return render_org_page(request, org, "reports/agents.html", {
        "form": form, "scope": scope, "summary": summary, "show_agent": False,
        "rows": rows, "sort": sort,
        **coverage_context(scope.environments, summary),
    })
