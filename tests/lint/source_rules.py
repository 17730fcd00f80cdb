"""The rules of tests/lint/custom_check.py that read the syntax tree, each a function from a
module's tree to its findings, with a module it must flag and one it must pass (checked
before every run)."""
from __future__ import annotations

import ast
from collections.abc import Callable, Iterator

APPS = ("portal/", "sync/", "reports/")
LONGEST = 60  # lines of a function, its docstring left out
# Modules that may name any provider: the stored provider choice.
ANY_PROVIDER = {"portal/models/provider_choice.py"}
# Modules that may name these providers only (and why); the list may only shrink.
LEGACY = {
    # The compatible API serves Talkover's own envelope and parameters.
    "reports/talkover/": {"talkover"},
    # Benchmarks measure one provider's sync or simulator, as tests do.
    "bench/": {"talkover", "origins"},
}
# Day math a report could take from the sync instead of reports/days.py.
SYNC_DAY_MATH = {"sync.write.rollups", "sync.write.ledger"}


def _in_apps(rel: str) -> bool:
    return rel.startswith(APPS) and "/migrations/" not in rel


def long_functions(rel: str, tree: ast.Module, providers: tuple[str, ...]) -> Iterator[str]:
    """A long function is a recipe whose steps have no names: none over LONGEST lines in the
    apps, from its `def` line to the end of its body, its docstring left out."""
    if not _in_apps(rel):
        return
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            first = node.body[0]
            docstring = (first.end_lineno - first.lineno + 1
                         if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
                         and isinstance(first.value.value, str) else 0)
            lines = node.end_lineno - node.lineno + 1 - docstring
            if lines > LONGEST:
                yield (f"{rel}:{node.lineno}: {node.name} is {lines} lines, over {LONGEST}: "
                       f"name its steps")


def _names_provider(node: ast.AST, provider: str) -> bool:
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


def provider_names(rel: str, tree: ast.Module, providers: tuple[str, ...]) -> Iterator[str]:
    """Providers are plug-ins: nothing outside sync/providers/<name>/ names one (its key, its
    Provider.<NAME> choice, an upper-case constant of its name, one of its modules), but the
    provider choice and LEGACY; tests and migrations may."""
    if not rel.startswith((*APPS, "bench/")) or "/migrations/" in rel:
        return
    for provider in providers:
        if rel in ANY_PROVIDER or rel.startswith(f"sync/providers/{provider}/") or any(
                rel.startswith(prefix) and provider in names for prefix, names in LEGACY.items()):
            continue
        for node in ast.walk(tree):
            if _names_provider(node, provider):
                yield (f"{rel}:{node.lineno}: names the provider {provider} outside "
                       f"sync/providers/{provider}/ (its spec says what it has)")


def tenant_not_slug(rel: str, tree: ast.Module, providers: tuple[str, ...]) -> Iterator[str]:
    """`org_page` resolves the slug once and hands the view its `tenant`; a view that took the
    slug again could look it up again. (`with_scope`, reports/pages/params.py, takes the
    tenant and hands its organisation on with the request's scope.)"""
    if not rel.startswith(("portal/", "reports/")):
        return
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and any(
                "org_page" in ast.unparse(d) for d in node.decorator_list):
            args = [a.arg for a in node.args.args + node.args.kwonlyargs]
            scoped = any("with_scope" in ast.unparse(d) for d in node.decorator_list)
            if "org_slug" in args or ("tenant" not in args and not scoped):
                yield f"{rel}:{node.lineno}: {node.name} must take the tenant org_page gives"


def day_math(rel: str, tree: ast.Module, providers: tuple[str, ...]) -> Iterator[str]:
    """Reports take day math from reports/days.py only (bucket_bounds is durations, not days;
    the sync page reads the ledger's rows, not its day math)."""
    if not rel.startswith("reports/") or rel in {"reports/days.py",
                                                 "reports/pages/sync_status.py"}:
        return
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module in SYNC_DAY_MATH:
            days = {a.name for a in node.names} - {"bucket_bounds"}
            if node.module == "sync.write.ledger" or days:
                yield f"{rel}:{node.lineno}: day math from {node.module}: use reports/days.py"


def settings_mount(rel: str, tree: ast.Module, providers: tuple[str, ...]) -> Iterator[str]:
    """Settings pages are mounted by the one `o/<slug>/settings/` include of portal/urls.py:
    no other URL module names the settings path (its docstring may)."""
    if not rel.endswith("urls.py") or rel == "portal/urls.py" or not _in_apps(rel):
        return
    docstring = ast.get_docstring(tree, clean=False)
    for node in ast.walk(tree):
        if (isinstance(node, ast.Constant) and isinstance(node.value, str)
                and node.value != docstring and "settings/" in node.value):
            yield f"{rel}:{node.lineno}: a settings path outside portal/urls.py's one include"


RULES: tuple[tuple[Callable[..., Iterator[str]], str, str, str], ...] = (
    # (rule, where a sample lives, a module it flags, a module it passes)
    (long_functions, "sync/x.py",
     "def f():\n" + "".join(f"    a{i} = {i}\n" for i in range(LONGEST)),
     'def f():\n    """Doc\n    string."""\n' + "".join(f"    a{i} = {i}\n"
                                                      for i in range(LONGEST - 1))),
    (provider_names, "reports/x.py", 'KIND = "vapi"\n', 'KIND = spec.key\n'),
    (tenant_not_slug, "reports/x.py", "@org_page()\ndef v(request, org_slug):\n    pass\n",
     "@org_page()\ndef v(request, tenant):\n    pass\n"),
    (day_math, "reports/x.py", "from sync.write.rollups import local_day\n",
     "from sync.write.rollups import bucket_bounds\n"),
    (settings_mount, "reports/x/urls.py", 'urlpatterns = [path("settings/x/", v)]\n',
     '"""Mounted under settings/ by portal/urls.py."""\nurlpatterns = [path("x/", v)]\n'),
)


def rule_defects() -> list[str]:
    defects = []
    for rule, rel, bad, good in RULES:
        if not list(rule(rel, ast.parse(bad), ("vapi",))):
            defects.append(f"{rule.__name__} misses its sample {bad!r}")
        if list(rule(rel, ast.parse(good), ("vapi",))):
            defects.append(f"{rule.__name__} flags its sample {good!r}")
    return defects


def findings(rel: str, text: str, providers: tuple[str, ...]) -> list[str]:
    tree = ast.parse(text, rel)
    return [found for rule, *_ in RULES for found in rule(rel, tree, providers)]
