"""The explorer offers its environment filter only when the organisation has several, and
reads that from the environments its filter already listed (`CallFilter.environment_ids`),
not with a COUNT of its own on every render (issue 44: a search page is rendered every time)."""
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
    # One count only: the agent choices' (whether to name environments in their labels).
    counts = [q for q in sql if q.startswith('SELECT COUNT(*) AS "__count" FROM '
                                             '"portal_environment"')]
    assert len(counts) == 1


def test_several_environments_offer_the_choice(client, alice, org_a, env_a):
    make_env(org_a, "A second", "talq_bbbbbbbbbbbbbbbbbbbbbbbbbbbb2222")
    html, _sql = explorer(client, alice, org_a)
    assert 'name="env"' in html and "A second" in html
