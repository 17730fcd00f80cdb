"""The KPIs page (`/o/<slug>/kpis/`): contact-centre figures for AI agents, with the vendors'
own judgement checked against what callers did next — cards, a chart over time, tables per
agent, vendor and period, CSV downloads (`?format=csv&table=series|agents|vendors`, the API's
tables). The figures are `reports.queries.kpis`' (the API's, through `reports.registry`);
every count opens its calls in the explorer (`kpi_doors`: the explorer's `kpi` and
`judgement` filters, the report's groups); a figure a vendor sends nothing for shows its
reason, never 0."""
from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portal import audit
from portal.models import Environment, Role
from portal.pages.pages import render_org_page
from portal.tenancy.access import WRITE_METHODS, Tenant, org_page
from reports import registry
from reports.drill import Door, Drill
from reports.pages.params import download, scoped_page
from reports.queries.kpis import METRICS, KpiRow
from sync.analysis import DEFAULT_THRESHOLD, set_threshold
from sync.models import Agent

# A longer period is drawn by week: a point a day would crowd the chart.
DAILY_UP_TO_DAYS = 45
# Each count's calls, as the explorer's filters name them (`reports.kpi_groups`), and the
# call field their vendor must send (the door then lists only those vendors' environments,
# as the figure counts only theirs).
DOOR_FILTERS: dict[str, tuple[dict[str, str], str]] = {
    "calls": ({}, ""), "answered": ({"kpi": "answered"}, ""),
    "abandoned": ({"kpi": "abandoned"}, ""), "voicemail": ({"kpi": "voicemail"}, "voicemail"),
    "transferred": ({"kpi": "transferred"}, "transferred"),
    "contained": ({"kpi": "contained"}, "transferred"),
    "timed": ({"kpi": "timed"}, "answered_at"),
    "evaluated": ({"kpi": "evaluated"}, "judgement"),
    "succeeded": ({"judgement": "succeeded"}, "judgement"),
    "succeeded_then_repeat": ({"judgement": "succeeded", "resolution": "repeat"}, "judgement"),
}
# The figures derived from counts open the calls they are computed over (peak concurrency,
# a maximum, opens none).
DERIVED_DOORS = {"answer_rate": "answered", "abandon_rate": "abandoned",
                 "voicemail_rate": "voicemail", "transfer_rate": "transferred",
                 "containment_rate": "contained", "avg_handle_seconds": "answered",
                 "avg_time_to_answer_seconds": "timed", "success_rate": "succeeded",
                 "succeeded_then_repeat_rate": "succeeded_then_repeat"}
CHART_RATES = ("answer_rate", "transfer_rate", "voicemail_rate", "containment_rate",
               "success_rate", "succeeded_then_repeat_rate")


class Drills:
    """A scope's drills, one per call field: its environments whose vendor sends it."""

    def __init__(self, org_slug: str, scope: Any) -> None:
        self.org_slug, self.scope, self._made = org_slug, scope, {}

    def __getitem__(self, needs: str) -> Drill:
        if needs not in self._made:
            envs = [e for e in self.scope.environments if needs not in e.spec.not_sent]
            self._made[needs] = Drill(self.org_slug, SimpleNamespace(
                start=self.scope.start, end=self.scope.end, agent_ids=self.scope.agent_ids,
                direction=None, environments=envs))
        return self._made[needs]


def kpi_doors(drills: Drills, row: KpiRow, **narrow: Any) -> dict[str, Door | None]:
    """Every metric's door (None where the figure is null: nothing to open)."""
    doors: dict[str, Door | None] = {}
    for key, (filters, needs) in DOOR_FILTERS.items():
        count = getattr(row, key)
        doors[key] = None if count is None else drills[needs].door(count, **filters, **narrow)
    for key, base in DERIVED_DOORS.items():
        doors[key] = doors[base] if getattr(row, key) is not None else None
    return doors


def _cells(row: KpiRow, doors: dict[str, Door | None]) -> list[tuple[Any, Any, str, str]]:
    """(metric, value, door, reason) for each of `METRICS`, in order."""
    return [(m, getattr(row, m.key), doors.get(m.key), row.reasons.get(m.key, ""))
            for m in METRICS]


@org_page()
def kpis(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    org = tenant.organization
    form, scope, page = scoped_page(request, org, "reports/kpis.html")
    if page is not None:
        return page
    if (scope.end - scope.start).days >= DAILY_UP_TO_DAYS:
        scope = replace(scope, interval="week")
    summary = registry.run("kpis", scope)
    exported = download(request, "kpis", summary, scope)
    if exported is not None:
        return exported
    envs = {e.pk: e.name for e in scope.environments}
    names = dict(((env, ext), name) for env, ext, name in Agent.objects.filter(
        environment_id__in=list(envs)).values_list("environment_id", "external_id", "name"))
    drill = Drills(org.slug, scope)
    agents = [(names.get((a.environment_id, a.agent_external_id)) or a.agent_external_id,
               envs.get(a.environment_id, ""),
               _cells(a, kpi_doors(drill, a, env_id=a.environment_id,
                                   agent_id=a.agent_external_id)))
              for a in summary.agents]
    vendors = []
    for v in summary.vendors:  # a vendor's doors: the scope narrowed to its environments
        mine = replace(scope, environments=[e for e in scope.environments
                                            if e.provider == v.vendor])
        label = mine.environments[0].spec.label
        vendors.append((label, _cells(v, kpi_doors(Drills(org.slug, mine), v))))
    series = [(r, None if r.calls is None else
               _cells(r, kpi_doors(drill, r, start=r.start, end=r.end)))
              for r in reversed(summary.series)]
    period_doors = [kpi_doors(drill, r, start=r.start, end=r.end) if r.calls is not None
                    else {} for r in summary.series]
    chart = {"labels": [r.start.isoformat() for r in summary.series],
             "rates": {key: [getattr(r, key) for r in summary.series] for key in CHART_RATES},
             "names": {m.key: str(m.label) for m in METRICS if m.key in CHART_RATES},
             "doors": {key: [(d.get(key).url if d.get(key) else None) for d in period_doors]
                       for key in CHART_RATES}}
    totals = kpi_doors(drill, summary.totals)
    return render_org_page(request, org, "reports/kpis.html", {
        "form": form, "scope": scope, "summary": summary, "agents": agents,
        "vendors": vendors, "series": series, "chart": chart, "metrics": METRICS,
        "cards": _cells(summary.totals, totals),
    })


class ThresholdForm(forms.Form):
    """One agent's success threshold (blank: the default)."""

    agent = forms.ModelChoiceField(queryset=Agent.objects.none(), label=gettext_lazy("Agent"))
    threshold = forms.FloatField(
        required=False, min_value=0, max_value=100, label=gettext_lazy("Threshold (0-100)"),
        help_text=gettext_lazy("A scored judgement at or above it counts as succeeded; "
                               "blank: the default."))

    def __init__(self, *args, agents, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["agent"].queryset = agents


@org_page(Role.ADMIN, WRITE_METHODS)
def success_thresholds(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    """Where a vendor's scored judgement of an agent's calls counts as success (`sync.
    analysis`): each agent's threshold, set by owners and admins; saving judges the agent's
    scored calls again."""
    org = tenant.organization
    agents = tenant.scoped(Agent).select_related("environment").order_by(
        "environment__name", "name")
    judged = agents.filter(environment__in=[
        e.pk for e in Environment.objects.for_organization(org)
        if "judgement" not in e.spec.not_sent])
    form = ThresholdForm(request.POST or None, agents=judged)
    if request.method == "POST" and form.is_valid():
        agent, value = form.cleaned_data["agent"], form.cleaned_data["threshold"]
        changed = set_threshold(agent, value)
        audit.record("kpis.success_threshold", actor=request.user, organization=org,
                     target=agent, after={"threshold": value})
        messages.success(request, _("Threshold saved: %(n)d calls judged again.")
                         % {"n": changed})
        return redirect("kpis-thresholds", org.slug)
    return render_org_page(request, org, "reports/kpi_thresholds.html", {
        "form": form, "agents": judged, "default": DEFAULT_THRESHOLD,
    }, status=400 if form.errors else 200)
