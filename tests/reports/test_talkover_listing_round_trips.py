"""A compatible listing page costs three database and one Redis round trip.

Counted on the second of two equal requests (the first computes and keeps the day counts),
with an API token as a client sends it, as `test_cached_report_round_trips` counts them: the
statements are the token (and its user), the environment (and its organisation) and the page's
calls; the Redis round trip is the throttle's count pipelined with the day counts' read.
"""
from __future__ import annotations

import os
from datetime import date

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from portal.models import ApiToken
from tests.reports.test_cached_report_round_trips import redis_round_trips
from tests.support.factories import make_calls

pytestmark = pytest.mark.skipif(not os.environ.get("REDIS_URL"),
                                reason="counts Redis round trips: needs REDIS_URL")


def token_client(user) -> Client:
    _, raw = ApiToken.issue(user, name="listing rounds")
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}", HTTP_ACCEPT="application/json")


def test_a_listing_page_is_three_queries_and_one_redis_round_trip(bob, env_a, monkeypatch):
    make_calls(env_a, 150, date(2026, 3, 1), date(2026, 3, 5), seed=7)
    client = token_client(bob)
    path = f"/api/v1/environments/{env_a.pk}/calls?status=completed&per_page=100"
    first = client.get(path)
    assert first.status_code == 200 and first.json()["data"], first.content
    with CaptureQueriesContext(connection) as queries, \
            redis_round_trips(monkeypatch) as sent:
        again = client.get(path)
    assert again.status_code == 200 and again.content == first.content
    statements = [q["sql"] for q in queries.captured_queries]
    assert len(statements) <= 3, statements
    assert len(sent) == 1, sent  # the throttle's count and the day counts' read, pipelined
    packed = b"".join(sent[0]) if isinstance(sent[0], list) else sent[0]
    assert b"INCR" in packed and b"GET" in packed


def test_the_throttle_still_counts_every_listing_request(bob, env_a, env_b, settings):
    """Pages, searches (no day counts read) and requests that fail before the read (a 422,
    another tenant's environment, an unknown agent) all count: past the limit, a 429."""
    settings.API_THROTTLE_RATE = "5/minute"
    client = token_client(bob)
    listing = f"/api/v1/environments/{env_a.pk}/calls"
    answers = [client.get(listing).status_code,
               client.get(listing, {"search": "CA"}).status_code,
               client.get(listing, {"status": "nonsense"}).status_code,
               client.get(f"/api/v1/environments/{env_b.pk}/calls").status_code,
               client.get(f"{listing[:-len('calls')]}agents/nobody/calls").status_code]
    assert answers == [200, 200, 422, 404, 404]
    refused = client.get(listing)
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
