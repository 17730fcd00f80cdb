"""The Quality page (`/o/<slug>/quality/`): voice quality of the organisation's Origins AI
environments per agent and day, with CSV downloads (`?format=csv&table=agents|days|breakdown`).

Parameters are the other report pages' (period, environments, agent) through a thin form
that narrows the environments to Origins ones; the figures come from
`reports.queries.quality` (rollups only), cached until an environment syncs new data.
"""
from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

from portal import providers
from portal.models import Organization
from portal.pages.pages import render_org_page
from portal.replicas import reads_reports
from portal.tenancy.access import Tenant, org_page
from reports import registry
from reports.pages.params import ReportFilterForm, download
from sync.models import Agent

BREAKDOWN_FIELDS = ("hangup_sources", "hangup_causes", "sentiments", "insights")


class QualityFilterForm(ReportFilterForm):
    """The report filter, over the organisation's quality environments only (`spec.quality`)."""

    def __init__(self, data, *, organization: Organization) -> None:
        super().__init__(data, organization=organization)
        quality = self.fields["env"].queryset.filter(provider__in=providers.having("quality"))
        self.fields["env"].queryset = quality
        agents = Agent.objects.filter(environment__in=quality).order_by(
            "external_id").values_list("external_id", "name")
        self.fields["agent"].choices = [("", _("All agents"))] + [
            (ext, name or ext) for ext, name in agents]


@reads_reports()
@org_page()
def quality(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    org = tenant.organization
    form = QualityFilterForm(request.GET, organization=org)
    scope = form.scope() if form.is_valid() else None
    if scope is None or not scope.environments:
        return render_org_page(request, org, "reports/quality.html", {
            "form": form, "quality_vendors": providers.labels_having("quality")},
                               status=400 if form.errors else 200)
    summary = registry.run("quality", scope)  # cached under the same key as the API's
    exported = download(request, "quality", summary, scope)
    if exported is not None:
        return exported
    names = {e.pk: e.name for e in scope.environments}
    return render_org_page(request, org, "reports/quality.html", {
        "form": form, "scope": scope, "summary": summary,
        "quality_vendors": providers.labels_having("quality"),
        "agents": [(a, names.get(a.environment_id, "")) for a in summary.agents],
        "days": [d for d in reversed(summary.days)],
        "breakdowns": [(name, getattr(summary.totals, name)) for name in BREAKDOWN_FIELDS],
    })
