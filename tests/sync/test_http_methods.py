"""The client's one door for any method: a POST with a JSON body (an API that pages with
POST) gets the limits, budget, retries, deadlines and error shapes of a GET, over a real
socket (`tests.support.hostile`), and says itself "POST /path" in errors and logs."""
from __future__ import annotations

import json
import logging
import socket

import pytest

from sync.providers.deadline import RunDeadline
from sync.providers.errors import (
    AnswerTooSlow,
    RateLimited,
    StreamDeadlinePassed,
    UpstreamError,
    ValidationError,
)
from sync.providers.http import HttpClient
from sync.providers.transport import Limits, MiB
from tests.support.hostile import Hostile, head, hostile

TOKEN = "key_secretsecretsecretsecret0001"
FILTER = {"filter_criteria": {"start_timestamp": {"lower_threshold": 1_700_000_000_000}},
          "sort_order": "ascending", "limit": 1000}
PAGE = json.dumps([{"call_id": "c1"}, {"call_id": "c2"}]).encode()


def client_of(server: Hostile, slept: list[float], deadline: float = 5.0) -> HttpClient:
    limits = Limits(deadline, MiB)
    return HttpClient(server.url, TOKEN, sleep=slept.append, max_attempts=3,
                      limits=limits, stream_limits=limits)


def answer(status: str, body: bytes, **headers: str):
    def respond(server: Hostile, path: str, conn: socket.socket) -> None:
        conn.sendall(head(status, Content_Length=str(len(body)), **headers) + body)
    return respond


def rate_limited_once(server: Hostile, path: str, conn: socket.socket) -> None:
    if len(server.requests) == 1:
        answer("429 Too Many Requests", b'{"error": "slow down"}', Retry_After="3")(
            server, path, conn)
    else:
        answer("200 OK", PAGE)(server, path, conn)


def test_a_post_sends_its_json_body_and_waits_out_a_429_as_a_get_would():
    slept: list[float] = []
    with hostile(rate_limited_once) as server:
        client = client_of(server, slept)
        assert client.post("v3/list-calls", FILTER) == [{"call_id": "c1"}, {"call_id": "c2"}]
    assert [r.method for r in server.received] == ["POST", "POST"], "retried whole"
    for received in server.received:
        assert received.path == "/api/v1/v3/list-calls"
        assert json.loads(received.body) == FILTER
        assert received.headers["content-type"] == "application/json"
        assert received.headers["authorization"] == f"Bearer {TOKEN}"
    assert client.requests == 2 and client.retries == 1
    assert 3.0 <= slept[0] <= 3.25, "Retry-After is honoured"


def test_a_get_sends_no_body():
    with hostile(answer("200 OK", PAGE)) as server:
        client_of(server, []).get("v2/list-agents", {"limit": 5})
    (received,) = server.received
    assert (received.method, received.path, received.body) == (
        "GET", "/api/v1/v2/list-agents?limit=5", b"")
    assert "content-type" not in received.headers


def test_a_post_that_stays_rate_limited_fails_naming_its_method():
    slept: list[float] = []
    with hostile(answer("429 Too Many Requests", b"{}", Retry_After="1")) as server:
        with pytest.raises(RateLimited) as info:
            client_of(server, slept).post("v3/list-calls", FILTER)
    assert str(info.value).startswith(f"POST {server.url}/v3/list-calls: HTTP 429")
    assert len(server.received) == 3 and len(slept) == 3


def test_a_post_answered_5xx_is_retried_and_logged_by_its_request_line(caplog):
    slept: list[float] = []
    with hostile(answer("503 Service Unavailable", b"{}")) as server, \
            caplog.at_level(logging.WARNING, "sync.http"):
        with pytest.raises(UpstreamError) as info:
            client_of(server, slept).post("v3/list-calls", FILTER)
    assert "HTTP 503" in str(info.value) and len(server.received) == 3
    assert "upstream POST /v3/list-calls: " in caplog.text and TOKEN not in caplog.text


def test_a_refused_post_is_not_retried_and_its_body_is_never_quoted():
    marker = b'{"message": "filter_criteria.secret-7f3c is invalid"}'
    with hostile(answer("422 Unprocessable Entity", marker)) as server:
        with pytest.raises(ValidationError) as info:
            client_of(server, []).request("POST", "v3/list-calls", json=FILTER)
    assert len(server.received) == 1
    assert "HTTP 422 (application/json, " in str(info.value)
    assert "secret-7f3c" not in str(info.value) and info.value.body_kind == "json"


def drip(server: Hostile, path: str, conn: socket.socket) -> None:
    conn.sendall(head(Content_Length="100000") + b"[")
    while server.wait(0.05):
        conn.sendall(b" ")


def test_a_dripping_answer_to_a_post_ends_at_its_deadline_not_retried():
    with hostile(drip) as server:
        with pytest.raises(AnswerTooSlow) as info:
            client_of(server, [], deadline=0.5).post("v3/list-calls", FILTER)
    assert str(info.value).startswith("POST /v3/list-calls: answer too slow")
    assert len(server.received) == 1


def test_a_post_is_not_sent_once_the_streams_deadline_passed():
    with hostile(answer("200 OK", PAGE)) as server:
        client = client_of(server, [])
        client.deadline = RunDeadline(0.0)
        with pytest.raises(StreamDeadlinePassed) as info:
            client.post("v3/list-calls", FILTER)
    assert str(info.value).startswith("POST /v3/list-calls: the stream's deadline")
    assert server.received == []


def test_a_streamed_answer_may_be_asked_for_with_a_post():
    with hostile(answer("200 OK", PAGE)) as server:
        body = client_of(server, []).open_stream("v3/list-calls", method="POST", json=FILTER)
        try:
            assert json.loads(body.read_all()) == [{"call_id": "c1"}, {"call_id": "c2"}]
        finally:
            body.close()
    assert json.loads(server.received[0].body) == FILTER
