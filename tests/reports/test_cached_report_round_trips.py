"""A cached JSON report costs at most two database and one Redis round trip.

Counted on the second of two equal requests (the first renders and keeps the bytes), with an
API token as a client sends it: the database's statements through Django's
CaptureQueriesContext, Redis's round trips at the client's connection (every command or
pipeline that goes to the server is one `send_packed_command`), on the real servers.
"""
from __future__ import annotations

import os
from contextlib import contextmanager

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from redis.connection import AbstractConnection

from portal.models import ApiToken

pytestmark = pytest.mark.skipif(not os.environ.get("REDIS_URL"),
                                reason="counts Redis round trips: needs REDIS_URL")


@contextmanager
def redis_round_trips(monkeypatch):
    sent: list[object] = []
    original = AbstractConnection.send_packed_command

    def counting(self, command, check_health=True):
        sent.append(command)
        return original(self, command, check_health)

    monkeypatch.setattr(AbstractConnection, "send_packed_command", counting)
    yield sent
    monkeypatch.undo()


def test_a_cached_json_report_is_two_queries_and_one_redis_round_trip(bob, env_a, monkeypatch):
    _, raw = ApiToken.issue(bob, name="rounds")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}", HTTP_ACCEPT="application/json")
    path = (f"/api/v1/reports/calls/?environment={env_a.pk}&start_date=2026-10-01"
            f"&end_date=2026-10-30&interval=day")
    first = client.get(path)
    assert first.status_code == 200, first.content
    with CaptureQueriesContext(connection) as queries, \
            redis_round_trips(monkeypatch) as sent:
        again = client.get(path)
    assert again.status_code == 200 and again.content == first.content
    statements = [q["sql"] for q in queries.captured_queries]
    assert len(statements) <= 2, statements  # the token (and its user), the environments
    assert len(sent) == 1, sent  # the throttle's count and the rendering's read, pipelined
    packed = b"".join(sent[0]) if isinstance(sent[0], list) else sent[0]
    assert b"INCR" in packed and b"GET" in packed


def test_the_throttle_still_refuses_cached_and_failing_reports(bob, env_a, settings):
    """The hit rides on the read, or is counted on its own when the request fails first:
    either way the third request of a 2-a-minute caller is refused."""
    settings.API_THROTTLE_RATE = "2/minute"
    _, raw = ApiToken.issue(bob, name="rounds")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}", HTTP_ACCEPT="application/json")
    path = f"/api/v1/reports/calls/?environment={env_a.pk}&start_date=2026-10-01"
    assert [client.get(path).status_code for _ in range(3)] == [200, 200, 429]

    _, raw = ApiToken.issue(bob, name="again")  # the same user: the same count
    settings.API_THROTTLE_RATE = "4/minute"
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}", HTTP_ACCEPT="application/json")
    assert client.get(path + "&nonsense=1").status_code == 400
    refused = client.get(path + "&nonsense=1")
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
