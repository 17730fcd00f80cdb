"""The Outcomes page (`/o/<slug>/outcomes/`): what a resolved call costs and how often callers
come back, by period, agent and vendor, with CSV downloads (`?format=csv&table=series|agents|
vendors`, the API's tables). Parameters are the other report pages' (period, environments,
agent, direction, interval); the figures are `reports.queries.outcomes`' (the API's, the same
rule). Every count opens its calls in the explorer (`outcome_doors`: the explorer's
`resolution` filter, the report's groups)."""
from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from django.http import HttpRequest, HttpResponse

from portal.formatting import day_formatter
from portal.pages.pages import render_org_page
from portal.providers import spec_for
from portal.replicas import reads_reports
from portal.tenancy.access import Tenant, org_page
from reports import registry
from reports.drill import Door, Drill
from reports.pages.cards import card, figure_card, outcome_kpis
from reports.pages.params import download, scoped_page
from reports.queries.outcomes import OutcomeRow
from sync.models import Agent


def outcome_doors(drill: Drill, row: OutcomeRow, **narrow: Any) -> dict[str, Door]:
    """The doors of one row's counts (and of the figures derived from them: a cost opens
    the calls it sums, a cost per resolved call the resolved calls), each with its count."""
    return {
        "calls": drill.door(row.calls, **narrow),
        "answered": drill.door(row.answered, outcome="answered", **narrow),
        "no_number": drill.door(row.no_number, resolution="no_number", **narrow),
        "settled": drill.door(row.settled, resolution="settled", **narrow),
        "resolved": drill.door(row.resolved, resolution="resolved", **narrow),
        "repeat_contacts": drill.door(row.repeat_contacts, resolution="repeat", **narrow),
        "pending": drill.door(row.pending, resolution="pending", **narrow),
    }


@reads_reports()
@org_page()
def outcomes(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    org = tenant.organization
    form, scope, page = scoped_page(request, org, "reports/outcomes.html")
    if page is not None:
        return page
    summary = registry.run("outcomes", scope)
    exported = download(request, "outcomes", summary, scope)
    if exported is not None:
        return exported
    envs = {e.pk: e.name for e in scope.environments}
    names = dict(((env, ext), name) for env, ext, name in Agent.objects.filter(
        environment_id__in=list(envs)).values_list("environment_id", "external_id", "name"))
    drill = Drill(org.slug, scope)
    agents = [(a, names.get((a.environment_id, a.agent_external_id)) or a.agent_external_id,
               envs.get(a.environment_id, ""),
               outcome_doors(drill, a, env_id=a.environment_id, agent_id=a.agent_external_id))
              for a in summary.agents]
    vendors = []
    for v in summary.vendors:  # a vendor's doors: the scope narrowed to its environments
        mine = SimpleNamespace(start=scope.start, end=scope.end, agent_ids=scope.agent_ids,
                               direction=scope.direction, environments=[
                                   e for e in scope.environments if e.provider == v.vendor])
        vendors.append((v, spec_for(v.vendor).label, outcome_doors(Drill(org.slug, mine), v)))
    series = [(r, None if r.calls is None else outcome_doors(drill, r, start=r.start, end=r.end))
              for r in reversed(summary.series)]
    # A bar or point opens the calls it counts, as the table's row does (the cost per
    # resolved call: the resolved calls it divides by); a period never mirrored opens none.
    period_doors = [doors for _row, doors in reversed(series)]
    day = day_formatter()  # the reader's short date, as the tables write it
    chart = {"labels": [day(r.start) for r in summary.series],
             "resolved": [r.resolved for r in summary.series],
             "repeats": [r.repeat_contacts for r in summary.series],
             # Calls whose outcome is not known yet: drawn as pending, never as a blank day.
             "pending": [r.pending for r in summary.series],
             "cost_per_resolved": [None if r.cost_per_resolved is None
                                   else float(r.cost_per_resolved) for r in summary.series],
             "doors": {key: [d[key].url if d else None for d in period_doors]
                       for key in ("resolved", "repeat_contacts", "pending")}}
    doors = outcome_doors(drill, summary.totals)
    t = summary.totals
    cards = [figure_card("calls", t.calls, door=doors["calls"]),
             figure_card("answered", t.answered, door=doors["answered"]),
             card("resolved", t, door=doors["resolved"]),
             card("pending", t, door=doors["pending"]),
             *outcome_kpis(t, drill)]
    return render_org_page(request, org, "reports/outcomes.html", {
        "form": form, "scope": scope, "summary": summary, "agents": agents,
        "vendors": vendors, "series": series, "chart": chart, "doors": doors, "cards": cards,
    })
