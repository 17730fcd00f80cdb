"""The explorer offers its environment filter only when the organisation has several, and
reads that from the environments its filter already listed (`CallFilter.environment_ids`),
not with a COUNT of its own on every render (issue 44: a search page is rendered every time);
the agent choices are given that number too."""
from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.support.cast import make_env


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
