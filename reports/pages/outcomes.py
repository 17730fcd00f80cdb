"""The Outcomes page (`/o/<slug>/outcomes/`): what a resolved call costs and how often callers
come back, by period, agent and vendor, with CSV downloads (`?format=csv&table=series|agents|
vendors`, the API's tables). Parameters are the other report pages' (period, environments,
agent, interval); the figures are `reports.queries.outcomes`' (the API's, the same rule)."""
from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from portal.pages.pages import render_org_page
from portal.tenancy.access import Tenant, org_page
from reports import exports
from reports.drill import Drill
from reports.pages.params import scoped_page
from reports.queries.outcomes import outcomes_summary
from sync.models import Agent


@org_page()
def outcomes(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    org = tenant.organization
    form, scope, page = scoped_page(request, org, "reports/outcomes.html")
    if page is not None:
        return page
    summary = outcomes_summary(scope.environments, scope.start, scope.end, scope.interval)
    exported = exports.export(request, exports.OUTCOMES_TABLES, "series", lambda table: (
        exports.stream_csv(exports.outcomes_rows(summary, table),
                           exports.filename("outcomes", org.slug, scope.start, scope.end,
                                            table))))
    if exported is not None:
        return exported
    envs = {e.pk: e.name for e in scope.environments}
    names = dict(((env, ext), name) for env, ext, name in Agent.objects.filter(
        environment_id__in=list(envs)).values_list("environment_id", "external_id", "name"))
    drill = Drill(org.slug, scope)
    agents = [(a, names.get((a.environment_id, a.agent_external_id)) or a.agent_external_id,
               envs.get(a.environment_id, ""),
               drill.url(env_id=a.environment_id, agent_id=a.agent_external_id))
              for a in summary.agents]
    series = [(r, drill.url(start=r.start, end=r.end)) for r in reversed(summary.series)]
    chart = {"labels": [r.start.isoformat() for r in summary.series],
             "resolved": [r.resolved for r in summary.series],
             "repeats": [r.repeat_contacts for r in summary.series],
             "cost_per_resolved": [None if r.cost_per_resolved is None
                                   else float(r.cost_per_resolved) for r in summary.series]}
    return render_org_page(request, org, "reports/outcomes.html", {
        "form": form, "scope": scope, "summary": summary, "agents": agents,
        "series": series, "chart": chart, "calls_url": drill.url(),
        "answered_url": drill.url(outcome="answered"),
    })
