"""The provider boundary in words: no module or template outside `sync/providers/<name>/`
names a vendor — not in a key or an import (source_rules.provider_names), nor in a label, an
identifier, a string or a template's text — but where a vendor is named on purpose.

Read: a Python module's identifiers (names, attributes, definitions, arguments, keywords,
imports) and its string constants, docstrings and comments left out (they are for readers of
the code, never shown) but a class's or function's in an API module (`…/api/…`, `…api.py`),
which the OpenAPI schema publishes; a template's text, its `{# … #}` and `{% comment %}`
notes left out. A vendor is named by a word of its name, any case, as a word or a part of an
identifier ("Talkover", "talkover_days", "ORIGINS_QUALITY"), never inside another word.
"""
from __future__ import annotations

import ast
import re
from collections.abc import Iterator

# Where vendors may be named, and why.
ALLOWED = (
    "sync/providers/{name}/",  # a provider's own package names itself
    "portal/settings.py",  # the providers list (SWITCHBOARD_PROVIDERS) and per-vendor settings
    "portal/models/provider_choice.py",  # the stored choice, `Provider`
    "reports/talkover/",  # the compatible API is Talkover's by nature
    "/migrations/", "/locale/", "tests/", "docs/", "bench/",
)
SCANNED = ("portal/", "sync/", "reports/", "templates/")
SUFFIXES = (".py", ".html", ".txt")
# Words that are not vendors though they spell one ("CSRF_TRUSTED_ORIGINS": web origins),
# and the dotted path of the compatible API's package (`include("reports.talkover.urls")`).
NOT_VENDORS = re.compile(r"(?i)trusted_origins|allowed_origins|cors_\w*origins"
                         r"|\breports\.talkover\b")
_TEMPLATE_NOTES = re.compile(r"\{#.*?#\}|\{%\s*comment\s*%\}.*?\{%\s*endcomment\s*%\}", re.S)


def vendor_pattern(vendors: tuple[str, ...]) -> re.Pattern[str]:
    """A vendor's word: not preceded or followed by a letter ("_" and digits part words)."""
    return re.compile(r"(?i)(?<![a-z])(" + "|".join(map(re.escape, vendors)) + r")(?![a-z])")


def applies_to(rel: str, vendor: str) -> bool:
    if not rel.startswith(SCANNED) or not rel.endswith(SUFFIXES):
        return False
    allowed = [a.format(name=vendor) for a in ALLOWED]
    return not any(rel.startswith(a) if not a.startswith("/") else a in rel for a in allowed)


def _docstrings(tree: ast.Module, published: bool) -> set[int]:
    """ids of the docstring constants of the module, and of its classes and functions unless
    `published` (the OpenAPI schema shows those, never a module's)."""
    found = set()
    kinds = ast.Module if published else (
        ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
    for node in ast.walk(tree):
        if isinstance(node, kinds):
            first = node.body[0] if node.body else None
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def _published(rel: str) -> bool:
    """Its docstrings are shown: the OpenAPI schema describes operations by them."""
    return "/api/" in rel or rel.endswith("api.py")


def _python_words(text: str, published: bool = False) -> Iterator[tuple[int, str]]:
    """(line, text) of each identifier and string a module holds, docstrings left out unless
    `published`."""
    tree = ast.parse(text)
    docstrings = _docstrings(tree, published)
    for node in ast.walk(tree):
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if id(node) not in docstrings:
                yield line, node.value
        elif isinstance(node, ast.Name):
            yield line, node.id
        elif isinstance(node, ast.Attribute):
            yield line, node.attr
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            yield line, node.name
        elif isinstance(node, ast.arg):
            yield line, node.arg
        elif isinstance(node, ast.keyword) and node.arg:
            yield line, node.arg
        elif isinstance(node, ast.alias):
            yield line, f"{node.name} {node.asname or ''}"
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield line, node.module


def _template_words(text: str) -> Iterator[tuple[int, str]]:
    kept = _TEMPLATE_NOTES.sub(lambda m: "\n" * m.group(0).count("\n"), text)
    yield from enumerate(kept.splitlines(), 1)


# (where a sample lives, a text it flags, a text it passes)
SAMPLES = (
    ("portal/x.py", 'label = _("Agent ids (Origins AI)")\n',
     'label = _("Agent ids")\n# as Origins AI names them\n'),
    ("reports/x.py", "def origins_environments(envs):\n    pass\n",
     'def quality_environments(envs):\n    """Origins AI\'s, today."""\n'),
    ("sync/x.py", "x = Provider.VAPI\n", 'CSRF_TRUSTED_ORIGINS = ["x"]\n'),
    ("reports/api/x.py", 'def get(self):\n    """Origins transcripts."""\n',
     'def get(self):\n    """Transcripts."""\n'),
    ("templates/x.html", '{% translate "No Talkover calls" %}\n',
     "{# Talkover's words #}{{ env.spec.label }}\n"),
    ("sync/providers/origins/x.py", 'LABEL = "Retell"\n', 'LABEL = "Origins AI"\n'),
)


def defects(vendors: tuple[str, ...]) -> list[str]:
    """The rule flags its bad samples and passes its good ones."""
    found = []
    for rel, bad, good in SAMPLES:
        if not list(findings(rel, bad, vendors)):
            found.append(f"vendor_words misses its sample {bad!r}")
        if list(findings(rel, good, vendors)):
            found.append(f"vendor_words flags its sample {good!r}")
    return found


def findings(rel: str, text: str, vendors: tuple[str, ...]) -> Iterator[str]:
    """`path:line: …` for each vendor word where it may not be."""
    named = [v for v in vendors if applies_to(rel, v)]
    if not named:
        return
    pattern = vendor_pattern(tuple(named))
    words = _python_words(text, _published(rel)) if rel.endswith(".py") \
        else _template_words(text)
    seen = set()
    for line, word in words:
        for match in pattern.finditer(NOT_VENDORS.sub("", word)):
            vendor = match.group(1).lower()
            if (line, vendor) not in seen:
                seen.add((line, vendor))
                yield (f"{rel}:{line}: names the vendor {vendor!r} outside its package "
                       f"(its ProviderSpec says it: label, capabilities, words, hooks)")
