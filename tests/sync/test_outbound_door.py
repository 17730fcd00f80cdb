"""One outbound door: webhook registration on Talkover and alert webhooks
go through `sync.providers.transport` like the sync: no redirect followed, a total deadline,
a byte cap after decompression, nothing of a body echoed.

The far end is a real local server (tests/support/hostile.py) answering each POST with 200 MiB
streamed, a gzip bomb, a 1-byte-a-second body or a redirect. Memory is Python's own
allocations during the call (tracemalloc peak: read whole, 200 MiB would be 200 MiB); time
is the wall clock against the small deadline set here (a dripping server gives up after 20 s,
so a door without a deadline fails the test instead of hanging it).
"""
from __future__ import annotations

import json
import socket
import time
import tracemalloc
from datetime import UTC, datetime

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from portal.models import Environment
from reports.alerts.deliver import deliver_pending
from reports.alerts.models import AlertEvent, AlertRule
from tests.support.hostile import GZIP_HEADER, MIB_OF_SPACES, Hostile, head, hostile

pytestmark = pytest.mark.django_db

MARKER = "AKIA-LEAK-9d1e"  # at the start of every hostile body: must never come back out
DEADLINE = 1.5
MiB = 1024 * 1024
AGENTS = json.dumps({"data": [{"id": "ag_1", "name": "One"}, {"id": "ag_2", "name": "Two"}],
                     "meta": {"current_page": 1, "last_page": 1, "total": 2}}).encode()


def huge(server: Hostile, conn: socket.socket) -> None:
    """200 MiB of JSON-ish body, streamed (no length, no end until the client hangs up)."""
    conn.sendall(head() + b'{"note": "' + MARKER.encode())
    chunk = b" " * MiB
    for _ in range(200):
        conn.sendall(chunk)


def bomb(server: Hostile, conn: socket.socket) -> None:
    """About 256 kB of gzip that inflates to 256 MiB."""
    conn.sendall(head(Content_Encoding="gzip") + GZIP_HEADER + MIB_OF_SPACES * 256)


def drip(server: Hostile, conn: socket.socket) -> None:
    """A 2xx whose body comes one byte a second (for 20 s at most)."""
    conn.sendall(head(Content_Length="100000") + b'{"x": "' + MARKER.encode())
    for _ in range(20):
        if not server.wait(1.0):
            return
        conn.sendall(b" ")


def redirect(server: Hostile, conn: socket.socket) -> None:
    conn.sendall(head("307 Temporary Redirect", Content_Length="0",
                      Location=f"http://127.0.0.1:{server.other}/steal"))


CASES = {"200 MiB body": (huge, "answer too large"),
         "gzip bomb": (bomb, "answer too large"),
         "1 byte a second": (drip, "answer too slow")}


def talkover(post_answer):
    """A Talkover API whose agent listing is fine and whose POSTs are `post_answer`."""
    def answer(server: Hostile, path: str, conn: socket.socket) -> None:
        if "/webhooks" in path:
            post_answer(server, conn)
        else:
            conn.sendall(head(Content_Length=str(len(AGENTS))) + AGENTS)
    return answer


def measured(call) -> tuple[float, float]:
    """(seconds, peak MiB Python allocated) of `call()`."""
    tracemalloc.start()
    began = time.monotonic()
    try:
        call()
    finally:
        took = time.monotonic() - began
        peak = tracemalloc.get_traced_memory()[1] / MiB
        tracemalloc.stop()
    return took, peak


def _env(org, url: str) -> Environment:
    env = Environment(organization=org, name="Hooks", base_url=url, requests_per_minute=100000)
    env.set_token("talq_" + "h" * 40)
    env.save()
    return env


@pytest.mark.parametrize("case", CASES)
def test_register_command_is_bounded_in_time_and_memory(org_a, settings, capsys, case):
    settings.OUTBOUND_HOOK_DEADLINE_SECONDS = DEADLINE
    answer, named = CASES[case]
    with hostile(talkover(answer)) as server:
        env = _env(org_a, server.url)

        def register() -> None:
            with pytest.raises(CommandError, match="no agent"):
                call_command("talkover_webhooks", str(env.pk), "--register")

        took, peak = measured(register)
        posts = [p for p in server.requests if "/webhooks" in p]
    assert took < DEADLINE + 3, f"{case}: the registration took {took:.1f} s"
    assert peak < 16, f"{case}: {peak:.0f} MiB allocated"
    env.refresh_from_db()
    outcome = env.webhook_registration["agents"]
    assert named in outcome[0]["message"] and not outcome[0]["ok"], outcome
    # Such an upstream would hold the worker once per agent: the rest are not tried.
    assert outcome[1]["message"].startswith("not tried: answer too") and len(posts) == 1
    said = capsys.readouterr()
    assert named in said.out
    assert MARKER not in json.dumps(env.webhook_registration) + said.out + said.err


def test_register_follows_no_redirect(org_a):
    with hostile(talkover(redirect)) as server, hostile(lambda s, p, c: None) as other:
        server.other = other.port
        env = _env(org_a, server.url)
        with pytest.raises(CommandError):
            call_command("talkover_webhooks", str(env.pk), "--register")
    env.refresh_from_db()
    assert [a["http"] for a in env.webhook_registration["agents"]] == [307, 307]
    assert other.requests == [], "a redirect is never followed"


def _firing(org, url: str) -> AlertEvent:
    rule = AlertRule(organization=org, name="Volume", metric="calls", window="day",
                     condition="above", threshold=5, min_calls=1, emails=[],
                     webhook_url=url, webhook_format="json")
    rule.new_webhook_secret()
    rule.save()
    return AlertEvent.objects.create(rule=rule, organization=org, seq=1, state="firing",
                                     metric="calls", value=9, threshold=5,
                                     created_at=datetime.now(UTC))


@pytest.mark.parametrize("case", [*CASES, "redirect"])
def test_alert_webhooks_go_through_the_same_door(org_a, settings, case):
    settings.OUTBOUND_HOOK_DEADLINE_SECONDS = DEADLINE
    settings.DEBUG = True  # the receiver is plain http on loopback: allowed in DEBUG only
    answer, named = CASES.get(case, (redirect, "HTTP 307"))
    with hostile(lambda s, p, c: answer(s, c)) as server, \
            hostile(lambda s, p, c: None) as other:
        server.other = other.port
        event = _firing(org_a, f"http://127.0.0.1:{server.port}/hook")
        took, peak = measured(deliver_pending)
    event.refresh_from_db()
    state = event.recipients["webhook"]
    assert state["status"] == "failed" and named in state["error"], state
    assert took < DEADLINE + 3 and peak < 16, (case, took, peak)
    assert other.requests == [] and len(server.requests) == 1
    assert MARKER not in event.error + json.dumps(event.recipients)


def test_one_watchdog_thread_for_every_answer_and_an_earlier_deadline_still_wakes_it():
    """Every answer's deadline is kept by one thread of the process (a timer thread per
    answer was started and woken for every page a sync read); a watch that ends before the
    one the thread sleeps for wakes it, and its socket is shut down on time."""
    import threading
    from types import SimpleNamespace

    from sync.providers.transport import Watch

    later = Watch(60)  # the watchdog now sleeps until this one's deadline
    before = threading.active_count()
    for _ in range(200):
        Watch(60).cancel()
    assert threading.active_count() == before
    ours, theirs = socket.socketpair()
    try:
        soon = Watch(0.3)
        soon.register(SimpleNamespace(sock=ours))
        theirs.settimeout(5)
        start = time.monotonic()
        assert theirs.recv(1) == b""  # shut down by the watchdog
        assert 0.25 <= time.monotonic() - start < 2
        assert soon.expired and not later.expired
    finally:
        later.cancel()
        ours.close()
        theirs.close()


def test_the_environments_proxies_still_apply_looked_up_once_per_host(monkeypatch):
    """The session keeps the proxies the environment gives a host (requests scanned the
    whole environment for every request); NO_PROXY still exempts a host."""
    from sync.providers.transport import outbound_session

    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.setenv("NO_PROXY", "direct.example")
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
    session = outbound_session()
    merged = session.merge_environment_settings("https://api.example/v1/calls", {}, True,
                                                None, None)
    assert merged["proxies"]["https"] == "http://proxy.internal:3128"
    assert merged["stream"] is True and merged["verify"] is True
    assert "https" not in session.merge_environment_settings(
        "https://direct.example/x", {}, None, None, None)["proxies"]
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    assert session.merge_environment_settings("https://api.example/v1/x", {}, None, None,
                                              None)["verify"].endswith("ca-certificates.crt")
    monkeypatch.setenv("HTTPS_PROXY", "http://another.internal:3128")  # read once per host
    assert session.merge_environment_settings("https://api.example/v1/agents", {}, None,
                                              None, None)["proxies"]["https"] == \
        "http://proxy.internal:3128"
