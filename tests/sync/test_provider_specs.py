"""Providers behind one table: what differs per provider is declared once, in its
package (`sync/providers/<name>/spec.py`), registered with `portal.providers`, and looked up
everywhere else: no module outside `sync/providers/` compares a provider's name."""
from __future__ import annotations

import ast
import hashlib
import hmac
import re
from pathlib import Path

import pytest

from portal import providers
from portal.models import Environment, Provider
from sync.providers.registry import ADAPTERS

ROOT = Path(__file__).resolve().parent.parent.parent
CODE = ("portal", "sync", "reports")


def _outside_providers() -> list[Path]:
    return [p for app in CODE for p in (ROOT / app).rglob("*.py")
            if "migrations" not in p.parts and (ROOT / "sync" / "providers") not in p.parents]


def test_every_provider_has_its_spec_registered():
    assert set(providers.registered()) == set(Provider.values) == set(ADAPTERS)
    for key, adapter in ADAPTERS.items():
        assert adapter.spec.key == key and providers.spec_for(key) is adapter.spec
        assert adapter.spec.statuses, key


def test_no_module_outside_the_providers_compares_a_provider_name():
    found = []
    for path in _outside_providers():
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Compare):
                continue
            for side in (node.left, *node.comparators):
                if isinstance(side, ast.Attribute) and isinstance(side.value, ast.Name) \
                        and side.value.id == "Provider":
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
                elif isinstance(side, ast.Constant) and side.value in Provider.values \
                        and "provider" in ast.unparse(node):  # not the simulator's `vendor`
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    named = re.compile(r"provider\s*[!=]=\s*[\"'](" + "|".join(Provider.values) + ")")
    templates = [f"{p.relative_to(ROOT)}" for p in (ROOT / "templates").rglob("*.html")
                 if named.search(p.read_text())]
    assert not found and not templates, found + templates


def test_a_provider_nobody_registered_has_no_capability():
    spec = providers.spec_for("nobody")
    assert not (spec.webhooks or spec.quality or spec.agent_ids or spec.not_sent)
    with pytest.raises(ValueError):
        providers.having("no-such-capability")


def test_environments_read_their_spec():
    talkover = Environment(provider=Provider.TALKOVER)
    origins = Environment(provider=Provider.ORIGINS)
    assert talkover.spec.webhooks and not origins.spec.webhooks
    assert origins.spec.agent_ids and origins.spec.quality and origins.spec.whole_history
    assert "transcript" in talkover.spec.not_sent and "transcript" not in origins.spec.not_sent
    assert origins.spec.not_sent == {"voicemail"}
    assert providers.having("quality") == [Provider.ORIGINS]


def test_a_provider_registers_webhooks_through_its_api_exactly_when_it_says_so():
    """The settings page and the command offer registration by the spec; the request is the
    adapter's: one without the other would offer what cannot be done, or hide what can."""
    for key, adapter in ADAPTERS.items():
        assert adapter.spec.registers_webhooks == (adapter.webhook_registration is not None), key
        if adapter.webhook_registration is not None:
            assert adapter.spec.webhooks, key
            path, body = adapter.webhook_registration("a1", "https://p.example/hooks/x/k/", "s")
            assert "a1" in path and "https://p.example/hooks/x/k/" in str(body), key


def _signed_with(headers, body: bytes, secret: str) -> bool | None:
    given = headers.get("X-Test-Signature")
    if given is None:
        return None
    return hmac.compare_digest(given, hmac.new(secret.encode(), body, hashlib.sha256).hexdigest())


@pytest.fixture
def own_secret_provider(monkeypatch):
    """A provider whose deliveries are signed with the account's API key (its own scheme)."""
    spec = providers.ProviderSpec(key="keysigned", label="Key-signed", webhooks=True,
                                  verify_signature=_signed_with,
                                  webhook_secret=lambda env: env.get_token(),
                                  webhook_secret_words="the account's API key")
    monkeypatch.setitem(providers._SPECS, spec.key, spec)
    return spec


@pytest.mark.django_db
def test_a_provider_with_its_own_secret_scheme_signs_with_it_and_none_is_made(
        own_secret_provider, org_a, client):
    env = Environment.objects.create(organization=org_a, name="Keyed", provider="keysigned",
                                     sync_enabled=False)
    env.set_token("key_account_api_key_0001")
    env.save()
    assert env.first_webhook_secret() is None and not env.webhook_secret_ciphertext
    assert env.get_webhook_secret() == "key_account_api_key_0001"
    url, body = f"/hooks/keysigned/{env.ensure_webhook_key()}/", b'{"event": "call_ended"}'

    def post(secret: str) -> int:
        signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        return client.post(url, data=body, content_type="application/json",
                           headers={"X-Test-Signature": signature}).status_code

    assert post("a secret we made") == 403
    assert post("key_account_api_key_0001") == 202  # checked; this one syncs on no webhook
    assert client.post(url, data=body, content_type="application/json").status_code == 401


@pytest.mark.django_db
def test_the_webhooks_page_of_a_provider_with_its_own_scheme_makes_and_offers_no_secret(
        own_secret_provider, org_a, alice, client):
    env = Environment.objects.create(organization=org_a, name="Keyed", provider="keysigned")
    page = f"/o/{org_a.slug}/settings/environments/{env.pk}/webhooks/"
    client.force_login(alice)
    shown = client.get(page).text
    assert "Signing secret: the account&#x27;s API key" in shown
    assert 'value="new_secret"' not in shown and "signs its deliveries by its own scheme" in shown
    assert client.post(page, {"action": "new_secret"}).status_code == 400
    env.refresh_from_db()
    assert not env.webhook_secret_ciphertext and not env.webhook_secret_hint


def test_labels_having_names_the_providers_of_a_capability_and_an_agent_id_parses_by_spec():
    assert providers.labels_having("quality") == str(providers.spec_for(Provider.ORIGINS).label)
    parse = providers.spec_for(Provider.ORIGINS).parse_agent_id
    assert parse("4012") == 4012
    with pytest.raises(ValueError, match="whole numbers"):
        parse("agent_x")
    assert Environment(provider=Provider.ORIGINS,
                       provider_settings={"agent_ids": ["12", 34]}).agent_ids == [12, 34]
    assert Environment(provider="nobody", provider_settings={"agent_ids": ["a1"]}).agent_ids == [
        "a1"]
