"""A hostile upstream below the record level: a redirect to another host, a body that never
ends, a slow drip (body or headers), a gzip bomb, duplicate ids in one page.

The upstream is a tiny real server on a free port (raw sockets, so it can misbehave at any
byte). Each case checks the total deadline (tiny settings values keep the file fast), that
nothing of the body is echoed (run error, details, logs, sync page), and that nothing is lost
(the mirror, first filled from the simulator, is unchanged after the failed run). The memory
bound is measured on a child process (the sync command against a 40 MB Origins body of
whitespace-wide records).
"""
from __future__ import annotations

import json
import logging
import socket
import subprocess
import sys
import time
import zlib
from pathlib import Path

import pytest
from django.urls import reverse

from portal.models import EnvironmentStatus, Provider
from sync.engine import sync_environment
from sync.models import Call, RejectedRecord, SyncRun
from sync.models.core import RunStatus
from sync.quarantine import DUPLICATE_ID
from tests.support.hostile import GZIP_HEADER, MIB_OF_SPACES, Hostile, deflated, head, hostile
from tests.support.sync_support import ENV, mirror_diff, point_env, served, small_config

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent.parent
MARKER = "AKIA-LEAK-7f3c"  # in every hostile body: must never come back out
DEADLINE = 1.0


SECRET_JSON = json.dumps({"AccessKeyId": MARKER, "SecretAccessKey": MARKER}).encode()


def redirect_elsewhere(server: Hostile, path: str, conn: socket.socket) -> None:
    conn.sendall(head("302 Found", Location=f"http://localhost:{server.other}/latest/meta",
                      Content_Length=str(len(SECRET_JSON))) + SECRET_JSON)


def endless(server: Hostile, path: str, conn: socket.socket) -> None:
    conn.sendall(head() + b'{"success": true, "note": "' + MARKER.encode())
    while server.wait(0.01):
        conn.sendall(b" " * 1024)


def drip_body(server: Hostile, path: str, conn: socket.socket) -> None:
    conn.sendall(head(Content_Length="100000") + b'{"data": [')
    while server.wait(0.3):
        conn.sendall(b" ")


def drip_headers(server: Hostile, path: str, conn: socket.socket) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
    while server.wait(0.3):
        conn.sendall(b"a")


def talkover_bomb(server: Hostile, path: str, conn: socket.socket) -> None:
    """A gzip answer that inflates to 64 MiB (its end never comes: the cap is met first)."""
    start = deflated(b'{"success": true, "x": "' + MARKER.encode() + b'", "data": [')
    conn.sendall(head(Content_Encoding="gzip") + GZIP_HEADER + start + MIB_OF_SPACES * 64)


CASES = {
    "redirect_to_another_host": (redirect_elsewhere, "redirected to another host"),
    "endless_body": (endless, "answer too slow"),
    "slow_drip_body": (drip_body, "answer too slow"),
    "slow_drip_headers": (drip_headers, "answer too slow"),
    "gzip_bomb": (talkover_bomb, "answer too large"),
}


def _leaks(text: str) -> bool:
    return MARKER in text or "AccessKeyId" in text


def test_hostile_answers_fail_the_run_by_name_in_time_and_lose_nothing(
        org_a, alice, client, settings, caplog):
    settings.UPSTREAM_RESPONSE_DEADLINE_SECONDS = DEADLINE
    settings.UPSTREAM_MAX_RESPONSE_BYTES = 1024 * 1024
    client.force_login(alice)
    caplog.set_level(logging.DEBUG)
    with served(small_config(days=1, calls_per_day=5)) as (sim, upstream):
        env = point_env(org_a, sim, upstream)
        assert all(r.status == RunStatus.SUCCEEDED for r in
                   sync_environment(env, now=sim.now).runs)
        assert mirror_diff(env, sim) == []
        for case, (answer, named) in CASES.items():
            with hostile(answer) as server, hostile(lambda s, p, c: None) as other:
                server.other = other.port
                env.base_url = server.url
                env.save()
                began = time.monotonic()
                outcome = sync_environment(env, now=sim.now, streams=["agents"])
                took = time.monotonic() - began
            run = SyncRun.objects.get(pk=outcome.runs[0].pk)
            assert run.status == RunStatus.FAILED and named in run.error, (case, run.error)
            assert took < DEADLINE + 5, f"{case} held the run {took:.1f} s"
            assert len(server.requests) == 1, f"{case}: a hostile answer is asked for once"
            assert other.requests == [], "a redirect is never followed"
            env.refresh_from_db()
            assert env.status != EnvironmentStatus.AUTH_FAILED and "token" not in run.error
            assert mirror_diff(env, sim) == [], f"{case}: nothing lost"
            page = client.get(reverse("sync-status", args=[org_a.slug])).content.decode()
            shown = [run.error, json.dumps(run.details), caplog.text, page, env.status_reason]
            assert not any(_leaks(text) for text in shown), f"{case}: the body was echoed"


def test_duplicate_ids_in_a_page_are_quarantined_and_the_call_keeps_its_values(org_a):
    with served(small_config(days=1, calls_per_day=12, bad_record_rate=0.0)) as (sim, server):
        env = point_env(org_a, sim, server)
        sync_environment(env, now=sim.now)
        day_calls = list(sim.truth.calls(ENV, sim.today, sim.today))
        kept, impostor = day_calls[0], day_calls[1]
        before = {c.external_id: (c.status, c.duration, c.started_at, c.record)
                  for c in Call.objects.filter(environment=env)}
        # The impostor is served under the kept call's id: two records, one id, one page.
        sim.tamper(ENV).calls[impostor["id"]] = {"id": kept["id"]}
        run = SyncRun.objects.get(pk=sync_environment(env, now=sim.now,
                                                      streams=["calls"]).runs[0].pk)
        assert run.status == RunStatus.SUCCEEDED and run.rejected == 2
        rejected = RejectedRecord.objects.filter(environment=env, stream="calls")
        assert sorted(json.loads(r.payload)["sid"] for r in rejected) == \
            sorted([kept["sid"], impostor["sid"]]), "both copies kept whole"
        assert {r.reason for r in rejected} == {DUPLICATE_ID.format(count=2)}
        assert {r.day for r in rejected} == {sim.today}
        after = {c.external_id: (c.status, c.duration, c.started_at, c.record)
                 for c in Call.objects.filter(environment=env)}
        assert after == before, "nothing from either copy is written"
        assert any(str(sim.today) in note for note in run.details["reread"]), "day re-read"
        assert kept["id"] in run.details["duplicate_ids"][0]
        sim.untamper(ENV)
        sync_environment(env, now=sim.now, streams=["calls"])
        assert mirror_diff(env, sim) == [] and not RejectedRecord.objects.exists()


WIDE_RECORDS, WIDE_PAD = 800, 50_000  # 40 MB of JSON, every record 50 kB wide


def wide_origins_body(server: Hostile, path: str, conn: socket.socket) -> None:
    """An Origins array of valid records, each made wide by whitespace (legal JSON)."""
    pad = b" " * WIDE_PAD
    conn.sendall(head() + b"[")
    for n in range(WIDE_RECORDS):
        record = {"call_id": f"00000000-0000-4000-8000-{n:012d}", "call_agent_id": 7,
                  "call_status": "ANSWERED", "initiation_time": "2026-03-01T12:00:00Z",
                  "call_direction": "inbound", "call_duration": 60}
        first, rest = json.dumps(record).encode().split(b", ", 1)
        conn.sendall(b"%s%s, %s%s" % (b"," if n else b"", first, pad, rest))
    conn.sendall(b"]")


# The child's own resident memory once Django and the sync are loaded, then its peak (VmHWM):
# what the sync itself added.
MEASURE = """
import os, sys
import django
django.setup()
from django.core.management import call_command
import sync.engine, sync.providers.registry
def kib(field):
    with open("/proc/self/status") as status:
        return int(next(l for l in status if l.startswith(field)).split()[1])
base = kib("VmRSS:")
call_command("sync", "--env", sys.argv[1], "--stream", "calls", "--no-progress")
print(base, kib("VmHWM:"))
"""


@pytest.mark.django_db(transaction=True)  # the child process reads the environment
def test_memory_stays_flat_for_a_huge_wide_body_in_a_child_process(org_a, subprocess_env):
    from tests.support.origins import env_for

    with hostile(wide_origins_body) as server:
        env = env_for(org_a)
        env.base_url = f"http://127.0.0.1:{server.port}"
        env.save()
        out = subprocess.run(
            [sys.executable, "-c", MEASURE, str(env.pk)], cwd=ROOT, capture_output=True,
            text=True, timeout=120, env={**subprocess_env, "UPSTREAM_ALLOWED_HOSTS": "127.0.0.1",
                                         "DJANGO_SETTINGS_MODULE": "portal.settings"})
    assert out.returncode == 0, out.stderr[-2000:]
    base, peak = (int(v) / 1024 for v in out.stdout.split()[-2:])
    run = SyncRun.objects.get(environment=env, stream="calls")
    assert run.status == RunStatus.SUCCEEDED and run.created == WIDE_RECORDS, run.error
    body_mib = WIDE_RECORDS * WIDE_PAD / 2**20
    # Held whole, the body alone would add 38 MiB (and its parsed form several times more).
    assert peak - base < body_mib / 3, f"the sync grew {peak - base:.0f} MiB (from " \
                                       f"{base:.0f}) for a {body_mib:.0f} MiB body"


def test_an_endless_origins_array_stops_at_the_record_cap(org_a, settings):
    from tests.support.origins import env_for

    settings.UPSTREAM_MAX_STREAM_RECORDS = 300

    def endless_array(server: Hostile, path: str, conn: socket.socket) -> None:
        conn.sendall(head() + b"[")
        n = 0
        while server.wait(0.01):
            batch = [json.dumps({"call_id": f"00000000-0000-4000-9000-{n + i:012d}",
                                 "call_agent_id": 7, "call_status": "ANSWERED",
                                 "initiation_time": "2026-03-01T12:00:00Z"}).encode()
                     for i in range(100)]
            conn.sendall((b"," if n else b"") + b",".join(batch))
            n += 100

    with hostile(endless_array) as server:
        env = env_for(org_a)
        env.base_url = f"http://127.0.0.1:{server.port}"
        env.provider = Provider.ORIGINS
        env.save()
        run = SyncRun.objects.get(pk=sync_environment(env, streams=["calls"]).runs[0].pk)
    assert run.status == RunStatus.FAILED and "answer too large (over 300 records)" in run.error
    assert Call.objects.filter(environment=env).count() == 0, "nothing of it is written"
    assert len(server.requests) == 1


def test_the_bomb_really_inflates():
    # The gzip bomb is only hostile if it really inflates: its pieces, checked once.
    inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
    assert len(inflate.decompress(GZIP_HEADER + MIB_OF_SPACES * 3)) == 3 * 1024 * 1024
    assert len(MIB_OF_SPACES) < 5000


def test_the_connection_test_names_a_redirect_and_does_not_follow_it():
    from sync.providers.talkover.check import check as check_talkover

    with hostile(redirect_elsewhere) as server, hostile(lambda s, p, c: None) as other:
        server.other = other.port
        result = check_talkover(server.url, "talq_" + "r" * 40, [])
    assert (result.ok, result.field) == (False, "base_url")
    assert "redirects elsewhere (HTTP 302)" in result.message and not _leaks(result.message)
    assert other.requests == []


def test_an_endless_answer_holds_a_whole_sync_one_deadline(org_a, settings):
    # Three streams met the endless answer one after the other (three
    # deadlines: 181 s at the default 60 s). The first one to meet it stops the environment.
    settings.UPSTREAM_RESPONSE_DEADLINE_SECONDS = DEADLINE
    with hostile(endless) as server:
        env = _env_at(org_a, server.url)
        began = time.monotonic()
        outcome = sync_environment(env)
        took = time.monotonic() - began
    assert len(server.requests) == 1, server.requests
    runs = list(SyncRun.objects.filter(environment=env))
    assert len(runs) == 1 and runs[0].status == RunStatus.FAILED
    assert "answer too slow" in runs[0].error and "next run" in runs[0].details["stopped"]
    assert outcome.failed and took < 2 * DEADLINE + 2, took


def _env_at(org, url: str):
    from portal.models import Environment

    env = Environment(organization=org, name="Endless", base_url=url,
                      requests_per_minute=100000)
    env.set_token("talq_" + "e" * 40)
    env.save()
    return env


def test_a_drip_fed_origins_stream_ends_at_its_providers_deadline(org_a, settings):
    """A valid array that never ends, one record at a time: the stream's total deadline (the
    provider's own, `UPSTREAM_STREAM_DEADLINES`, over the general one) ends it, the run fails
    with one line naming the bound, nothing of it is written and nothing is echoed."""
    from tests.support.origins import env_for

    assert settings.UPSTREAM_STREAM_DEADLINE_SECONDS <= 300, "default at most 5 minutes"
    settings.UPSTREAM_STREAM_DEADLINE_SECONDS = 120  # the provider's own bound wins
    settings.UPSTREAM_STREAM_DEADLINES = {Provider.ORIGINS: DEADLINE}

    def drip_records(server: Hostile, path: str, conn: socket.socket) -> None:
        conn.sendall(head() + b"[")
        n = 0
        while server.wait(0.1):
            record = {"call_id": f"00000000-0000-4000-9000-{n:012d}", "call_agent_id": 7,
                      "call_status": "ANSWERED", "initiation_time": "2026-03-01T12:00:00Z",
                      "call_context": {"note": MARKER}}
            conn.sendall((b"," if n else b"") + json.dumps(record).encode())
            n += 1

    with hostile(drip_records) as server:
        env = env_for(org_a)
        env.base_url = f"http://127.0.0.1:{server.port}"
        env.save()
        began = time.monotonic()
        outcome = sync_environment(env, streams=["calls"])
        took = time.monotonic() - began
    run = SyncRun.objects.get(pk=outcome.runs[0].pk)
    assert run.status == RunStatus.FAILED
    assert run.error.endswith(f"answer too slow (not complete within {DEADLINE:g} s)")
    assert "\n" not in run.error and not _leaks(run.error + json.dumps(run.details))
    assert took < DEADLINE + 5, took
    assert Call.objects.filter(environment=env).count() == 0, "nothing of it is written"
    assert len(server.requests) == 1, "too slow is not retried"
