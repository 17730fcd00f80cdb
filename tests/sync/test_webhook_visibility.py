"""Webhooks that show what happened: refused deliveries counted and listed
on the sync page, the registration's outcome per agent without a reload, a new secret marks
the agents as needing registration again, a secret never made without being shown; in both
languages."""
from __future__ import annotations

import re

from portal.models import Environment
from sync.providers.talkover.webhook import signature
from sync.tasks import register_webhooks
from sync.webhooks.receiver import MAX_BODY_BYTES
from tests.support.sync_support import ENV, point_env, served, small_config

PT = {"HTTP_ACCEPT_LANGUAGE": "pt-BR"}


def hook(env: Environment) -> str:
    return f"/hooks/talkover/{env.ensure_webhook_key()}/"


def test_refused_deliveries_are_counted_and_listed_on_the_sync_page(
        org_a, org_b, alice, carol, client):
    env = Environment.objects.create(organization=org_a, name="Sales", provider="talkover")
    env.replace_webhook_secret()
    body = b'{"event":"event_phone_call_ended"}'
    assert client.post(hook(env), data=body, content_type="application/json").status_code == 401
    assert client.post(hook(env), data=body, content_type="application/json",
                       headers={"X-Talkover-Signature": "sha256=" + "0" * 64}).status_code == 403
    big = b"x" * (MAX_BODY_BYTES + 1)
    assert client.post(hook(env), data=big, content_type="application/json",
                       headers={"X-Talkover-Signature": signature(env.get_webhook_secret(),
                                                                  big)}).status_code == 413
    origins = Environment.objects.create(organization=org_a, name="Voice", provider="origins")
    assert client.post(hook(origins), data=body,
                       content_type="application/json").status_code == 404

    client.force_login(alice)
    page = client.get(f"/o/{org_a.slug}/sync/").text
    assert "3 webhook deliveries refused in the last week" in page
    assert "1 webhook delivery refused in the last week" in page  # the Origins address
    for reason in ("unsigned: no signature header", "the signature does not match the body",
                   "the body is over 64 KB", "not an address this environment takes webhooks at"):
        assert reason in page, reason
    assert f"Time ({org_a.timezone})" in page
    pt = client.get(f"/o/{org_a.slug}/sync/", **PT).text
    assert "3 entregas de webhook recusadas na última semana" in pt
    assert "a assinatura não confere com o corpo" in pt
    # Another organisation's page says nothing of them.
    client.force_login(carol)
    assert "webhook" not in client.get(f"/o/{org_b.slug}/sync/").text.lower()


def test_registration_outcome_appears_without_a_reload_and_a_new_secret_marks_it(
        org_a, alice, client, eager_tasks, monkeypatch):
    with served(small_config(days=1, calls_per_day=5)) as (sim, server):
        env = point_env(org_a, sim, server)
        page = f"/o/{org_a.slug}/settings/environments/{env.pk}/webhooks/"
        client.force_login(alice)
        # No secret yet: registering makes one, and this answer shows it (never silent).
        assert not env.webhook_secret_hint
        queued = []
        monkeypatch.setattr("portal.pages.views.enqueue", lambda *a: queued.append(a))
        answer = client.post(page, {"action": "register"})
        env.refresh_from_db()
        assert answer.status_code == 200 and env.get_webhook_secret() in answer.text
        assert queued and queued[0][0] == "sync.register_webhooks"
        # Queued, not run yet: the page says so and carries the script that fetches it again
        # until the outcome is in.
        waiting = client.get(page).text
        assert 'data-pending="true"' in waiting and "js/webhooks.js" in waiting
        assert env.get_webhook_secret() not in waiting
        register_webhooks(env.pk, "https://portal.example.com")  # the worker runs it
        done = client.get(page).text  # what the script fetches
        assert 'data-pending="false"' in done
        agents = sim.truth.agents(ENV)
        assert f"Last registration: {len(agents)} of {len(agents)} agents" in done
        assert "needs registering again" not in done

        # A new secret: shown once, and every registered agent needs registering again.
        fresh = client.post(page, {"action": "new_secret"}).text
        env.refresh_from_db()
        assert env.get_webhook_secret() in fresh
        stale = client.get(page).text
        assert stale.count("needs registering again (new secret)") == len(agents)
        pt = client.get(page, **PT).text
        assert "precisa ser registrado de novo (novo segredo)" in pt
        assert "O segredo de assinatura mudou depois deste registro" in pt
        # Registering again (eager: at once) clears it, no secret made silently this time.
        monkeypatch.undo()
        hint = env.webhook_secret_hint
        assert client.post(page, {"action": "register"}).status_code == 302
        env.refresh_from_db()
        assert env.webhook_secret_hint == hint
        again = client.get(page).text
        assert "needs registering again" not in again and 'data-pending="false"' in again
        assert re.search(r"Last registration: (\d+) of \1 agents", again)
