"""Tables: every column that means something sorts (agents table, calls explorer — agent and
environment included) through a whitelisted `sort` parameter; an unknown value falls back to
the default order (never a 500); the CSV export holds exactly the filtered rows, in the
table's order.

The sortable headers are written by `{% sort_th %}` (portal/templatetags/portal_tags.py) in
Python; `templates/reports/includes/sort_th.html` is the template spelling the pages used
(one include per column), rendered beside the tag here over every sort state, both kinds of
column, labels that need escaping (translated, literal, lazy) and hostile query strings."""
from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.template import engines
from django.test import Client, RequestFactory
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy

from reports.pages.agent_table import SORTS as AGENT_SORTS
from reports.pages.calls import SORTS as CALL_SORTS
from reports.pages.calls import ProbedCalls
from sync.models import Call
from tests.support.cast import make_env
from tests.support.factories import make_agents, make_calls


@pytest.fixture
def seeded(org_a, env_a):
    env_2 = make_env(org_a, "Beta desk", "talq_cccccccccccccccccccccccccccc3333")
    today = timezone.localdate(timezone=org_a.tzinfo)
    first = today - timedelta(days=12)
    make_calls(env_a, 60, first, today, agents=make_agents(env_a, 3), seed=11)
    make_calls(env_2, 30, first, today, agents=make_agents(env_2, 2, prefix="b"), seed=12)
    make_calls(env_2, 5, first, today, seed=13)  # calls without an agent
    return {"envs": [env_a, env_2]}


@pytest.fixture
def client(alice) -> Client:
    client = Client()
    client.force_login(alice)
    return client


def _csv(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(body)))


def _ordered(values: list, descending: bool) -> bool:
    present = [v for v in values if v is not None]
    return present == sorted(present, reverse=descending) and \
        values[:len(present)] == present  # missing figures last


def _sorted_page(client, page: str, key: str, descending: bool):
    """The page sorted by `key` ("-key" when descending), checked to answer in that sort."""
    sort = f"-{key}" if descending else key
    response = client.get(f"/o/org-a/{page}/", {"range": "30d", "sort": sort})
    assert response.status_code == 200 and response.context["sort"] == sort
    return sort, response


@pytest.mark.parametrize("key", sorted(AGENT_SORTS))
@pytest.mark.parametrize("descending", [False, True])
def test_agents_table_sorts_by_every_column(seeded, client, key, descending):
    sort, response = _sorted_page(client, "agents", key, descending)
    rows = response.context["rows"]
    assert len(rows) == 6  # five agents and the calls without one
    values = [AGENT_SORTS[key](row, env) for row, env in rows]
    assert _ordered(values, descending), (sort, values)
    # The header links to the other direction of the active column.
    other = key if descending else f"-{key}"
    assert f"sort={other}" in response.content.decode()


def test_agents_csv_is_the_table_in_its_order(seeded, client):
    query = {"range": "30d", "sort": "environment", "env": [e.pk for e in seeded["envs"]]}
    table = client.get("/o/org-a/agents/", query).context["rows"]
    rows = _csv(client.get("/o/org-a/agents/", {**query, "format": "csv"}))
    assert rows[0][:4] == ["environment_id", "environment", "agent_id", "agent_name"]
    assert [(r[1], r[2]) for r in rows[1:]] == [(env, a.agent_id) for a, env in table]
    assert [int(r[4]) for r in rows[1:]] == [a.figures.total for a, _env in table]
    # Filtered to one environment: only its agents.
    one = _csv(client.get("/o/org-a/agents/", {"range": "30d", "env": seeded["envs"][1].pk,
                                               "format": "csv"}))
    assert {r[1] for r in one[1:]} == {"Beta desk"} and len(one) == 4  # 2 agents + none


def _call_key(call: Call, key: str):
    return {"started": call.started_at, "duration": call.duration, "status": call.status,
            "agent": (call.agent.name if call.agent else None),
            "environment": call.environment.name, "direction": call.direction}[key]


@pytest.mark.parametrize("key", sorted(CALL_SORTS))
@pytest.mark.parametrize("descending", [False, True])
def test_calls_explorer_sorts_by_every_column(seeded, client, key, descending):
    sort, response = _sorted_page(client, "calls", key, descending)
    calls = list(response.context["page"].object_list)
    values = [_call_key(c, key) for c in calls]
    present = [v for v in values if v is not None]
    assert present == sorted(present, reverse=descending), sort


@pytest.mark.parametrize("bad", ["bogus", "-", "--", "raw", "environment__token_ciphertext",
                                 "x" * 500, "started;drop"])
def test_unknown_sort_falls_back_to_the_default(seeded, client, bad):
    calls = client.get("/o/org-a/calls/", {"sort": bad})
    assert calls.status_code == 200 and calls.context["sort"] == "-started"
    agents = client.get("/o/org-a/agents/", {"sort": bad})
    assert agents.status_code == 200 and agents.context["sort"] == "-total"
    assert client.get("/o/org-a/calls/", {"sort": bad, "format": "csv"}).status_code == 200


def test_calls_csv_is_exactly_the_filtered_rows_in_order(seeded, client):
    env_2 = seeded["envs"][1]
    query = {"range": "30d", "environment": env_2.pk, "sort": "agent"}
    page = client.get("/o/org-a/calls/", query).context["page"]
    rows = _csv(client.get("/o/org-a/calls/", {**query, "format": "csv"}))
    expected = Call.objects.filter(environment=env_2, is_testing=False).count()
    assert page.paginator.count == expected == len(rows) - 1
    header = rows[0]
    ids = [r[header.index("external_id")] for r in rows[1:]]
    assert ids == [c.external_id for c in page.object_list]
    assert {r[header.index("environment")] for r in rows[1:]} == {"Beta desk"}


DJANGO = engines["django"]
INCLUDED = DJANGO.from_string(
    '{% load i18n %}{% translate "Started" as l %}'
    '{% include "reports/includes/sort_th.html" with key=key label=l %}'
    '{% include "reports/includes/sort_th.html" with key=key label=label num=True %}'
    '{% include "reports/includes/sort_th.html" with key=key label="P90" num=True %}')
WRITTEN = DJANGO.from_string(
    '{% load i18n portal_tags %}{% translate "Started" as l %}'
    '{% sort_th key l %}{% sort_th key label num=True %}{% sort_th key "P90" num=True %}')

QUERIES = ["", "sort=-started&page=3", "search=%3Cb%3E%26%22'&page=2&sort=agent",
           "env=1&env=2&agent=a%20b&date_from=2026-11-01", "page=&sort="]
SORTS = ["started", "-started", "agent", "-duration", "", None]
HOSTILE = 'Talk <time> & "rate"'


@pytest.mark.parametrize("query", QUERIES)
@pytest.mark.parametrize("sort", SORTS)
@pytest.mark.parametrize("language", ["en", "pt-br"])
def test_the_tag_writes_what_the_include_wrote(query, sort, language):
    request = RequestFactory().get(f"/o/org-a/calls/?{query}")
    with translation.override(language):
        for label in [HOSTILE, gettext_lazy("Answer rate")]:
            for key in ("started", "duration", "agent"):
                context = {"request": request, "key": key, "label": label}
                if sort is not None:
                    context["sort"] = sort
                included, written = INCLUDED.render(context), WRITTEN.render(context)
                assert written == included
                assert written.count("<th") == 3
                assert label != HOSTILE or "Talk &lt;time&gt; &amp; &quot;rate&quot;" in written


def test_the_pages_mark_the_current_sort_in_their_headers(seeded, client):
    calls = client.get("/o/org-a/calls/?sort=duration").content.decode()
    assert calls.count('<th scope="col"') == 9 and calls.count('aria-sort="') == 6
    assert 'class="num" aria-sort="ascending"><a href="?sort=-duration">' in calls
    agents = client.get("/o/org-a/agents/?sort=-total").content.decode()
    assert 'class="num" aria-sort="descending"><a href="?sort=total">' in agents


@pytest.mark.parametrize("sort", [*sorted(CALL_SORTS), *(f"-{k}" for k in sorted(CALL_SORTS))])
def test_a_searched_explorer_pages_its_calls_as_the_listing_does(seeded, client, sort):
    """A probed search's page is read by id (`ProbedCalls`, its query compiled once per sort):
    in every sort, each of its pages holds the calls the listing without the search holds,
    the search matching every call (every number called starts +1555)."""
    for number in (1, 2):
        query = {"range": "30d", "sort": sort, "page": number}
        whole = client.get("/o/org-a/calls/", query).context["page"]
        searched = client.get("/o/org-a/calls/", {**query, "search": "1555"}).context["page"]
        assert isinstance(searched.paginator.object_list, ProbedCalls)
        assert searched.paginator.count == whole.paginator.count > 50
        assert [(c.pk, c.agent, c.environment.name) for c in searched.object_list] == [
            (c.pk, c.agent, c.environment.name) for c in whole.object_list]
