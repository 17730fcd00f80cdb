"""The explorer offers its environment filter only when the organisation has several, and
reads that from the environments its filter already listed (`CallFilter.environment_ids`),
not with a COUNT of its own on every render (a search page is rendered every time);
the agent choices are given that number too. The form's fields are written by
`{% explorer_fields %}` (reports/templatetags/explorer_tags.py): the same bytes as the
template loop it replaced (`LOOP`, rendered beside it here)."""
from __future__ import annotations

import pytest
from django.db import connection
from django.http import QueryDict
from django.template import engines
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from reports.call_filter import CallFilter
from tests.support.cast import make_env

LOOP = engines["django"].from_string(  # templates/reports/calls.html's loop, as it was
    "\n  {% for field in filter.form %}\n"
    '    {% if field.name == "testing" %}<div><label>{{ field }} {{ field.label }}</label></div>\n'
    '    {% elif field.name == "env" and filter.environment_ids|length < 2 %}\n'
    '    {% else %}<div><label for="{{ field.id_for_label }}">{{ field.label }}</label>'
    "{{ field }}</div>{% endif %}\n"
    "  {% endfor %}\n")
TAG = engines["django"].from_string('''
  {% load explorer_tags %}{% explorer_fields filter %}
''')
QUERIES = ["", "search=%3Cscript%3E%22%26&testing=on&utc=1&hour=25&status=nope",
           "date_from=2026-02-30&agent=%22%3E%3Cb%3E&direction=inbound&weekday=1",
           "env=999&callback=yes&callback_of=CA%27x&range=7d"]


def explorer(client, user, org) -> tuple[str, list[str]]:
    client.force_login(user)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/o/{org.slug}/calls/", {"search": "CA9ff1b856ccf…"})
    assert response.status_code == 200
    return response.content.decode(), [q["sql"] for q in queries.captured_queries]


def test_one_environment_no_choice_and_no_count(client, alice, org_a, env_a):
    html, sql = explorer(client, alice, org_a)
    assert 'name="env"' not in html
    # No count at all: the agent choices (whether to name environments in their labels) are
    # given the number of environments the filter listed.
    counts = [q for q in sql if q.startswith('SELECT COUNT(*) AS "__count" FROM '
                                             '"portal_environment"')]
    assert counts == []


def test_several_environments_offer_the_choice(client, alice, org_a, env_a):
    make_env(org_a, "A second", "talq_bbbbbbbbbbbbbbbbbbbbbbbbbbbb2222")
    html, _sql = explorer(client, alice, org_a)
    assert 'name="env"' in html and "A second" in html


def test_agent_labels_name_the_environment_only_when_there_are_several(client, alice, org_a,
                                                                       env_a):
    """The agent choices name the environment once the organisation has two, even when every
    agent is in one of them (the count comes from the filter's own environment list)."""
    from sync.models import Agent

    Agent.objects.create(environment=env_a, external_id="ag-desk", name="Callback Desk")
    html, _sql = explorer(client, alice, org_a)
    assert ">Callback Desk</option>" in html
    make_env(org_a, "A second", "talq_bbbbbbbbbbbbbbbbbbbbbbbbbbbb2222")
    html, _sql = explorer(client, alice, org_a)
    assert ">Callback Desk (A main)</option>" in html


@pytest.mark.parametrize("query", QUERIES)
@pytest.mark.parametrize("language", ["en", "pt-br"])
def test_the_fields_tag_writes_what_the_loop_wrote(org_a, env_a, query, language):
    with translation.override(language):
        for environments in (1, 2):
            if environments == 2:
                make_env(org_a, "Second", "talq_dddddddddddddddddddddddddddd4444")
            filterset = CallFilter(QueryDict(query), organization=org_a)
            filterset.is_valid()
            loop = LOOP.render({"filter": filterset})
            tag = TAG.render({"filter": filterset})
            assert tag == loop
            assert ('name="env"' in tag) == (environments == 2)
            assert "<script>" not in tag and 'name="testing"' in tag


def test_agent_choices_are_read_once_per_data_version(client, alice, org_a, env_a):
    """The explorer's agent choices are kept in the report cache under the environments'
    data versions and names: a second page asks no agent query of its own; a sync that
    changes an agent (which bumps the version) or a renamed environment shows at once."""
    from django.db.models import F

    from portal.models import Environment
    from sync.models import Agent

    Agent.objects.create(environment=env_a, external_id="ag-desk", name="Callback Desk")
    make_env(org_a, "A second", "talq_bbbbbbbbbbbbbbbbbbbbbbbbbbbb2222")
    explorer(client, alice, org_a)
    html, sql = explorer(client, alice, org_a)
    assert ">Callback Desk (A main)</option>" in html
    assert [q for q in sql if '"environment__name" FROM "sync_agent"' in q] == []
    Agent.objects.filter(external_id="ag-desk").update(name="Front Desk")
    Environment.objects.filter(pk=env_a.pk).update(data_version=F("data_version") + 1)
    html, _sql = explorer(client, alice, org_a)
    assert ">Front Desk (A main)</option>" in html
    Environment.objects.filter(pk=env_a.pk).update(name="A renamed")
    html, _sql = explorer(client, alice, org_a)
    assert ">Front Desk (A renamed)</option>" in html
