"""The report filter every page shares: date range preset, environments, agent.

Everything lives in the query string so a link reproduces the view. Days are the
organisation's local days.
"""
from __future__ import annotations

from datetime import date, timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.bounds import IdsChoiceField
from portal.models import Environment, Organization
from reports.scope import ReportScope, ScopeError, build_scope, check_range, resolve_range

# The same presets on every report page and the calls explorer; weeks start on Monday
# (ISO), days are the organisation's.
PRESETS = [
    ("today", _("Today")), ("yesterday", _("Yesterday")), ("this_week", _("This week")),
    ("last_week", _("Last week")),
    ("7d", _("Last 7 days")), ("30d", _("Last 30 days")), ("90d", _("Last 90 days")),
    ("this_month", _("This month")), ("last_month", _("Last month")), ("custom", _("Custom")),
]

DEFAULT_PRESET = "30d"


def preset_range(preset: str, today: date) -> tuple[date, date]:
    """Inclusive (start, end) of a preset, ending today for the rolling ones."""
    if preset in ("today", "yesterday"):
        day = today - timedelta(days=0 if preset == "today" else 1)
        return day, day
    if preset in ("this_week", "last_week"):
        monday = today - timedelta(days=today.weekday())
        if preset == "this_week":
            return monday, today
        return monday - timedelta(days=7), monday - timedelta(days=1)
    if preset == "this_month":
        return today.replace(day=1), today
    if preset == "last_month":
        end = today.replace(day=1) - timedelta(days=1)
        return end.replace(day=1), end
    days = {"7d": 7, "30d": 30, "90d": 90}[preset]
    return today - timedelta(days=days - 1), today


class ReportFilterForm(forms.Form):
    range = forms.ChoiceField(label=_("Period"), choices=PRESETS, required=False)
    start = forms.DateField(label=_("From"), required=False,
                            widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("To"), required=False,
                          widget=forms.DateInput(attrs={"type": "date"}))
    env = IdsChoiceField(label=_("Environments"), required=False,
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
        # Labels name the environment when there are several (reports.drill_filters).
        from reports.drill_filters import agent_choices

        self.fields["agent"].choices = [("", _("All agents"))] + agent_choices(
            organization, no_agent=False)

    def clean(self) -> dict:
        data = super().clean()
        preset = data.get("range") or DEFAULT_PRESET
        today = timezone.localdate(timezone=self.organization.tzinfo)
        try:
            if preset == "custom":
                if data.get("start") is None:
                    raise forms.ValidationError(_("A custom period needs a start date."))
                # The scope parser's defaults (end: today) and range rules, field by field.
                start, end = resolve_range(data["start"], data.get("end"), today=today)
            else:
                start, end = preset_range(preset, today)
                check_range(start, end)
        except ScopeError as exc:
            for field, messages in exc.errors.items():
                self.add_error(field, messages)
            return data
        data.update(range=preset, start=start, end=end)
        return data

    def scope(self) -> ReportScope:
        """The validated scope; call after is_valid()."""
        data = self.cleaned_data
        envs = list(data.get("env") or self.fields["env"].queryset)
        agent = data.get("agent")
        return build_scope(self.organization, envs, data["start"], data["end"],
                           agent_ids=[agent] if agent else None)


def scope_from_request(request, organization: Organization) -> tuple[ReportFilterForm,
                                                                        ReportScope | None]:
    form = ReportFilterForm(request.GET, organization=organization)
    return form, form.scope() if form.is_valid() else None
