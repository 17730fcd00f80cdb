"""The Vapi provider against the simulator's Vapi API over real HTTP: exact after every run
(back-fill, incremental, ties and the 1,000 limit, calls that change or appear while we
read), its connection check, and its webhooks as signed triggers."""
from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from portal.models import Environment, Provider
from sync.engine import sync_environment
from sync.models import Agent, Call, CallRollup, SyncRun
from sync.models.core import RunStatus, Trigger
from sync.providers.registry import provider_for
from sync.providers.vapi import window
from sync.providers.vapi.check import check
from sync.providers.vapi.client import VapiClient
from sync.providers.vapi.records import vapi_status
from sync.providers.vapi.webhook import signature
from sync.simulator import running_simulator
from sync.tasks import webhook_sync
from tests.support.vapi import KEY, upstream_calls, vapi_config, vapi_env

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _unpaced(settings):
    settings.VAPI_REQUESTS_PER_MINUTE = 100000


def _when(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


def vapi_diff(env, sim, server) -> list[str]:
    """Every difference between the mirror and what the upstream lists (empty = exact)."""
    want = upstream_calls(sim, server, sim.start_date, sim.today)
    mirror = {c.external_id: c for c in Call.objects.filter(environment=env)}
    problems = []
    if set(want) != set(mirror):
        problems.append(f"ids differ: {len(want)} upstream, {len(mirror)} mirrored, "
                        f"{len(set(want) - set(mirror))} missing")
    for cid in set(want) & set(mirror):
        item, call = want[cid], mirror[cid]
        direction = {"inboundPhoneCall": "inbound", "outboundPhoneCall": "outbound"}.get(
            item["type"], "web")
        expected = (item, vapi_status(item["status"], item.get("endedReason") or "",
                                      _when(item.get("startedAt"))), item["status"],
                    direction, item["assistantId"], _when(item["createdAt"]),
                    _when(item.get("endedAt")), item.get("endedReason") or "",
                    Decimal(repr(item["cost"])) if "cost" in item else None,
                    item.get("costBreakdown"))
        got = (call.record, call.status, call.provider_status, call.direction,
               call.agent_external_id, call.started_at, call.ended_at, call.hangup_cause,
               call.vendor_cost, call.cost_breakdown)
        if got != expected:
            problems.append(f"call {cid}: {got[1:]} != {expected[1:]}")
    rolled = sum(CallRollup.objects.filter(environment=env).values_list("count", flat=True))
    if rolled != len(mirror):
        problems.append(f"rollups count {rolled} calls, mirror has {len(mirror)}")
    return problems[:10]


def test_a_backfill_then_incremental_runs_are_exact(org_a):
    with running_simulator(vapi_config()) as (sim, server):
        env = vapi_env(org_a, sim, server)
        outcome = sync_environment(env, now=sim.now)
        assert not outcome.failed, [r.error for r in outcome.runs]
        assert vapi_diff(env, sim, server) == []
        assert Agent.objects.filter(environment=env).count() == 3
        assert Call.objects.filter(environment=env, agent__isnull=True).count() == 0
        # Calls end, new ones start, an open one ends hours late: exact after each run.
        for step in (timedelta(minutes=20), timedelta(hours=3), timedelta(hours=30)):
            sim.advance(step)
            outcome = sync_environment(env, now=sim.now)
            assert not outcome.failed, [r.error for r in outcome.runs]
            assert vapi_diff(env, sim, server) == []


def test_an_incremental_run_reads_only_what_changed(org_a):
    with running_simulator(vapi_config()) as (sim, server):
        env = vapi_env(org_a, sim, server)
        sync_environment(env, now=sim.now)
        server.clear_log()
        sim.advance(timedelta(minutes=5))
        sync_environment(env, streams=["calls"], now=sim.now)
        listings = [r for r in server.request_log if r.path == "/call"]
        assert len(listings) == 1 and "updatedAtGe" in listings[0].query
        assert vapi_diff(env, sim, server) == []


def test_ties_and_the_limit_split_windows_until_every_answer_is_short(org_a):
    """2,400 calls a day at whole seconds: many share an instant, and every day's (and the
    open range's) first answer is full, so windows are halved until answers are short."""
    with running_simulator(vapi_config(days=2, calls_per_day=2400)) as (sim, server):
        env = vapi_env(org_a, sim, server)
        outcome = sync_environment(env, now=sim.now)
        assert not outcome.failed, [r.error for r in outcome.runs]
        run = [r for r in outcome.runs if r.stream == "calls"][0]
        assert run.details["requests_by_kind"]["splits"] > 0
        assert vapi_diff(env, sim, server) == []


def test_one_instant_holding_more_than_the_limit_is_split_by_creation_time():
    calls = [{"id": f"c{i}", "updatedAt": "2026-09-20T10:00:00.000Z",
              "createdAt": f"2026-09-20T09:{i // 60:02d}:{i % 60:02d}.000Z"} for i in range(30)]

    def fetch(limit, **bounds):
        def ok(item):
            for key, value in bounds.items():
                field, op = key[:-2], key[-2:]
                mine = window.instant_of(item, field)
                bound = _when(value)
                if (op == "Ge" and mine < bound) or (op == "Le" and mine > bound):
                    return False
            return True
        return [c for c in calls if ok(c)][:limit]

    seen: dict[str, dict] = {}
    reader = window.Reader(fetch, lambda items: seen.update({i["id"]: i for i in items}),
                           limit=10)
    reader.open(window.UPDATED, datetime(2026, 9, 20, tzinfo=UTC))
    assert set(seen) == {c["id"] for c in calls}


def test_calls_inserted_while_we_page_and_faults_still_end_exact(org_a):
    with running_simulator(vapi_config(days=3, calls_per_day=900),
                           spec="insert=7@2,500=0.1") as (sim, server):
        env = vapi_env(org_a, sim, server)
        outcome = sync_environment(env, now=sim.now)
        assert not outcome.failed, [r.error for r in outcome.runs]
        inserted = sim.store(KEY).inserted
        assert len(inserted) == 7
        sim.faults = None  # the test's own reading of the upstream
        assert vapi_diff(env, sim, server) == []
        assert Call.objects.filter(environment=env,
                                   external_id__in=[c.id for c in inserted]).count() == 7


def test_a_late_status_is_mirrored_when_it_comes(org_a):
    with running_simulator(vapi_config(days=2)) as (sim, server):
        store = sim.store(KEY)
        target = next(c for c in store.day(sim.today.toordinal())
                      if c.started is not None and c.final < sim.now_ts() * 1000 - 3_600_000)
        sim.end_late(KEY, target.id, sim.now + timedelta(hours=20))
        env = vapi_env(org_a, sim, server)
        sync_environment(env, now=sim.now)
        assert Call.objects.get(environment=env, external_id=target.id).status == "answered"
        sim.advance(timedelta(hours=21))
        sync_environment(env, now=sim.now)
        assert Call.objects.get(environment=env, external_id=target.id).status == "completed"
        assert vapi_diff(env, sim, server) == []


def test_the_connection_check_makes_one_cheap_request():
    with running_simulator(vapi_config(days=1)) as (sim, server):
        server.clear_log()
        assert check(server.base_url, sim.tokens[KEY], []).ok
        assert [(r.path, r.query.get("limit")) for r in server.request_log] == \
            [("/assistant", "1")]
        refused = check(server.base_url, "vapi_" + "0" * 40, [])
        assert not refused.ok and refused.field == "token"
        wrong = check(server.base_url + "/api/v1", sim.tokens[KEY], [])
        assert not wrong.ok and wrong.field == "base_url"


def test_a_client_refuses_an_answer_longer_than_asked():
    with running_simulator(vapi_config(days=1)) as (sim, server):
        client = VapiClient(server.base_url, sim.tokens[KEY])
        assert len(client.calls(limit=5)) == 5


def test_webhooks_are_signed_triggers_through_the_one_door(org_a, settings):
    with running_simulator(vapi_config(days=1)) as (sim, server):
        env = vapi_env(org_a, sim, server)
        sync_environment(env, now=sim.now)
        env.refresh_from_db()
        secret = env.replace_webhook_secret()
        key = env.ensure_webhook_key()
        body = b'{"message": {"type": "end-of-call-report", "call": {"id": "x"}}}'
        client = Client()
        url = f"/hooks/{Provider.VAPI}/{key}/"
        assert client.post(url, body, content_type="application/json").status_code == 401
        assert client.post(url, body, content_type="application/json",
                           headers={"X-Vapi-Signature": "0" * 64}).status_code == 403
        signed = client.post(url, body, content_type="application/json",
                             headers={"X-Vapi-Signature": signature(secret, body)})
        assert signed.status_code == 202, signed.content
        other = body + b" "
        assert client.post(url, other, content_type="application/json",
                           headers={"X-Vapi-Secret": secret}).status_code == 202
        # The key of a Vapi environment is no Talkover address.
        assert client.post(f"/hooks/{Provider.TALKOVER}/{key}/", body,
                           content_type="application/json").status_code == 404
        webhook_sync.apply((env.pk,))  # what the queued task does (no worker here)
        runs = list(SyncRun.objects.filter(environment=env)
                    .values_list("trigger", "status", "error"))
        assert (Trigger.WEBHOOK, RunStatus.SUCCEEDED, "") in runs, runs


def test_addenv_checks_a_vapi_key_with_one_request(org_a, monkeypatch):
    with running_simulator(vapi_config(days=1)) as (sim, server):
        server.clear_log()
        monkeypatch.setattr("sys.stdin", io.StringIO("vapi_" + "1" * 40 + "\n"))
        with pytest.raises(CommandError, match="token"):
            call_command("addenv", org_a.slug, "Voice", "--provider", Provider.VAPI,
                         "--base-url", server.base_url, "--token-stdin")
        assert not Environment.objects.filter(name="Voice").exists()
        monkeypatch.setattr("sys.stdin", io.StringIO(sim.tokens[KEY] + "\n"))
        call_command("addenv", org_a.slug, "Voice", "--provider", Provider.VAPI,
                     "--base-url", server.base_url, "--token-stdin", stderr=io.StringIO(),
                     stdout=io.StringIO())
        env = Environment.objects.get(name="Voice")
        assert env.provider == Provider.VAPI and env.base_url == server.base_url
        assert [r.path for r in server.request_log] == ["/assistant", "/assistant"]


def test_a_vapi_environment_left_at_the_default_pace_keeps_to_vapis(org_a, settings):
    settings.VAPI_REQUESTS_PER_MINUTE = 60
    with running_simulator(vapi_config(days=1)) as (sim, server):
        default = Environment.objects.create(organization=org_a, name="Default",
                                             provider=Provider.VAPI)
        default.set_token(sim.tokens[KEY])
        own = vapi_env(org_a, sim, server, requests_per_minute=600)
        assert provider_for(default).client(default).budget.limit == 60
        assert provider_for(own).client(own).budget.limit == 600
