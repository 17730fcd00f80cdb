"""No import cycle in portal/, sync/ or reports/: a module never needs, even indirectly, a
module that needs it.

A cycle is hidden wiring: it works only in the order the modules happen to be imported, so
it is usually papered over with an import inside a function or under `TYPE_CHECKING`. Those
count here too (that is how they hide), and so does the package `__init__` a `from a.b.c
import x` runs first, unless the importing module lives inside that package (its own
package is always imported before it). Read with `ast`, nothing is imported.
"""
from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
APPS = ("portal", "sync", "reports")


def project_modules(root: Path = ROOT) -> dict[str, Path]:
    """Dotted name → file of every module of the apps (migrations left out)."""
    modules = {}
    for app in APPS:
        for path in sorted((root / app).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            if "migrations" in parts:
                continue
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join(parts)] = path
    return modules


def _absolute(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def imports_of(module: str, path: Path, known: Iterable[str]) -> set[str]:
    """The project modules `module` imports anywhere in its file (functions and
    `TYPE_CHECKING` blocks included), with the packages that import runs first."""
    known = set(known)
    named: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            named |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(module, path.name == "__init__.py", node)
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                named.add(sub if sub in known else base)
    found = set()
    for name in named:
        parts = name.split(".")
        for i in range(1, len(parts) + 1):
            prefix = ".".join(parts[:i])
            implicit = i < len(parts)
            if prefix in known and prefix != module and not (
                    implicit and (module + ".").startswith(prefix + ".")):
                found.add(prefix)
    return found


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(groups)


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    modules = project_modules(root)
    return {name: imports_of(name, path, modules) for name, path in modules.items()}


def test_no_import_cycle_in_the_apps():
    assert cycles(import_graph()) == []


def test_the_check_finds_hidden_cycles(tmp_path):
    """A cycle through an import inside a function, one through `TYPE_CHECKING`, and one
    through a package `__init__` are found; a submodule importing its own package is not."""
    files = {
        "reports/__init__.py": "",
        "reports/a.py": "def f():\n    from reports.b import g\n",
        "reports/b.py": "from reports import a\n",
        "reports/q/__init__.py": "from reports.q.calls import x\n",
        "reports/q/calls.py": "from reports.q.common import y\nfrom reports.f import z\n",
        "reports/q/common.py": "",
        "reports/f.py": "from reports.q.common import y\n",
        "sync/__init__.py": "",
        "sync/core.py": "from sync.server import S\n",
        "sync/server.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                          "    from .core import C\n",
        "portal/__init__.py": "",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    assert cycles(import_graph(tmp_path)) == [
        ["reports.a", "reports.b"],
        ["reports.f", "reports.q", "reports.q.calls"],
        ["sync.core", "sync.server"],
    ]
