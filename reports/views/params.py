"""The report filter every page shares: date range preset, environments, agent.

Everything lives in the query string so a link reproduces the view. Days are the
organisation's local days.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.models import Environment, Organization
from reports.cache import cached_report
from reports.queries import MAX_RANGE_DAYS, callbacks_summary, calls_summary
from sync.models import Agent

PRESETS = [
    ("7d", _("Last 7 days")), ("30d", _("Last 30 days")), ("90d", _("Last 90 days")),
    ("this_month", _("This month")), ("last_month", _("Last month")), ("custom", _("Custom")),
]

DEFAULT_PRESET = "30d"


def preset_range(preset: str, today: date) -> tuple[date, date]:
    """Inclusive (start, end) of a preset, ending today for the rolling ones."""
    if preset == "this_month":
        return today.replace(day=1), today
    if preset == "last_month":
        end = today.replace(day=1) - timedelta(days=1)
        return end.replace(day=1), end
    days = {"7d": 7, "30d": 30, "90d": 90}[preset]
    return today - timedelta(days=days - 1), today


@dataclass(frozen=True)
class ReportScope:
    """What a report page shows: environments (one org), inclusive local days, agents."""

    environments: list[Environment]
    start: date
    end: date
    agent_ids: list[str]
    preset: str


class ReportFilterForm(forms.Form):
    range = forms.ChoiceField(label=_("Period"), choices=PRESETS, required=False)
    start = forms.DateField(label=_("From"), required=False,
                            widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("To"), required=False,
                          widget=forms.DateInput(attrs={"type": "date"}))
    env = forms.ModelMultipleChoiceField(label=_("Environments"), required=False,
                                         queryset=Environment.objects.none())
    agent = forms.ChoiceField(label=_("Agent"), required=False)

    def __init__(self, data, *, organization: Organization) -> None:
        # Fill in the default period so the picker shows the range actually reported.
        data = data.copy()
        if not data.get("range"):
            data["range"] = "custom" if data.get("start") else DEFAULT_PRESET
        super().__init__(data)
        self.organization = organization
        self.fields["env"].queryset = Environment.objects.filter(organization=organization)
        agents = Agent.objects.filter(environment__organization=organization).order_by(
            "name").values_list("external_id", "name")
        self.fields["agent"].choices = [("", _("All agents"))] + [
            (ext, name or ext) for ext, name in agents]

    def clean(self) -> dict:
        data = super().clean()
        preset = data.get("range") or DEFAULT_PRESET
        today = timezone.localdate(timezone=self.organization.tzinfo)
        if preset == "custom":
            start, end = data.get("start"), data.get("end") or today
            if start is None:
                raise forms.ValidationError(_("A custom period needs a start date."))
        else:
            start, end = preset_range(preset, today)
        if end < start:
            raise forms.ValidationError(_("The end date is before the start date."))
        if (end - start).days + 1 > MAX_RANGE_DAYS:
            raise forms.ValidationError(_("Choose at most %(n)d days."),
                                        params={"n": MAX_RANGE_DAYS})
        data.update(range=preset, start=start, end=end)
        return data

    def scope(self) -> ReportScope:
        """The validated scope; call after is_valid()."""
        data = self.cleaned_data
        envs = list(data.get("env") or self.fields["env"].queryset)
        agent = data.get("agent")
        return ReportScope(envs, data["start"], data["end"], [agent] if agent else [],
                           data["range"])


def scope_from_request(request, organization: Organization) -> tuple[ReportFilterForm,
                                                                        ReportScope | None]:
    form = ReportFilterForm(request.GET, organization=organization)
    return form, form.scope() if form.is_valid() else None


def calls_for(scope: ReportScope):
    """`calls_summary` of the scope, cached until one of its environments syncs new data."""
    params = {"start": scope.start, "end": scope.end, "agent_ids": scope.agent_ids}
    return cached_report("page-calls", scope.environments, params, lambda: calls_summary(
        scope.environments, scope.start, scope.end, agent_ids=scope.agent_ids or None))


def callbacks_for(scope: ReportScope):
    """`callbacks_summary` of the scope, cached like `calls_for`."""
    params = {"start": scope.start, "end": scope.end}
    return cached_report("page-callbacks", scope.environments, params, lambda: callbacks_summary(
        scope.environments, scope.start, scope.end))
