"""Sessions with Redis (`portal/auth/sessions.py`): read from Redis, written to the database.

A signed-in page reads no session row; signing out ends the session in both places; a cached
copy lives at most SESSION_CACHE_SECONDS; with Redis frozen, pages and sign-out still answer
(at most one timeout per interval) from the database. Each test runs its own redis-server.
"""
from __future__ import annotations

import shutil
import signal
import time
from collections.abc import Iterator

import pytest
import redis
from django.contrib.sessions.models import Session
from django.core.cache import caches
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from portal import redis_guard
from portal.auth.sessions import SessionStore
from tests.support.processes import free_port, redis_server

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server"),
]

PASSWORD = "alice-session-pw-123"


@pytest.fixture
def own_redis(settings) -> Iterator[tuple[redis.Redis, object]]:
    """This process's cache and sessions on a redis-server of the test's own."""
    port = free_port()
    with redis_server(port) as proc:
        settings.CACHES = {"default": {
            "BACKEND": "portal.redis_cache.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/0", "OPTIONS": settings.REDIS_CLIENT_OPTIONS}}
        settings.SESSION_ENGINE = "portal.auth.sessions"
        settings.SESSION_CACHE_SECONDS = 300
        redis_guard.reset()
        try:
            yield redis.Redis(port=port), proc
        finally:
            caches["default"].close()
            redis_guard.reset()


def signed_in(alice) -> Client:
    alice.set_password(PASSWORD)
    alice.save()
    client = Client()
    assert client.post("/accounts/login/", {"username": "alice", "password": PASSWORD}
                       ).status_code == 302
    return client


def session_reads(ctx) -> list[str]:
    return [q["sql"] for q in ctx.captured_queries if "django_session" in q["sql"]]


def test_a_signed_in_page_reads_no_session_row(own_redis, alice, org_a):
    client = signed_in(alice)
    assert client.get("/o/org-a/sync/").status_code == 200
    with CaptureQueriesContext(connection) as ctx:
        assert client.get("/o/org-a/sync/").status_code == 200
    assert session_reads(ctx) == []
    # The database is still the record: the row is there.
    key = client.cookies["sessionid"].value
    assert Session.objects.filter(session_key=key).exists()


def test_a_cached_session_lives_at_most_session_cache_seconds(own_redis, alice, org_a):
    store, _proc = own_redis
    client = signed_in(alice)
    key = client.cookies["sessionid"].value
    [name] = [k for k in store.keys("*") if key.encode() in k]
    assert 0 < store.ttl(name) <= 300


def test_signing_out_ends_the_session_in_both_places(own_redis, alice, org_a):
    store, _proc = own_redis
    client = signed_in(alice)
    key = client.cookies["sessionid"].value
    assert client.post("/accounts/logout/").status_code in (200, 302)
    assert not Session.objects.filter(session_key=key).exists()
    assert not [k for k in store.keys("*") if key.encode() in k]
    replay = Client()
    replay.cookies["sessionid"] = key
    assert replay.get("/o/org-a/sync/").status_code == 302  # to the login page


def test_a_frozen_redis_costs_one_timeout_and_the_database_answers(own_redis, alice, org_a,
                                                                   settings):
    _store, proc = own_redis
    settings.REDIS_RETRY_AFTER_SECONDS = 60
    client = signed_in(alice)
    proc.send_signal(signal.SIGSTOP)
    try:
        started = time.monotonic()
        first = client.get("/o/org-a/sync/")
        first_took = time.monotonic() - started
        started = time.monotonic()
        with CaptureQueriesContext(connection) as ctx:
            second = client.get("/o/org-a/sync/")
        second_took = time.monotonic() - started
        reads = session_reads(ctx)  # before the next request resets the query log
        out = client.post("/accounts/logout/")
    finally:
        proc.send_signal(signal.SIGCONT)
    assert first.status_code == second.status_code == 200
    assert first_took < 3.5 and second_took < 1, (first_took, second_took)
    assert len(reads) == 1  # read from the database
    assert out.status_code in (200, 302)
    assert client.get("/o/org-a/sync/").status_code == 302


def test_a_session_the_cache_lost_is_read_from_the_database(own_redis, alice, org_a):
    store, _proc = own_redis
    client = signed_in(alice)
    store.flushdb()
    assert client.get("/o/org-a/sync/").status_code == 200
    assert SessionStore(client.cookies["sessionid"].value).load()["_auth_user_id"] == str(alice.pk)


def test_the_cache_keeps_one_client_per_pool(own_redis):
    backend = caches["default"]._cache
    assert backend.get_client() is backend.get_client()
    assert backend.get_client(write=True) is backend.get_client("any key", write=True)
