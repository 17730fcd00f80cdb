"""One call filter (`reports.call_filter`) and one day parser (`reports.days`) on every face
that lists calls or reads a day: the calls explorer, the Talkover-compatible listing, the
report queries' drill-down (`calls_in_range`), the report pages and the reports API.

The faces differ only where the design says so: the explorer and the reports leave test
calls out unless asked, the compatible listing lists them as Talkover does.
"""
from __future__ import annotations

import random
from datetime import date, datetime, timedelta

import pytest

from reports.queries import calls_in_range
from sync.models.core import CallStatus
from tests.support.factories import build_call, make_agents, save_calls

pytestmark = pytest.mark.django_db

DAY = date(2026, 3, 3)
NEXT = DAY + timedelta(days=1)


@pytest.fixture
def calls(env_a, env_b):
    """Two local days of calls of two agents and none, every status, both directions, some
    test calls; the first call of the second day starts at local midnight (UTC 03:00)."""
    tz = env_a.organization.tzinfo
    agents = make_agents(env_a, 2)
    statuses = [CallStatus.COMPLETED, CallStatus.ANSWERED, CallStatus.BUSY,
                CallStatus.NO_ANSWER, CallStatus.FAILED, CallStatus.RINGING]
    rows, rng = [], random.Random(27)
    for i in range(24):
        day = DAY if i < 12 else NEXT
        at = datetime(day.year, day.month, day.day, tzinfo=tz) + timedelta(hours=2 * (i % 12))
        rows.append(build_call(env_a, at, agent=(agents + [None])[i % 3],
                               status=statuses[i % 6], direction=("inbound", "outbound")[i % 2],
                               is_testing=i % 5 == 0, rng=rng))
    save_calls(env_a, rows)
    save_calls(env_b, [build_call(env_b, datetime(2026, 3, 3, 12, tzinfo=tz), rng=rng)])
    return rows, agents


def explorer(client, **params) -> set[str]:
    response = client.get("/o/org-a/calls/", {"start": DAY, "end": NEXT, **params})
    assert response.status_code == 200, response.content[:300]
    return {c.external_id for c in response.context["page"].object_list}


def compatible(api_client_for, user, env, **params) -> set[str]:
    answer = api_client_for(user).get(f"/api/v1/environments/{env.pk}/calls",
                                      {"date_from": DAY, "date_to": NEXT, "per_page": 100,
                                       **params})
    assert answer.status_code == 200, answer.content[:300]
    return {c["id"] for c in answer.json()["data"]}


def in_range(env, start=DAY, end=NEXT, **filters) -> set[str]:
    return set(calls_in_range([env], start, end, **filters).values_list("external_id",
                                                                         flat=True))


def test_the_faces_list_the_same_calls(client, alice, api_client_for, env_a, calls):
    rows, agents = calls
    client.force_login(alice)
    agent = agents[0].external_id
    cases = [
        ({}, {}, {}),
        ({"agent": agent}, {"agent_id": agent}, {"agent_ids": agent}),
        ({"status": "busy"}, {"status": "busy"}, {"status": "busy"}),
        ({"direction": "inbound"}, {"direction": "inbound"}, {"direction": "inbound"}),
        ({"end": DAY}, {"date_to": DAY}, {"end": DAY}),
        ({"start": NEXT}, {"date_from": NEXT}, {"start": NEXT}),
    ]
    for page, talkover, query in cases:
        window = {k: query.pop(k) for k in ("start", "end") if k in query}
        real = in_range(env_a, **window, **query)
        with_tests = in_range(env_a, **window, **query, include_testing=True)
        assert real and real < with_tests, page  # the case selects something, tests apart
        assert explorer(client, **page) == real, page
        assert explorer(client, testing="on", **page) == with_tests, page
        assert compatible(api_client_for, alice, env_a, **talkover) == with_tests, talkover


def test_no_agent_is_a_dash_in_the_explorer(client, alice, env_a, calls):
    """The agents page links its "(no agent)" row with `agent=-`: the calls with an empty
    agent id, as the rollups count them."""
    client.force_login(alice)
    found = explorer(client, agent="-", testing="on")
    assert found and found == {c.external_id for c in calls[0] if c.agent is None}


BAD_DAYS = ["03/01/2026", "01/03/2026", "20260301", "2026-W09-1", "2026-3-1", "2026-02-30"]


@pytest.mark.parametrize("bad", BAD_DAYS)
def test_one_day_parser_on_every_face(client, alice, api_client_for, env_a, bad):
    """Only YYYY-MM-DD is a day, in every language: a page's date field used to read
    `03/01/2026` as March (English) or January (Portuguese), the reports API `20260301`."""
    client.force_login(alice)
    api = api_client_for(alice)
    for language in ("en", "pt-br"):
        client.cookies["django_language"] = language
        assert client.get("/o/org-a/calls/", {"start": bad}).status_code == 400, language
        assert client.get("/o/org-a/", {"range": "custom", "start": bad}
                          ).status_code == 400, language
    answer = api.get("/api/v1/reports/calls/", {"environment": env_a.pk, "start_date": bad})
    assert answer.status_code == 400
    assert answer.json() == {"start_date": ["Enter a valid date (YYYY-MM-DD)."]}
    answer = api.get(f"/api/v1/environments/{env_a.pk}/calls", {"date_from": bad})
    assert answer.status_code == 422
    assert answer.json()["errors"] == {"date_from": ["The date from must be a valid date."]}


def test_a_good_day_is_read_alike(client, alice, api_client_for, env_a):
    client.force_login(alice)
    assert client.get("/o/org-a/calls/", {"start": "2026-03-01"}).status_code == 200
    assert client.get("/o/org-a/", {"range": "custom", "start": "2026-03-01"}
                      ).status_code == 200
    api = api_client_for(alice)
    assert api.get("/api/v1/reports/calls/", {"environment": env_a.pk,
                                             "start_date": "2026-03-01"}).status_code == 200
    assert api.get(f"/api/v1/environments/{env_a.pk}/calls",
                   {"date_from": "2026-03-01"}).status_code == 200


@pytest.mark.django_db
def test_the_explorers_criteria_are_built_once(org_a, env_a):
    """The explorer reads its criteria for its rows and for its export's name: the same
    object both times, not the form's cleaned data read twice."""
    from django.http import QueryDict

    from reports.call_filter import CallFilter

    filterset = CallFilter(QueryDict("search=CA9ff&status=busy"), organization=org_a)
    assert filterset.is_valid()
    criteria = filterset.criteria()
    assert criteria.status == ["busy"] and criteria.search == "CA9ff"
    assert filterset.criteria() is criteria
