"""The dashboard's body is kept rendered by data version (`reports.page_cache`): the second
request sends the kept HTML without rendering it; a sync that changes the mirror, another
language or another query never gets a body rendered for something else.
"""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.db.models import F
from django.utils import timezone

from portal.models import Environment
from tests.factories import make_agents, make_calls

pytestmark = pytest.mark.django_db


@pytest.fixture
def mirror(env_a):
    today = timezone.localdate(timezone=env_a.organization.tzinfo)
    make_calls(env_a, 60, today - timedelta(days=10), today - timedelta(days=1),
               agents=make_agents(env_a, 2), seed=5)
    return today


def body(client, **query):
    response = client.get("/o/org-a/", {"range": "30d", **query})
    assert response.status_code == 200
    return response.context["body"], response


def test_second_request_sends_the_kept_body(client, alice, env_a, mirror):
    client.force_login(alice)
    first, response = body(client)
    assert not first.kept and 'id="chart-data"' in first.html
    total = response.context["calls"].totals.total
    assert total > 0
    again, response = body(client)
    assert again.kept and again.html == first.html
    assert again.html in response.content.decode()
    # What a test reads from the context is still there, computed on demand.
    assert response.context["calls"].totals.total == total


def test_a_sync_that_changes_the_mirror_renders_anew(client, alice, env_a, mirror):
    client.force_login(alice)
    first, response = body(client)
    before = response.context["calls"].totals.total
    make_calls(env_a, 7, mirror - timedelta(days=3), mirror - timedelta(days=3), seed=9,
               testing_share=0)
    Environment.objects.filter(pk=env_a.pk).update(data_version=F("data_version") + 1)
    after, response = body(client)
    assert not after.kept and after.html != first.html
    assert response.context["calls"].totals.total == before + 7


def test_language_and_query_have_bodies_of_their_own(client, alice, env_a, mirror):
    client.force_login(alice)
    english, _ = body(client)
    client.cookies["django_language"] = "pt-br"
    portuguese, _ = body(client)
    assert not portuguese.kept and "Taxa de atendimento" in portuguese.html
    week, _ = body(client, range="7d")
    assert not week.kept and week.html != portuguese.html
    assert body(client)[0].kept
