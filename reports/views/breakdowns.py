"""Callbacks (per day, per source agent) and agents (per-agent figures) pages."""
from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from portal.access import org_page
from portal.pages import render_org_page
from reports import csv
from reports.agent_table import DEFAULT_SORT, sort_rows
from reports.drill import Drill
from reports.page_cache import kept_page
from reports.scope import callbacks_report, calls_report
from reports.views.coverage import coverage_context
from reports.views.params import scoped_page


@org_page()
@kept_page("callbacks")
def callbacks(request: HttpRequest, org_slug: str) -> HttpResponse:
    org = request.tenant.organization
    form, scope, page = scoped_page(request, org, "reports/callbacks.html")
    if page is not None:
        return page
    summary = callbacks_report(scope)
    exported = csv.export(request, csv.CALLBACKS_TABLES, "days", lambda table: csv.stream_csv(
        csv.callbacks_rows(summary, table),
        csv.filename("callbacks", org.slug, scope.start, scope.end, table)))
    if exported is not None:
        return exported
    return render_org_page(request, org, "reports/callbacks.html", {
        "form": form, "scope": scope, "summary": summary, "show_agent": False,
        "days": list(reversed(summary.days)),
    })


@org_page()
@kept_page("agents")
def agents(request: HttpRequest, org_slug: str) -> HttpResponse:
    org = request.tenant.organization
    form, scope, page = scoped_page(request, org, "reports/agents.html")
    if page is not None:
        return page
    summary = calls_report(scope)
    names = {e.pk: e.name for e in scope.environments}
    rows, sort = sort_rows([(a, names.get(a.environment_id, "")) for a in summary.agents],
                           request.GET.get("sort", DEFAULT_SORT))
    # Exactly the table's rows, in the table's order (the same filters and sort).
    exported = csv.export(request, ("agents",), "agents", lambda table: csv.stream_csv(
        csv.calls_rows(summary, table, names, agents=[a for a, _name in rows]),
        csv.filename("calls", org.slug, scope.start, scope.end, table)))
    if exported is not None:
        return exported
    return render_org_page(request, org, "reports/agents.html", {
        "form": form, "scope": scope, "summary": summary, "show_agent": False,
        "rows": rows, "sort": sort, "drill": Drill(org.slug, scope),
        **coverage_context(scope.environments, summary),
    })
