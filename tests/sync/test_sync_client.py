"""The upstream HTTP client: error envelopes, retries, Retry-After, budget, token hygiene."""
from __future__ import annotations

import logging

import pytest
import requests
import responses

from sync.budget import BudgetExhausted, RequestBudget, token_key
from sync.providers.errors import (
    AuthError,
    BadResponse,
    NotFound,
    RateLimited,
    UpstreamError,
    ValidationError,
)
from sync.providers.talkover.client import TalkoverClient

BASE = "https://talkover.test/api/v1"
TOKEN = "talq_secretsecretsecretsecret0001"


@pytest.fixture
def client():
    slept: list[float] = []
    c = TalkoverClient(BASE, TOKEN, sleep=slept.append, max_attempts=4)
    c.slept = slept
    return c


@pytest.mark.parametrize(("status", "body", "ctype", "exc", "text"), [
    (401, {"success": False, "message": "Unauthorized"}, "application/json", AuthError,
     "Unauthorized"),
    (401, {"message": "Missing Bearer Token"}, "application/json", AuthError,
     "Missing Bearer Token"),
    (401, {"success": False, "error": {"code": "INVALID_TOKEN", "message": "Token invalid",
                                       "details": {}}}, "application/json", AuthError,
     "INVALID_TOKEN"),
    (404, {"success": False, "message": "Agent not found"}, "application/json", NotFound,
     "Agent not found"),
    (422, {"success": False, "message": "The given data was invalid.",
           "errors": {"status": ["The selected status is invalid."]}}, "application/json",
     ValidationError, "The given data was invalid."),
    (404, {"detail": "Agent not found"}, "application/json", NotFound, "Agent not found"),
])
@responses.activate
def test_error_envelopes_map_to_typed_exceptions(client, status, body, ctype, exc, text):
    responses.get(f"{BASE}/calls", json=body, status=status)
    with pytest.raises(exc) as info:
        client.get("calls")
    # Status, content type and size; the upstream's words are kept nowhere (not even logged).
    assert f"HTTP {status}" in str(info.value) and "application/json" in str(info.value)
    assert text not in str(info.value) and not hasattr(info.value, "upstream_message")
    assert info.value.body_kind == "json" and len(info.value.body_digest) == 12
    assert len(responses.calls) == 1, "client errors are never retried"


@responses.activate
def test_5xx_html_and_truncated_bodies_are_retried_then_succeed(client):
    responses.get(f"{BASE}/agents", body=b"<html><h1>502 Bad Gateway</h1></html>", status=502,
                  content_type="text/html")
    responses.get(f"{BASE}/agents", json={"success": False, "message": "Internal server error."},
                  status=500)
    responses.get(f"{BASE}/agents", body=b'{"success":true,"data":[{"id":', status=200)
    responses.get(f"{BASE}/agents", json={"success": True, "data": []}, status=200)
    assert client.get("agents") == {"success": True, "data": []}
    assert client.requests == 4 and client.retries == 3 and len(client.slept) == 3


@responses.activate
def test_retries_run_out_with_a_clear_message(client):
    responses.get(f"{BASE}/agents", body=b"<html><h1>502 Bad Gateway</h1></html>", status=502,
                  content_type="text/html")
    with pytest.raises(UpstreamError) as info:
        client.get("agents")
    assert "HTTP 502 (text/html, 37 bytes)" in str(info.value)
    assert "Bad Gateway" not in str(info.value), "the body is never shown"
    assert info.value.body_kind == "html"
    assert client.requests == 4


@responses.activate
def test_truncated_json_gives_bad_response(client):
    responses.get(f"{BASE}/calls", body=b'{"success":true,"data":[', status=200)
    with pytest.raises(BadResponse, match="unreadable body"):
        client.get("calls")


@responses.activate
def test_429_honours_retry_after(client):
    responses.get(f"{BASE}/calls", json={"success": False, "message": "Too Many Attempts."},
                  status=429, headers={"Retry-After": "7"})
    responses.get(f"{BASE}/calls", json={"success": True}, status=200)
    assert client.get("calls") == {"success": True}
    assert 7 <= client.slept[0] < 7.5


@responses.activate
def test_persistent_429_raises_rate_limited(client):
    responses.get(f"{BASE}/calls", json={"message": "Too Many Attempts."}, status=429,
                  headers={"Retry-After": "1"})
    with pytest.raises(RateLimited):
        client.get("calls")


@responses.activate
def test_connection_errors_are_retried(client):
    responses.get(f"{BASE}/calls", body=requests.ConnectionError("refused"))
    responses.get(f"{BASE}/calls", json={"success": True}, status=200)
    assert client.get("calls") == {"success": True}


@responses.activate
def test_renamed_pagination_key_fails_loudly(client):
    responses.get(f"{BASE}/calls", json={"success": True, "data": [], "meta": {}}, status=200)
    with pytest.raises(BadResponse, match="expected 'pagination'"):
        client.calls_page(__import__("datetime").date(2026, 1, 1), 1)


@responses.activate
def test_token_sent_as_bearer_and_never_logged(client, caplog):
    caplog.set_level(logging.DEBUG)
    responses.get(f"{BASE}/calls", json={"success": False, "message": "x"}, status=500)
    with pytest.raises(UpstreamError) as info:
        client.get("calls", {"page": 1})
    assert responses.calls[0].request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert TOKEN not in caplog.text and TOKEN not in str(info.value)
    assert TOKEN not in token_key(TOKEN) and len(token_key(TOKEN)) == 24


@responses.activate
def test_a_netrc_entry_for_the_upstream_never_replaces_the_token(client, tmp_path, monkeypatch):
    """requests would read ~/.netrc for every request and send its login instead of the
    session's bearer token; the outbound session's credentials are its own headers only."""
    netrc = tmp_path / "netrc"
    netrc.write_text("machine talkover.test login someone password not-the-token\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    responses.get(f"{BASE}/calls", json={"data": [], "meta": {"current_page": 1,
                                                              "last_page": 1, "total": 0}})
    client.get("calls", {"page": 1})
    assert responses.calls[0].request.headers["Authorization"] == f"Bearer {TOKEN}"


@pytest.mark.django_db
def test_a_ticket_costs_two_or_three_cache_round_trips_and_a_shared_bucket_fills_without_gaps(
        monkeypatch):
    """Every request of a sync takes a ticket and records the upstream's rate-limit headers:
    the bucket just ended is counted from the slots the budget knows taken (one read), the
    ticket is one `add`, the shared counter moves every fourth ticket, and headers that say
    nothing new are not written again (it was 8 round trips, then 6). Another budget of the
    token taking slots meanwhile is found through the counter, lagging or not: slots stay
    0, 1, 2, … with no gap and none twice."""
    from django.core.cache import cache

    now = [1_000_002.7]  # the clock stands still: one bucket
    first = RequestBudget(TOKEN, limit=1000, window=60, clock=lambda: now[0])
    second = RequestBudget(TOKEN, limit=1000, window=60, clock=lambda: now[0])
    headers = {"X-RateLimit-Limit": "1000", "X-RateLimit-Remaining": "900",
               "X-RateLimit-Reset": "30"}
    first.acquire()
    first.observe(headers)
    trips: list[str] = []
    for name in ("get", "get_many", "add", "set"):
        real = getattr(cache, name)
        monkeypatch.setattr(cache, name, lambda *a, _real=real, _name=name, **k: (
            trips.append(_name), _real(*a, **k))[1])
    for _ in range(10):
        first.acquire()
        first.observe(headers)
    assert sorted(trips) == sorted(["get_many"] * 10 + ["add"] * 10 + ["set"] * 2), trips
    for budget in (second, first, second, second, first, second):
        budget.acquire()
    bucket = int(now[0] // first.bucket_seconds)
    taken = [n for n in range(20) if cache.get(first._slot(bucket, n)) is not None]
    assert taken == list(range(17)) and first._issued(bucket) == 17
    assert second._issued(bucket) == 17


@pytest.mark.django_db
def test_a_budgets_first_ticket_counts_the_whole_window_in_one_round_trip(monkeypatch):
    """A new budget (every run and webhook round makes one) counts every bucket of the window
    before its first ticket: their first slots are read in one round trip, a bucket holding
    more than those read on its own; what it counts is every other worker's tickets, so the
    limit holds."""
    from django.core.cache import cache

    from sync.budget import BUCKETS_PER_WINDOW, MARGIN_BUCKETS, SLOTS_READ

    now = [3_000_000.0]
    window, limit = 60.0, 3 * SLOTS_READ
    other = RequestBudget(TOKEN, limit=limit, window=window, clock=lambda: now[0])
    step = window / BUCKETS_PER_WINDOW
    for _ in range(SLOTS_READ + 2):  # one bucket holds more than a read's slots
        other.acquire()
    for _ in range(limit - SLOTS_READ - 2):  # the rest one a bucket, across the window
        now[0] += step
        other.acquire()
    now[0] += step
    fresh = RequestBudget(TOKEN, limit=limit, window=window, clock=lambda: now[0],
                          max_wait=1.0)
    current = int(now[0] // fresh.bucket_seconds)
    reads: list[set[int]] = []  # the window's buckets (before the current one) each read asks
    real = cache.get_many

    def recording(keys, *args, **kwargs):
        # A bucket's keys are "<prefix>:<bucket>:<slot or n>" (not the upstream's, a share's).
        parts = [key.removeprefix(f"{fresh.prefix}:").split(":") for key in keys]
        buckets = {int(part[0]) for part in parts if len(part) == 2 and int(part[0]) < current}
        if buckets:
            reads.append(buckets)
        return real(keys, *args, **kwargs)

    monkeypatch.setattr(cache, "get_many", recording)
    with pytest.raises(BudgetExhausted):
        fresh.acquire()
    # One read of every bucket (their counters and first slots), one more of the full one.
    assert [len(buckets) for buckets in reads] == [BUCKETS_PER_WINDOW + MARGIN_BUCKETS, 1]


@pytest.mark.django_db
def test_another_workers_nearly_spent_upstream_is_heeded_within_a_second():
    """What the upstream says is shared through the cache at once when few requests remain;
    a budget trusts its own last reading of it for at most `SHARED_FOR` seconds."""
    from sync.budget import SHARED_FOR

    now = [2_000_000.0]
    first = RequestBudget(TOKEN, limit=100, window=60, clock=lambda: now[0], max_wait=1.0)
    second = RequestBudget(TOKEN, limit=100, window=60, clock=lambda: now[0], max_wait=1.0)
    first.observe({"X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "90",
                   "X-RateLimit-Reset": "30"})
    second.acquire()  # reads the shared state: plenty left
    first.observe({"X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "1",
                   "X-RateLimit-Reset": "30"})
    with pytest.raises(BudgetExhausted):
        first.acquire()
    now[0] += SHARED_FOR
    with pytest.raises(BudgetExhausted) as spent:
        second.acquire()
    assert 28 <= spent.value.wait <= 30


@pytest.mark.django_db
def test_budget_blocks_beyond_the_limit_and_is_shared():
    now = [1000.0]
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    first = RequestBudget(TOKEN, limit=3, window=6, clock=lambda: now[0], sleep=sleep)
    second = RequestBudget(TOKEN, limit=3, window=6, clock=lambda: now[0], sleep=sleep)
    for budget in (first, second, first):
        assert budget.acquire() == 0
    assert not waits
    second.acquire()  # the fourth request in the window must wait for the window to pass
    assert sum(waits) >= 6
    other = RequestBudget("talq_another_token", limit=3, window=6, clock=lambda: now[0],
                          sleep=sleep)
    assert other.acquire() == 0, "each token has its own budget"
