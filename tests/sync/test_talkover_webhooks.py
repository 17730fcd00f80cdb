"""Talkover webhooks as sync triggers: the receiver's checks, coalescing, registration on the
agents (command and settings page), and a call ended upstream on the pages within 10 s."""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
import requests
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.test import Client

from portal.models import Environment
from sync.engine import sync_environment
from sync.models import Call, CallRollup, SyncRun
from sync.models.core import Trigger
from sync.providers.talkover.webhook import signature
from sync.webhooks.coalesce import queued_key
from sync.webhooks.receiver import MAX_BODY_BYTES
from sync.webhooks.register import register
from tests.support.sync_support import ENV, point_env, served, small_config


def hook_path(env: Environment) -> str:
    return f"/hooks/talkover/{env.ensure_webhook_key()}/"


def post(client, env: Environment, body: bytes = b'{"event":"x"}', sign: str | None = None):
    headers = {"X-Talkover-Signature": f"sha256={sign}"} if sign else {}
    return client.post(hook_path(env), data=body, content_type="application/json",
                       headers=headers)


def webhook_runs(env: Environment) -> int:
    return SyncRun.objects.filter(environment=env, trigger=Trigger.WEBHOOK).count()


def test_the_receiver_checks_key_signature_and_size_and_queues_one_run(org_a, client, eager_tasks):
    with served(small_config(days=1, calls_per_day=20)) as (sim, server):
        env = point_env(org_a, sim, server)
        sync_environment(env, now=sim.now)
        env.refresh_from_db()
        scheduled = env.next_sync_at
        secret = env.new_webhook_secret()
        env.save()
        assert secret not in str(Environment.objects.filter(pk=env.pk).values().get())
        assert client.post("/hooks/talkover/no-such-key/", data=b"{}",
                           content_type="application/json").status_code == 404
        assert client.get(hook_path(env)).status_code == 405
        assert post(client, env).status_code == 401
        assert post(client, env, sign="0" * 64).status_code == 403
        big = b"x" * (MAX_BODY_BYTES + 1)
        assert post(client, env, big, sign=signature(secret, big)).status_code == 413
        assert webhook_runs(env) == 0
        # Any body (not JSON, not Talkover's) is only a trigger once signed right.
        body = b"\x00 not json"
        assert post(client, env, body, sign=signature(secret, body)).status_code == 202
        run = SyncRun.objects.get(environment=env, trigger=Trigger.WEBHOOK)
        assert run.stream == "calls" and run.status == "succeeded", run.error
        # It leaves the schedule alone (lookback and callback stats keep their time).
        env.refresh_from_db()
        assert env.next_sync_at == scheduled
        # While a run is queued, events join it instead of queueing another.
        cache.set(queued_key(env.pk), 1, 60)
        for n in range(5):  # five deliveries (the same one again would be a replay)
            each = body + str(n).encode()
            answer = post(client, env, each, sign=signature(secret, each))
            assert answer.status_code == 202 and "joined" in answer.json()["detail"]
        assert webhook_runs(env) == 1
        # A paused environment is left to its schedule.
        cache.delete(queued_key(env.pk))
        Environment.objects.filter(pk=env.pk).update(sync_enabled=False)
        body += b"paused"
        assert post(client, env, body, sign=signature(secret, body)).status_code == 202
        assert webhook_runs(env) == 1
        # An Origins environment has no hook.
        origins = Environment.objects.create(organization=org_a, name="O", provider="origins",
                                             base_url=server.origins_url)
        assert client.post(hook_path(origins), data=b"{}",
                           content_type="application/json").status_code == 404


def test_registration_says_per_agent_when_the_token_may_not(org_a, alice, bob, client, eager_tasks):
    with served(small_config(days=1, calls_per_day=5)) as (sim, server):
        env = point_env(org_a, sim, server)
        agents = sim.truth.agents(ENV)
        sim.forbid_webhooks(ENV, agents[0]["id"])
        # Registration never makes a secret nobody sees: the doors make one (shown once) first.
        with pytest.raises(ValueError, match="no webhook signing secret"):
            register(env, "https://portal.example.com")
        assert env.first_webhook_secret()
        result = register(env, "https://portal.example.com")
        assert result.url == f"https://portal.example.com{hook_path(env)}"
        assert result.registered == len(agents) - 1
        refused = [a for a in result.agents if not a.ok]
        assert [a.id for a in refused] == [agents[0]["id"]] and "403" in refused[0].message
        regs = sim.webhooks.registrations[ENV]
        assert {r.url for r in regs} == {result.url}
        # Deliveries are signed with the environment's (now set) secret.
        env.refresh_from_db()
        assert {r.secret for r in regs} == {env.get_webhook_secret()} != {""}

        # The settings page: owners/admins only; the secret only as a hint, or once when new.
        page = f"/o/{org_a.slug}/settings/environments/{env.pk}/webhooks/"
        client.force_login(bob)
        assert client.get(page).status_code == 403
        client.force_login(alice)
        shown = client.get(page).content.decode()
        assert hook_path(env) in shown and env.webhook_secret_hint in shown
        assert env.get_webhook_secret() not in shown and "403" in shown
        fresh = client.post(page, {"action": "new_secret"}).content.decode()
        env.refresh_from_db()
        assert env.get_webhook_secret() in fresh
        assert env.get_webhook_secret() not in client.get(page).content.decode()
        assert client.post(page, {"action": "register"}).status_code == 302
        assert len(sim.webhooks.registrations[ENV]) == 2 * (len(agents) - 1)

        # The command says plainly when no agent can be registered.
        sim.forbid_webhooks(ENV)
        with pytest.raises(CommandError, match="no agent"):
            call_command("talkover_webhooks", str(env.pk), "--register")


@pytest.mark.django_db(transaction=True)
def test_a_call_ended_upstream_is_on_the_pages_within_10_seconds(
        live_server, org_a, alice, settings, eager_tasks):
    # The in-process worker path of `make demo`: the hook answers at once and the queued task
    # runs on a background thread, as a worker would, against committed data.
    settings.TASKS_IN_BACKGROUND = True
    # The upstream's clock at 12:00 of our date, whatever the hour the suite runs at (with
    # the wall's, the test skipped itself just after midnight: no call of today had ended).
    today = datetime.now(UTC).date()
    config = small_config(days=1, calls_per_day=400, end_date=today,
                          now=datetime(today.year, today.month, today.day, 12, tzinfo=UTC))
    with served(config) as (sim, server):
        now = sim.now_ts()
        with sim.lock:
            recs = sim.talkover_store(ENV).day(sim.today.toordinal()).recs
            ended = [r for r in recs if r.t_ans >= 0 and r.t0 + 5 < r.t_end <= now - 5]
        rec = ended[0]
        sim.set_now(datetime.fromtimestamp(rec.t0 + 2, UTC))
        env = point_env(org_a, sim, server, backfill_days=1)
        assert not sync_environment(env).failed
        call = Call.objects.get(environment=env, external_id=rec.id)
        assert call.status != rec.final
        env.first_webhook_secret()  # made at creation by every door (shown once)
        assert register(env, live_server.url).registered > 0

        started = time.monotonic()
        sim.set_now(datetime.fromtimestamp(rec.t_end + 1, UTC))  # Talkover sends its webhook
        client = Client()
        client.force_login(alice)
        while True:
            call.refresh_from_db()
            if call.status == rec.final:
                page = client.get(f"/o/{org_a.slug}/calls/{call.pk}/")
                if page.status_code == 200 and str(call.get_status_display()) in page.text:
                    break
            assert time.monotonic() - started < 10, "not on the pages within 10 s"
            time.sleep(0.1)
        assert CallRollup.objects.filter(environment=env, status=rec.final).exists()
        assert webhook_runs(env) >= 1

        # A burst of events costs at most a few runs, never one per event.
        _wait_idle(env)
        before = webhook_runs(env)
        def event(n: int) -> int:
            body = b'{"event":"event_phone_call_ended","n":%d}' % n
            sign = signature(env.get_webhook_secret(), body)
            return requests.post(f"{live_server.url}{hook_path(env)}", data=body, timeout=30,
                                 headers={"X-Talkover-Signature": sign}).status_code

        with ThreadPoolExecutor(20) as pool:
            assert set(pool.map(event, range(20))) == {202}
        _wait_idle(env)
        # Rounds are paced by their cost (sync.webhooks.pacing): however slow the machine
        # delivers the 20 events, a handful of runs serve them all.
        assert 1 <= webhook_runs(env) - before <= 5


def _wait_idle(env: Environment) -> None:
    """Until no webhook run is queued or running (background threads)."""
    deadline = time.monotonic() + 20
    while cache.get(queued_key(env.pk)) or SyncRun.objects.filter(
            environment=env, status="running").exists():
        assert time.monotonic() < deadline, (
            cache.get(queued_key(env.pk)),
            list(SyncRun.objects.filter(environment=env).values_list("trigger", "status")))
        time.sleep(0.1)
