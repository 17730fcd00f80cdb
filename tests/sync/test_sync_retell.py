"""The Retell provider against the simulator's Retell API over real HTTP: exact after every
run (back-fill, incremental, equal start times across page boundaries, cost and analysis that
come after a call ends, 429s, calls that appear late), its connection check and `addenv`, and
its webhook signature."""
from __future__ import annotations

import io
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from portal.models import Environment, Provider
from sync.engine import sync_environment
from sync.models import Agent, Call, CallRollup
from sync.models.core import Judgement
from sync.providers.retell.check import check
from sync.providers.retell.records import status_of
from sync.providers.retell.webhook import signature, verify_signature
from sync.simulator import running_simulator
from tests.support.retell import KEY, retell_config, retell_env, upstream_calls

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _unpaced(settings):
    settings.RETELL_REQUESTS_PER_MINUTE = 100000


def _at(ms):
    return None if ms is None else datetime.fromtimestamp(ms / 1000, UTC)


def _expected(item: dict) -> tuple:
    """What the mirror must hold for one upstream record (the columns the reports read)."""
    analysis = item.get("call_analysis") or {}
    success = analysis.get("call_successful")
    cost = item.get("call_cost")
    return (item, status_of(item["call_status"], item.get("disconnection_reason", "")),
            item["call_status"],
            "web" if item["call_type"] == "web_call" else item["direction"],
            item["agent_id"], _at(item["start_timestamp"]), _at(item.get("end_timestamp")),
            item.get("disconnection_reason", ""),
            Decimal(repr(cost["combined_cost"])) / 100 if cost else None,
            analysis.get("call_summary", ""),
            Judgement.NOT_EVALUATED if success is None else
            Judgement.SUCCEEDED if success else Judgement.FAILED,
            item.get("disconnection_reason") == "call_transfer",
            item.get("disconnection_reason") == "voicemail_reached")


def retell_diff(env, sim, server) -> list[str]:
    """Every difference between the mirror and what the upstream lists (empty = exact)."""
    want = upstream_calls(sim, server)
    mirror = {c.external_id: c for c in Call.objects.filter(environment=env)}
    problems = []
    if set(want) != set(mirror):
        problems.append(f"ids differ: {len(want)} upstream, {len(mirror)} mirrored, "
                        f"{len(set(want) - set(mirror))} missing")
    for cid in set(want) & set(mirror):
        call = mirror[cid]
        got = (call.record, call.status, call.provider_status, call.direction,
               call.agent_external_id, call.started_at, call.ended_at, call.hangup_cause,
               call.vendor_cost, call.summary, call.judgement, call.transferred,
               call.voicemail)
        if got != _expected(want[cid]):
            problems.append(f"call {cid}: {got[1:]} != {_expected(want[cid])[1:]}")
    rolled = sum(CallRollup.objects.filter(environment=env).values_list("count", flat=True))
    if rolled != len(mirror):
        problems.append(f"rollups count {rolled} calls, mirror has {len(mirror)}")
    return problems[:10]


def _synced(env, sim):
    outcome = sync_environment(env, now=sim.now)
    assert not outcome.failed, [r.error for r in outcome.runs]


def test_a_backfill_then_incremental_runs_are_exact_across_ties_and_pages(org_a, settings):
    # Pages of 7: page boundaries fall inside runs of equal start timestamps.
    settings.RETELL_PAGE_SIZE = 7
    with running_simulator(retell_config(days=3, calls_per_day=60)) as (sim, server):
        starts = [c["start_timestamp"] for c in upstream_calls(sim, server).values()]
        assert len(starts) - len(set(starts)) > 10  # ties are real
        env = retell_env(org_a, sim, server)
        _synced(env, sim)
        assert retell_diff(env, sim, server) == []
        assert Agent.objects.filter(environment=env).count() == 2
        assert not Call.objects.filter(environment=env, agent__isnull=True).exists()
        # Calls end, their cost and analysis come in, new ones start: exact after each run.
        for step in (timedelta(minutes=20), timedelta(hours=3), timedelta(hours=30)):
            sim.advance(step)
            _synced(env, sim)
            assert retell_diff(env, sim, server) == [], step


def test_analysis_that_comes_hours_after_the_end_is_mirrored_when_it_comes(org_a):
    with running_simulator(retell_config(days=2)) as (sim, server):
        now = sim.now_ts() * 1000
        store = sim.store(KEY)
        late = next(c for c in store.day(sim.today.toordinal())
                    if c.end < now and c.analysed > now + 600_000
                    and c.reason not in ("dial_no_answer", "dial_busy"))
        env = retell_env(org_a, sim, server)
        _synced(env, sim)
        call = Call.objects.get(environment=env, external_id=late.call_id)
        assert (call.status, call.judgement, call.summary) == \
            ("completed", Judgement.NOT_EVALUATED, "")
        sim.advance(timedelta(milliseconds=late.analysed - now + 1000))
        _synced(env, sim)
        call.refresh_from_db()
        assert call.judgement == (Judgement.SUCCEEDED if late.successful else Judgement.FAILED)
        assert call.judgement_raw == ("true" if late.successful else "false")
        assert call.analysis_fields["user_sentiment"] == late.sentiment
        assert retell_diff(env, sim, server) == []


def test_a_call_that_ends_late_is_mirrored_when_it_ends(org_a):
    with running_simulator(retell_config(days=2)) as (sim, server):
        store = sim.store(KEY)
        now = sim.now_ts() * 1000
        target = next(c for c in store.day(sim.today.toordinal())
                      if c.end < now - 3_600_000 and c.reason == "user_hangup")
        sim.end_late(KEY, target.call_id, sim.now + timedelta(hours=20))
        env = retell_env(org_a, sim, server)
        _synced(env, sim)
        assert Call.objects.get(environment=env, external_id=target.call_id).status == \
            "answered"
        sim.advance(timedelta(hours=21))
        _synced(env, sim)
        call = Call.objects.get(environment=env, external_id=target.call_id)
        assert call.status == "completed" and call.vendor_cost is not None
        assert retell_diff(env, sim, server) == []


def test_429s_and_calls_that_appear_late_still_end_exact(org_a, settings):
    settings.RETELL_PAGE_SIZE = 50
    with running_simulator(retell_config(days=2, calls_per_day=200),
                           spec="insert=5@2,429=0.15:0,500=0.05") as (sim, server):
        env = retell_env(org_a, sim, server)
        _synced(env, sim)
        answers = [r.status for r in server.request_log]
        assert 429 in answers
        sim.faults = None  # the test's own reading of the upstream
        inserted = sim.store(KEY).inserted
        assert len(inserted) == 5
        assert retell_diff(env, sim, server) == []


def test_the_connection_check_makes_one_cheap_request():
    with running_simulator(retell_config(days=1)) as (sim, server):
        url = server.url_of("retell")
        server.clear_log()
        assert check(url, sim.tokens[KEY], []).ok
        assert [(r.method, r.path) for r in server.request_log] == \
            [("POST", "/v3/list-calls")]
        refused = check(url, "key_" + "0" * 40, [])
        assert not refused.ok and refused.field == "token"
        wrong = check(server.base_url + "/api/v1", sim.tokens[KEY], [])
        assert not wrong.ok and wrong.field == "base_url"


def test_addenv_checks_a_retell_key_with_one_request_and_saves_nothing_when_refused(
        org_a, monkeypatch):
    with running_simulator(retell_config(days=1)) as (sim, server):
        url = server.url_of("retell")
        server.clear_log()
        monkeypatch.setattr("sys.stdin", io.StringIO("key_" + "1" * 40 + "\n"))
        with pytest.raises(CommandError, match="token"):
            call_command("addenv", org_a.slug, "Voice", "--provider", Provider.RETELL,
                         "--base-url", url, "--token-stdin")
        assert not Environment.objects.filter(organization=org_a).exists()
        monkeypatch.setattr("sys.stdin", io.StringIO(sim.tokens[KEY] + "\n"))
        call_command("addenv", org_a.slug, "Voice", "--provider", Provider.RETELL,
                     "--base-url", url, "--token-stdin", stderr=io.StringIO(),
                     stdout=io.StringIO())
        env = Environment.objects.get(name="Voice")
        assert env.provider == Provider.RETELL and env.get_token() == sim.tokens[KEY]
        assert [r.path for r in server.request_log] == ["/v3/list-calls"] * 2


def test_a_signature_is_checked_against_the_api_key_and_its_time():
    body, key = b'{"event": "call_analyzed", "call": {"call_id": "c1"}}', "key_" + "a" * 40
    now = 1_790_000_000_000
    signed = {"X-Retell-Signature": signature(key, body, now)}
    assert verify_signature(signed, body, key, now_ms=now) is True
    assert verify_signature(signed, body + b" ", key, now_ms=now) is False
    assert verify_signature(signed, body, "key_" + "b" * 40, now_ms=now) is False
    # Replayed later than the tolerance: refused, though the digest matches.
    assert verify_signature(signed, body, key, now_ms=now + 6 * 60_000) is False
    assert verify_signature({"X-Retell-Signature": "v=abc,d=00"}, body, key) is False
    assert verify_signature({}, body, key) is None


def test_deliveries_through_the_door_need_retells_signature(org_a):
    with running_simulator(retell_config(days=1)) as (sim, server):
        env = retell_env(org_a, sim, server)
        # Retell signs with the workspace's API key: the spec says so; no secret is made.
        assert env.first_webhook_secret() is None
        assert not env.webhook_secret_ciphertext
        url = f"/hooks/{Provider.RETELL}/{env.ensure_webhook_key()}/"
        body = b'{"event": "call_ended", "call": {"call_id": "c1"}}'
        client = Client()
        assert client.post(url, body, content_type="application/json").status_code == 401
        forged = signature("key_" + "0" * 40, body, int(time.time() * 1000))
        assert client.post(url, body, content_type="application/json",
                           headers={"X-Retell-Signature": forged}).status_code == 403
        good = signature(sim.tokens[KEY], body, int(time.time() * 1000))
        answer = client.post(url, body, content_type="application/json",
                             headers={"X-Retell-Signature": good})
        assert answer.status_code in (200, 202), answer.content
