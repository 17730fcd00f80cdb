"""The header's section tabs are written by `{% section_tabs %}` (its eight links
through the template engine were ~1 ms of every organisation page) and must stay the bytes the
template lines wrote: those lines are kept here verbatim (`TABS`) and rendered beside the tag,
for every section, with and without Origins AI, as an admin and not, with and without a
carried query, in both languages."""
from __future__ import annotations

import itertools
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from django.template import engines
from django.test import RequestFactory
from django.utils import translation

from reports.templatetags.section_tabs import section_tabs

TABS = (  # base.html before the tag, verbatim (its first line's indentation stays there)
    "{% load i18n drill_tags quality_tags %}{% with name=request.resolver_match.url_name %}"
    '<a href="{% url \'dashboard\' org.slug %}{% carried_query \'dashboard\' %}"{% if nam'
    'e == \'dashboard\' %} aria-current="page"{% endif %}>{% translate "Dashboard" %}</'
    'a>\n'
    '  <a href="{% url \'calls\' org.slug %}{% carried_query \'calls\' %}"{% if name == \''
    'calls\' or name == \'call-detail\' %} aria-current="page"{% endif %}>{% translate "'
    'Calls" %}</a>\n'
    '  <a href="{% url \'callbacks\' org.slug %}{% carried_query \'callbacks\' %}"{% if n'
    'ame == \'callbacks\' %} aria-current="page"{% endif %}>{% translate "Callbacks" %}'
    '</a>\n'
    '  <a href="{% url \'agents\' org.slug %}{% carried_query \'agents\' %}"{% if name =='
    ' \'agents\' %} aria-current="page"{% endif %}>{% translate "Agents" %}</a>\n'
    '  <a href="{% url \'outcomes\' org.slug %}{% carried_query \'outcomes\' %}"{% if '
    'name == \'outcomes\' %} aria-current="page"{% endif %}>{% translate "Outcomes" %}</a>\n'
    '  <a href="{% url \'kpis\' org.slug %}{% carried_query \'kpis\' %}"{% if '
    'name == \'kpis\' %} aria-current="page"{% endif %}>{% translate "KPIs" %}</a>\n'
    '  {% if org_environments|has_quality %}<a href="{% url \'quality\' org.slug %}{% c'
    'arried_query \'quality\' %}"{% if name == \'quality\' %} aria-current="page"{% endif'
    ' %}>{% translate "Quality" %}</a>{% endif %}\n'
    '  <a href="{% url \'live\' org.slug %}"{% if name == \'live\' or name == \'live-thres'
    'holds\' %} aria-current="page"{% endif %}>{% translate "Live" %}</a>\n'
    '  <a href="{% url \'saved-views\' org.slug %}"{% if name == \'saved-views\' %} aria-'
    'current="page"{% endif %}>{% translate "Saved views" %}</a>\n'
    '  <a href="{% url \'sync-status\' org.slug %}"{% if name == \'sync-status\' %} aria-'
    'current="page"{% endif %}>{% translate "Sync" %}</a>\n'
    '  <a href="{% if can_admin %}{% url \'settings-environments\' org.slug %}{% else %'
    '}{% url \'settings-tokens\' org.slug %}{% endif %}"{% if \'settings\' in name or \'su'
    'bscription\' in name or \'alerts\' in name %} aria-current="page"{% endif %}>{% tra'
    'nslate "Settings" %}</a>'
    "{% endwith %}")

NAMES = [None, "", "dashboard", "calls", "call-detail", "callbacks", "agents", "outcomes", "kpis",
         "quality",
         "live", "live-thresholds", "saved-views", "sync-status", "settings-environments",
         "settings-tokens", "subscription-edit", "alerts", "alert-detail", "home"]
QUERIES = [{}, {"range": "7d", "env": ["3", "4"], "agent": "a <&> b", "team": "2"},
           {"range": "custom", "start": "2026-05-01", "end": "2026-05-31", "direction": "inbound"}]


@pytest.mark.parametrize("language", ["en", "pt-br"])
def test_section_tabs_are_the_template_lines(language):
    org = SimpleNamespace(slug="org-a", tzinfo=ZoneInfo("America/Sao_Paulo"))
    origins = [SimpleNamespace(spec=SimpleNamespace(quality=False)),
               SimpleNamespace(spec=SimpleNamespace(quality=True))]
    cases = 0
    for name, query, quality, admin in itertools.product(NAMES, QUERIES, [False, True],
                                                          [False, True]):
        request = RequestFactory().get("/o/org-a/", query)
        request.resolver_match = SimpleNamespace(url_name=name)
        context = {"request": request, "org": org, "can_admin": admin,
                   "org_environments": origins[: 1 + quality]}
        with translation.override(language):
            reference = engines["django"].from_string(TABS).render(context)
            assert section_tabs(context, name) == reference, (name, query, quality, admin)
        cases += 1
    assert cases == len(NAMES) * len(QUERIES) * 4
