"""The form renderer writes the select and <input> widgets in Python (portal/form_renderer.py:
their templates were a third of a search page's template time) and must write exactly what their
templates write: every widget of the explorer's and the report pages' filter forms, bound to
ordinary and hostile values, in both languages, is rendered both ways and compared; a template
that is overridden (not the source the Python was written from) is rendered as a template.
The filter forms' selects are `KeptSelect`s (their HTML kept per process for their inputs):
each writes what a plain `Select` writes, fresh or kept, and a renamed agent is never shown
under its old name."""
from __future__ import annotations

import datetime

import pytest
from django import forms
from django.db.models import F
from django.forms.renderers import TemplatesSetting
from django.http import QueryDict
from django.utils import translation
from django.utils.safestring import mark_safe

from portal import form_renderer
from portal.form_renderer import WidgetRenderer
from portal.models import Environment
from reports.call_filter import CallFilter
from reports.pages.params import ReportFilterForm
from sync.models import Agent

LANGUAGES = ["en", "pt-br"]
HOSTILE = '<script>"x" & \'y\'</script>'
QUERIES = [
    "",
    "range=custom&start=2026-05-01&end=2026-05-31&search=CA9ff1b856ccf%E2%80%A6",
    f"range=last_7&agent=agent-1&status=completed&status=busy&hour=7&weekday=3&testing=on"
    f"&utc=on&search={HOSTILE}&direction=inbound&outcome=answered",
    f"start={HOSTILE}&end=2026-13-45&hour=99&env=abc&agent={HOSTILE}",
]


def both(field) -> tuple[str, str]:
    """The bound field's widget written by our renderer and by its templates."""
    written = []
    for renderer in (WidgetRenderer(), TemplatesSetting()):
        field.form.renderer = renderer
        written.append(str(field.as_widget()))
    return written[0], written[1]


@pytest.fixture
def agents(env_a):
    Agent.objects.create(environment=env_a, external_id="agent-1", name=f"Desk {HOSTILE}")
    Agent.objects.create(environment=env_a, external_id="agent-2", name="Atendimento São Paulo")


@pytest.mark.django_db
@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("query", QUERIES)
def test_filter_forms_are_written_as_their_templates(org_a, env_a, agents, language, query):
    data = QueryDict(query)
    with translation.override(language):
        explorer = CallFilter(data, organization=org_a)
        explorer.is_valid()
        report = ReportFilterForm(data, organization=org_a)
        report.is_valid()
        fields = [*explorer.form, *report]
        assert len(fields) > 10
        for field in fields:
            ours, templates = both(field)
            assert ours == templates, field.name


class Awkward(forms.Form):
    grouped = forms.ChoiceField(choices=[
        ("", "—"), (HOSTILE, [(1, "one & <1>"), (2.5, mark_safe("<b>kept</b>"))]),
        ("plain", [("a", "A")]), (mark_safe("<i>safe</i>"), "safe value")])
    many = forms.MultipleChoiceField(choices=[(n, f"n={n}") for n in (1, 22, 1234567)],
                                     widget=forms.SelectMultiple(attrs={
                                         "data-x": HOSTILE, "disabled": True, "hidden": False,
                                         "data-n": 1234567, "data-none": None}))
    number = forms.IntegerField(widget=forms.NumberInput(attrs={"step": 0.5, "min": 0}))
    day = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    hidden = forms.CharField(widget=forms.HiddenInput)
    check = forms.BooleanField(widget=forms.CheckboxInput(attrs={"class": mark_safe("a&b")}))
    secret = forms.CharField(widget=forms.PasswordInput(render_value=True))


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("data", [
    None,
    {"grouped": HOSTILE, "many": ["22", "1234567"], "number": "12", "day": "2026-06-30",
     "hidden": HOSTILE, "check": "on", "secret": HOSTILE},
    {"grouped": "1", "many": [HOSTILE], "number": "x", "day": "31/31/2026", "hidden": "",
     "check": "", "secret": ""},
])
def test_awkward_widgets_are_written_as_their_templates(language, data):
    with translation.override(language):
        form = Awkward(data, initial={"day": datetime.date(2026, 1, 2), "number": 1234567})
        for field in form:
            ours, templates = both(field)
            assert ours == templates, field.name


def test_an_overridden_template_is_rendered_as_a_template(monkeypatch):
    form_renderer._writer.cache_clear()
    monkeypatch.setitem(form_renderer.SOURCES, form_renderer.SELECT, "an override")
    try:
        assert form_renderer._writer(form_renderer.SELECT) is None
        assert form_renderer._writer("django/forms/widgets/text.html") is not None
        field = Awkward()["grouped"]
        assert both(field)[0] == both(field)[1]
    finally:
        form_renderer._writer.cache_clear()


def test_the_written_templates_are_the_sources_they_were_written_from():
    """A changed template (an upgrade of Django, an edit of our select.html) stops the Python
    spelling silently: this says so, so that the spelling is brought up to date."""
    form_renderer._writer.cache_clear()
    for name in form_renderer.SPELLED:
        assert form_renderer._writer(name) is not None, name


@pytest.mark.django_db
@pytest.mark.parametrize("language", LANGUAGES)
def test_kept_selects_write_what_a_select_writes(org_a, env_a, agents, language):
    with translation.override(language):
        for query in QUERIES * 2:  # the second time, every select is kept
            explorer = CallFilter(QueryDict(query), organization=org_a)
            explorer.is_valid()
            report = ReportFilterForm(QueryDict(query), organization=org_a)
            report.is_valid()
            kept = [f for f in [*explorer.form, *report]
                    if isinstance(f.field.widget, form_renderer.KeptSelect)]
            assert {f.name for f in kept} >= {"range", "agent", "status", "hour", "weekday"}
            for field in kept:
                plain = forms.Select(attrs=field.field.widget.attrs,
                                     choices=field.field.widget.choices)
                plain.is_required = field.field.widget.is_required
                assert str(field) == str(field.as_widget(widget=plain)), field.name
    Agent.objects.filter(external_id="agent-2").update(name="Renamed desk")
    # As the agents stream does when an agent changed: the explorer's choices are kept under
    # the environments' data versions (`reports.call_filter.agent_choices`).
    Environment.objects.filter(pk=env_a.pk).update(data_version=F("data_version") + 1)
    agent = CallFilter(QueryDict("agent=agent-2"), organization=org_a).form["agent"]
    assert "Renamed desk" in str(agent) and "São Paulo" not in str(agent)


def test_kept_selects_stay_within_their_bound():
    widget = form_renderer.KeptSelect(choices=[("a", "A"), ("b", "B")])
    for n in range(form_renderer.KEPT_SELECTS + 50):
        assert f'value="{n}"' not in widget.render("hour", str(n))
    assert len(form_renderer._kept_selects) <= form_renderer.KEPT_SELECTS


@pytest.mark.django_db
@pytest.mark.parametrize("language", LANGUAGES)
def test_kept_selects_turn_no_lazy_label_into_text(org_a, env_a, agents, language, monkeypatch):
    """A kept select's key holds a lazy label as it is (its text is a function of the
    language, which the key holds): a kept explorer select translates nothing again."""
    with translation.override(language):
        selects = [f for f in CallFilter(QueryDict(""), organization=org_a).form
                   if isinstance(f.field.widget, form_renderer.KeptSelect)]
        first = [f.field.widget.render(f.name, f.value()) for f in selects]
        translated = []
        real = translation._trans.gettext
        monkeypatch.setattr(translation._trans, "gettext",
                            lambda message: translated.append(message) or real(message))
        again = [f.field.widget.render(f.name, f.value()) for f in selects]
    assert again == first
    assert translated == []


def test_a_safe_label_is_not_kept_as_the_plain_one():
    plain = form_renderer.KeptSelect(choices=[("a", "<b>A</b>")]).render("x", "a")
    safe = form_renderer.KeptSelect(choices=[("a", mark_safe("<b>A</b>"))]).render("x", "a")
    assert "&lt;b&gt;A" in plain and "<b>A</b>" in safe
