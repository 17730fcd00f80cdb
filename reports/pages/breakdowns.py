"""Callbacks (the funnel, per day, per source agent) and agents (per-agent figures) pages."""
from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from portal import providers
from portal.models import Organization
from portal.pages.pages import render_org_page
from portal.replicas import reads_reports
from portal.tenancy.access import org_page
from reports import exports, registry
from reports.coverage_notes import LINKED_WORDS, callback_vendor_words, callbacks_not_reported
from reports.drill import Drill, callbacks_drill
from reports.pages.agent_table import DEFAULT_SORT, sort_rows
from reports.pages.coverage import coverage_context
from reports.pages.funnel import funnel_steps
from reports.pages.page_cache import kept_page
from reports.pages.params import with_scope
from reports.scope import ReportScope
from sync.models import Agent, AgentPrice


@reads_reports()
@org_page()
@kept_page("callbacks")
@with_scope("reports/callbacks.html")
def callbacks(request: HttpRequest, org: Organization, form, scope: ReportScope) -> HttpResponse:
    summary, funnel = registry.run("callbacks", scope), registry.run("callback_funnel", scope)

    def write(table: str):
        if table == "funnel":  # the funnel's per-day table, as the API's table=series
            rows = exports.callback_funnel_rows(funnel, "series")
        else:
            rows = exports.callbacks_rows(summary, table)
        return exports.stream_csv(rows, exports.filename("callbacks", org.slug, scope.start,
                                                         scope.end, table))

    exported = exports.export(request, (*exports.CALLBACKS_TABLES, "funnel"), "days", write)
    if exported is not None:
        return exported
    steps = funnel_steps(funnel, callbacks_drill(org.slug, scope), list(scope.environments))
    return render_org_page(request, org, "reports/callbacks.html", {
        "form": form, "scope": scope, "summary": summary, "show_agent": False,
        "steps": steps, "steps_lists": [(_("Outbound calls"), steps.outbound),
                                        (_("Callbacks"), steps.callbacks)] if steps else [],
        "days": list(reversed(summary.days)), "funnel": funnel,
        "funnel_days": _funnel_day_doors(funnel, callbacks_drill(org.slug, scope)),
        # The vendor's figures and ours, each named the same way wherever it is shown.
        "vendor_words": callback_vendor_words(scope.environments), "linked_words": LINKED_WORDS,
        "callbacks_not_reported": callbacks_not_reported(scope.environments),
        "callbacks_reported": any(e.spec.callback_stats for e in scope.environments),
        "callback_vendor": callback_vendor(scope.environments),
    })


def callback_vendor(environments) -> str:
    """Who counts callbacks for these environments (their providers with callback
    statistics; every such provider when none of them has any)."""
    labels = sorted({str(e.spec.label) for e in environments if e.spec.callback_stats})
    return ", ".join(labels) or providers.labels_having("callback_stats")


def _funnel_day_doors(funnel, drill: Drill) -> list[tuple]:
    """The funnel's per-period rows, newest first, each with the doors of its callbacks
    received and of its outbound calls called back (a row opens its own calls)."""
    return [(d, drill.door(d.received, callback="received", utc=True, start=d.start,
                           end=d.end),
             drill.door(d.called_back, callback="called_back", utc=True, start=d.start,
                        end=d.end))
            for d in reversed(funnel.series)]


@reads_reports()
@org_page()
@kept_page("agents")
@with_scope("reports/agents.html")
def agents(request: HttpRequest, org: Organization, form, scope: ReportScope) -> HttpResponse:
    summary = registry.run("calls", scope)
    names = {e.pk: e.name for e in scope.environments}
    rows, sort = sort_rows([(a, names.get(a.environment_id, "")) for a in summary.agents],
                           request.GET.get("sort", DEFAULT_SORT))
    # Exactly the table's rows, in the table's order (the same filters and sort).
    exported = exports.export(request, ("agents",), "agents", lambda table: exports.stream_csv(
        exports.calls_rows(summary, table, names, agents=[a for a, _name in rows]),
        exports.filename("calls", org.slug, scope.start, scope.end, table)))
    if exported is not None:
        return exported
    return render_org_page(request, org, "reports/agents.html", {
        "form": form, "scope": scope, "summary": summary, "show_agent": False,
        "rows": rows, "sort": sort, "drill": Drill(org.slug, scope),
        "prices": price_history(scope.environments),
        **coverage_context(scope.environments, summary),
    })


def price_history(environments: list) -> list[dict]:
    """Every kept price of the environments' agents, newest first per agent, each with the
    one it replaced (`before`): a price change shows on the agents page (kept by a
    provider's price source)."""
    found = list(AgentPrice.objects.filter(environment__in=environments).order_by(
        "environment_id", "agent_external_id", "-valid_from"))
    names = dict(((env, ext), name) for env, ext, name in Agent.objects.filter(
        environment__in=environments).values_list("environment_id", "external_id", "name"))
    out = []
    for i, price in enumerate(found):
        after = found[i + 1] if i + 1 < len(found) else None
        same = after is not None and (after.environment_id, after.agent_external_id) == (
            price.environment_id, price.agent_external_id)
        out.append({"price": price, "before": after if same else None,
                    "name": names.get((price.environment_id, price.agent_external_id))
                    or price.agent_external_id})
    return out
