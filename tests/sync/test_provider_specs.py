"""Providers behind one table: what differs per provider is declared once, in its
package (`sync/providers/<name>/spec.py`), registered with `portal.providers`, and looked up
everywhere else: no module outside `sync/providers/` compares a provider's name."""
from __future__ import annotations

import ast
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
