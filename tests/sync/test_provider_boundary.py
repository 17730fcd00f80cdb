"""Providers are plugins (docs/extending.md, "Add a provider"): nothing outside
`sync/providers/<name>/` names a provider — its key as a literal, its `Provider.<NAME>` choice,
an upper-case constant of its name, or one of its modules. The exceptions are the places that
page's table names: the registry line, the provider choice (and migrations), tests; the
Talkover-compatible API (`reports/talkover/`, which speaks Talkover's envelope on purpose); and
the benchmarks, which, like tests, measure named providers (listed below: the list may only
shrink). Each provider's simulator lives in its package (`sync/providers/<name>/simulator.py` or
`simulator/`): the simulator core, `sync/simulator/`, names none, not even in its prose (checked
below)."""
from __future__ import annotations

import ast
from pathlib import Path

from portal.models import Provider

ROOT = Path(__file__).resolve().parent.parent.parent
CODE = ("portal", "reports", "sync", "bench")
# Modules that may name any provider.
ANY_PROVIDER = {"sync/providers/registry.py", "portal/models/environments.py"}
# Modules that may name these providers only (and why).
LEGACY = {
    # The compatible API serves Talkover's own envelope and parameters.
    "reports/talkover/": {"talkover"},
    # Benchmarks measure one provider's sync or simulator, as tests do.
    "bench/": {"talkover", "origins"},
}


def _allowed(rel: str, provider: str) -> bool:
    if rel in ANY_PROVIDER or rel.startswith(f"sync/providers/{provider}/"):
        return True
    return any(rel.startswith(prefix) and provider in names for prefix, names in LEGACY.items())


def _named(node: ast.AST, provider: str) -> bool:
    upper = provider.upper()
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value == provider or node.value.startswith(f"{provider}/")
    if isinstance(node, ast.Attribute):
        return node.attr == upper and isinstance(node.value, ast.Name) \
            and node.value.id == "Provider"
    if isinstance(node, ast.Name):
        return node.id == upper
    if isinstance(node, ast.ImportFrom) and node.module:
        module = f"sync.providers.{provider}"
        return node.module == module or node.module.startswith(module + ".") or (
            node.module == "sync.providers" and any(a.name == provider for a in node.names))
    if isinstance(node, ast.Import):
        return any(a.name.startswith(f"sync.providers.{provider}") for a in node.names)
    return False


def leaks() -> list[str]:
    found = []
    for app in CODE:
        for path in sorted((ROOT / app).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if "/migrations/" in rel:
                continue
            tree = ast.parse(path.read_text())
            for provider in Provider.values:
                if _allowed(rel, provider):
                    continue
                found += [f"{rel}:{node.lineno} names {provider}" for node in ast.walk(tree)
                          if _named(node, provider)]
    return found


def test_no_module_outside_a_provider_package_names_a_provider():
    assert leaks() == []


def test_the_check_sees_a_leak(tmp_path, monkeypatch):
    """The scan itself: each kind of naming is caught."""
    for source in ('x = "vapi"', "from sync.providers.vapi import spec",
                   "y = Provider.VAPI", "z = VAPI", 'form = "talkover/1"'):
        tree = ast.parse(source)
        assert any(_named(node, p) for node in ast.walk(tree) for p in ("vapi", "talkover"))


def test_the_simulator_core_names_no_provider_even_in_prose():
    """The core (server, clock, faults, config) is the same for every vendor: a provider's
    name anywhere in it, docstrings and comments included, means vendor knowledge leaked back
    from its plug-in."""
    named = []
    for path in sorted((ROOT / "sync" / "simulator").rglob("*.py")):
        text = path.read_text().lower()
        named += [f"{path.relative_to(ROOT)} names {p}" for p in Provider.values if p in text]
    assert named == []
