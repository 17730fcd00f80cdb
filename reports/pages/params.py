"""The report filter every page shares: date range preset, environments, agent.

Everything lives in the query string so a link reproduces the view. Days are the
organisation's local days.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django import forms
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.bounds import IdsChoiceField
from portal.form_renderer import KeptSelect
from portal.models import Environment, Organization
from portal.pages.pages import render_org_page
from reports import exports, registry
from reports.call_filter import agent_choices
from reports.days import (
    DEFAULT_PRESET,
    PRESETS,
    DayField,
    ScopeError,
    check_range,
    preset_range,
    resolve_range,
)
from reports.scope import ReportScope, build_scope


class ReportFilterForm(forms.Form):
    range = forms.ChoiceField(label=_("Period"), choices=PRESETS, required=False,
                              widget=KeptSelect)
    start = DayField(label=_("From"), required=False)
    end = DayField(label=_("To"), required=False)
    env = IdsChoiceField(label=_("Environments"), required=False,
                         queryset=Environment.objects.none())
    agent = forms.ChoiceField(label=_("Agent"), required=False, widget=KeptSelect)

    def __init__(self, data, *, organization: Organization) -> None:
        # Fill in the default period so the picker shows the range actually reported.
        data = data.copy()
        if not data.get("range"):
            data["range"] = "custom" if data.get("start") else DEFAULT_PRESET
        super().__init__(data)
        self.organization = organization
        self.fields["env"].queryset = Environment.objects.for_organization(organization)
        # Labels name the environment when there are several (as in the explorer).
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
        if preset != "custom":  # From and To show the preset's days (a preset ignores them)
            self.data = self.data.copy()
            self.data["start"], self.data["end"] = start.isoformat(), end.isoformat()
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


def scoped_page(request, organization: Organization, template: str
                ) -> tuple[ReportFilterForm, ReportScope | None, HttpResponse | None]:
    """The request's report scope, or the page answered without one: the filter with its
    errors (400), or the empty page of an organisation without environments (200)."""
    form, scope = scope_from_request(request, organization)
    if scope is not None and scope.environments:
        return form, scope, None
    return form, None, render_org_page(request, organization, template, {"form": form},
                                       status=400 if form.errors else 200)


def with_scope(template: str) -> Callable:
    """A report page's view (inside `org_page`) called as `view(request, organization, form,
    scope)` with the request's scope; the page without one (`scoped_page`: the filter's
    errors, or no environment yet) is answered for it."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request, tenant) -> HttpResponse:
            org = tenant.organization
            form, scope, page = scoped_page(request, org, template)
            return page if page is not None else view(request, org, form, scope)

        return wrapper

    return decorate


def download(request, kind: str, result, scope: ReportScope) -> HttpResponse | None:
    """The page's `?format=csv&table=…` of report `kind`: one of its declaration's tables
    (`reports.registry`, the API's), named as the API names it; None when the request is for
    the page itself."""
    report = registry.report(kind)
    names = {e.pk: e.name for e in scope.environments}
    return exports.export(request, report.table_names, report.default_table, lambda table: (
        exports.stream_csv(report.rows(result, table, names), exports.filename(
            report.path, scope.organization.slug, scope.start, scope.end, table))))
