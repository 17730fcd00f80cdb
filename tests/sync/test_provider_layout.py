"""One provider, one package: the layout the engine reads, and no import cycle in `sync`."""
from __future__ import annotations

import ast
from pathlib import Path

from portal.models import Provider
from sync.providers.registry import ADAPTERS

SYNC = Path(__file__).resolve().parent.parent.parent / "sync"


def _module_name(path: Path) -> str:
    parts = path.relative_to(SYNC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every module the file imports, inside functions too: a deferred import hides a cycle."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_every_provider_has_one_package_with_client_streams_and_records():
    for provider in Provider.values:
        package = SYNC / "providers" / provider
        assert {"client.py", "streams.py", "records.py"} <= {p.name for p in package.iterdir()}
        assert provider in ADAPTERS


def test_sync_modules_import_each_other_without_a_cycle():
    modules = {_module_name(p): p for p in SYNC.rglob("*.py")
               if "migrations" not in p.parts and "simulator" not in p.parts}
    graph = {name: {m for m in _imports(path) if m in modules and m != name}
             for name, path in modules.items()}
    visiting: list[str] = []
    done: set[str] = set()

    def visit(name: str) -> None:
        assert name not in visiting, " -> ".join(visiting[visiting.index(name):] + [name])
        if name in done:
            return
        visiting.append(name)
        for dep in sorted(graph[name]):
            visit(dep)
        visiting.pop()
        done.add(name)

    for name in sorted(graph):
        visit(name)
