"""Webhook deliveries: a new Talkover environment's signing secret made at
creation and shown once, unsigned deliveries refused once it exists, a replayed delivery
accepted but triggering nothing, a chunked body read within the 64 KB cap."""
from __future__ import annotations

import io
import re
from io import StringIO

import pytest
from django.core.management import call_command

from portal.models import Environment
from sync.engine import sync_environment
from sync.models import SyncRun
from sync.models.core import Trigger
from sync.providers.talkover.webhook import signature
from sync.webhooks.receiver import MAX_BODY_BYTES
from tests.support.sync_support import ENV, point_env, served, small_config


def hook(env: Environment) -> str:
    return f"/hooks/talkover/{env.ensure_webhook_key()}/"


def signed(env: Environment, body: bytes) -> dict[str, str]:
    return {"X-Talkover-Signature": f"sha256={signature(env.get_webhook_secret(), body)}"}


def runs(env: Environment) -> int:
    return SyncRun.objects.filter(environment=env, trigger=Trigger.WEBHOOK).count()


def test_a_new_talkover_environment_shows_its_secret_once_and_refuses_unsigned(
        org_a, alice, client, monkeypatch):
    with served(small_config(days=1, calls_per_day=5)) as (sim, server):
        client.force_login(alice)
        page = client.post(f"/o/{org_a.slug}/settings/environments/add/", {
            "name": "Sales", "provider": "talkover", "base_url": server.talkover_url,
            "token": sim.tokens[ENV], "sync_interval_minutes": 15, "backfill_days": 1})
        assert page.status_code == 201, page.content[:500]
        env = Environment.objects.for_organization(org_a).get(name="Sales")
        secret = env.get_webhook_secret()
        assert secret and secret in page.text and hook(env) in page.text
        # Shown once: the page afterwards has the hint only.
        later = client.get(f"/o/{org_a.slug}/settings/environments/{env.pk}/webhooks/").text
        assert secret not in later and env.webhook_secret_hint in later
        # Unsigned deliveries are refused from the start; a signed one is taken.
        body = b'{"event":"event_phone_call_ended"}'
        assert client.post(hook(env), data=body, content_type="application/json").status_code \
            == 401
        assert client.post(hook(env), data=body, content_type="application/json",
                           headers=signed(env, body)).status_code == 202

        # The command line: the secret on standard error, once; the id on standard output.
        out, err = StringIO(), StringIO()
        monkeypatch.setattr("sys.stdin", StringIO(sim.tokens[ENV] + "\n"))
        call_command("addenv", org_a.slug, "Support", "--provider", "talkover", "--base-url",
                     server.talkover_url, "--token-stdin", stdout=out, stderr=err)
        made = Environment.objects.for_organization(org_a).get(name="Support")
        assert out.getvalue().startswith(f"Added environment {made.pk} ")
        assert re.search(r"shown only now\): (whsec_\S+)", err.getvalue()).group(1) \
            == made.get_webhook_secret()


@pytest.fixture
def hooked_env(org_a):
    """A small Talkover environment, synced once, with a webhook secret; served meanwhile."""
    with served(small_config(days=1, calls_per_day=20)) as (sim, server):
        env = point_env(org_a, sim, server)
        assert not sync_environment(env, now=sim.now).failed
        env.replace_webhook_secret()
        yield env


def test_a_replayed_delivery_is_accepted_but_triggers_nothing(hooked_env, client, eager_tasks):
    env = hooked_env
    body = b'{"event":"event_phone_call_ended","call":{"id":"c-1"}}'
    first = client.post(hook(env), data=body, content_type="application/json",
                        headers=signed(env, body))
    assert first.status_code == 202 and runs(env) == 1
    again = client.post(hook(env), data=body, content_type="application/json",
                        headers=signed(env, body))
    assert again.status_code == 200 and runs(env) == 1
    # Another delivery (another body) is no replay.
    other = b'{"event":"event_phone_call_ended","call":{"id":"c-2"}}'
    assert client.post(hook(env), data=other, content_type="application/json",
                       headers=signed(env, other)).status_code == 202
    assert runs(env) == 2


def _chunked(client, env: Environment, body: bytes, sign: bytes | None = None):
    """As gunicorn hands over a chunked request: no Content-Length, the framing removed."""
    return client.post(hook(env), data=b"", content_type="application/json",
                       headers=signed(env, body if sign is None else sign),
                       CONTENT_LENGTH="", HTTP_TRANSFER_ENCODING="chunked",
                       **{"wsgi.input": io.BytesIO(body)})


def test_a_chunked_body_is_read_within_the_cap(hooked_env, client, eager_tasks):
    env = hooked_env
    body = b'{"event":"event_phone_call_ended"}'
    # Read as empty, its signature would not match (403).
    assert _chunked(client, env, body).status_code == 202
    assert runs(env) == 1
    # The signature of an empty body does not pass for a chunked one.
    assert _chunked(client, env, body, sign=b"").status_code == 403
    big = b"x" * (MAX_BODY_BYTES + 1)
    assert _chunked(client, env, big).status_code == 413
    assert runs(env) == 1
