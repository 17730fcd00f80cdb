"""An import-linter contract type: no import cycle between modules (`make lint`).

import-linter's own `acyclic_siblings` forbids cycles between whole sibling packages, a
stricter rule than the project's: here a module never needs, even indirectly, a module that
needs it. Every import counts, inside a function or under TYPE_CHECKING too (that is how a
cycle hides), and so does the package `__init__` that `from a.b.c import x` runs first,
unless the importer lives inside that package (its own package is imported before it).
Migrations are left out."""
from __future__ import annotations

import grimp
from importlinter.application import output
from importlinter.domain.contract import Contract, ContractCheck


def _edges(graph: grimp.ImportGraph) -> dict[str, set[str]]:
    """Each module's imports, with the packages those imports run first."""
    modules = {m for m in graph.modules if ".migrations" not in m}
    edges: dict[str, set[str]] = {}
    for importer in modules:
        found = edges.setdefault(importer, set())
        for imported in graph.find_modules_directly_imported_by(importer) & modules:
            parts = imported.split(".")
            for i in range(1, len(parts) + 1):
                package = ".".join(parts[:i])
                implicit = i < len(parts)
                if package in modules and package != importer and not (
                        implicit and importer.startswith(package + ".")):
                    found.add(package)
    return edges


def module_cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """The groups of modules that need each other (Tarjan's strongly connected components
    of more than one module), each sorted."""
    edges = _edges(graph)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(edges[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = stack[stack.index(node):]
            del stack[stack.index(node):]
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return sorted(groups)


class NoModuleCycleContract(Contract):
    type_name = "no_module_cycle"

    def check(self, graph: grimp.ImportGraph, verbose: bool) -> ContractCheck:
        cycles = module_cycles(graph)
        return ContractCheck(kept=not cycles, metadata={"cycles": cycles})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for cycle in check.metadata["cycles"]:
            output.print_error("these modules need each other: " + ", ".join(cycle))
            output.new_line()
