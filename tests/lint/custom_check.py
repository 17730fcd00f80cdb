"""The project's own rules about its source, checked by `make lint` (modelled on Zulip's
tools/linter_lib/custom_check.py): each rule says what it forbids, where, and why, and carries
lines it must flag and lines it must pass, checked before every run, so a rule that cannot fail
is found at once.

Line rules are regular expressions over each line (or over a whole file); the rules that need
the syntax tree (function length, provider names, the tenant door, day math) are in
tests/lint/source_rules.py, and the provider boundary in words (no label, identifier, string
or template text naming a vendor outside its package) in tests/lint/vendor_words.py.
`python -m tests.lint.custom_check` prints one `path:line: what is wrong` per finding and
exits 1 if there is any.
"""
from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tests.lint import source_rules, vendor_words

ROOT = Path(__file__).resolve().parent.parent.parent
APPS = ("portal", "sync", "reports")
# What is read: the project's own text (not the virtualenv, the demo's var/, vendored assets,
# translations, binary files).
SCANNED = ("portal", "sync", "reports", "tests", "bench", "docs", "templates", "static",
           "README.md", "Makefile", ".ci/run", "pyproject.toml", "manage.py", "Procfile")
SUFFIXES = {".py", ".md", ".html", ".txt", ".css", ".js", ".toml", ".json", ".yml", ".yaml",
            ".sh", ""}
NEVER = ("static/vendor/", "__pycache__/", "tests/lint/custom_check.py")


@dataclass(frozen=True)
class Rule:
    description: str
    pattern: str
    include_only: tuple[str, ...] = ()  # path prefixes (or suffixes, starting with ".")
    exclude: tuple[str, ...] = ()
    whole_file: bool = False  # the pattern is matched across lines
    bad_lines: tuple[str, ...] = field(default=())
    good_lines: tuple[str, ...] = field(default=())

    def applies_to(self, rel: str) -> bool:
        def named(prefixes: tuple[str, ...]) -> bool:
            return any(rel.endswith(p) if p.startswith(".") else rel.startswith(p)
                       for p in prefixes)
        return (not self.include_only or named(self.include_only)) and not named(self.exclude)


def _provider_names() -> tuple[str, ...]:
    return tuple(sorted(p.parent.name for p in (ROOT / "sync" / "providers").glob("*/spec.py")))


# Vendors named nowhere but in their package (tests/lint/vendor_words.py): every provider
# package's, and those known before their package is (a vendor being added).
KNOWN_VENDORS = ("talkover", "origins", "vapi", "retell")


def _vendors() -> tuple[str, ...]:
    return tuple(sorted({*KNOWN_VENDORS, *_provider_names()}))


RULES: tuple[Rule, ...] = (
    Rule("a tracker reference: say the rule or the reason itself, not where it was asked for",
         r"(?i)\b(?:issues?|tickets?)\s*#?\d+",
         bad_lines=("# issue 57: the clock runs behind", '"""Coverage (issue 16)."""',
                    "(issues 36 and 44)", "Issue 26.7, the smaller points"),
         good_lines=("# an issue with the clock", "the second issue it raised")),
    Rule("an engine branch or a second implementation for another engine: one engine, "
         "PostgreSQL, so every figure has one implementation",
         r"connection\.vendor|connections\[[^\]]*\]\.vendor|\bas_sqlite\b|sqlite3"
         r"|json_extract|def (?!to_python\()\w+_python\w*\(",
         include_only=tuple(f"{app}/" for app in APPS), exclude=("migrations/",),
         bad_lines=("if connection.vendor == 'postgresql':", "def as_sqlite(self):",
                    "def figures_python(rows):"),
         good_lines=("def to_python(self, value):", "with connection.cursor() as c:")),
    Rule("a test skipped for the engine: every test runs on PostgreSQL",
         r"skip\w*\((?:[^()]|\([^()]*\))*?(?:vendor|sqlite|postgres)",
         include_only=("tests/",), whole_file=True,
         bad_lines=('@pytest.mark.skipif(connection.vendor != "postgresql", reason="x")',),
         good_lines=('@pytest.mark.skipif(not ROOT.exists(), reason="needs a clone")',)),
    Rule("the webhooks' coalescing keys outside sync/webhooks/coalesce.py, their one door",
         r"sync:hook:(?:queued|event)", include_only=tuple(f"{app}/" for app in APPS),
         exclude=("sync/webhooks/coalesce.py",),
         bad_lines=('QUEUED = "sync:hook:queued:{env}"',), good_lines=("coalesce.queued(env)",)),
    Rule("an email link made absolute outside portal/emails.py (absolute_url), its one door",
         r"PORTAL_BASE_URL\.rstrip", include_only=tuple(f"{app}/" for app in APPS),
         exclude=("portal/emails.py",),
         bad_lines=("base = settings.PORTAL_BASE_URL.rstrip('/')",),
         good_lines=("link = absolute_url(path)",)),
    Rule("a report page's frame built outside reports/pages/page_cache.py: pages are kept by "
         "its one decorator, kept_page", r"\bPageFrame\.", include_only=("reports/",),
         exclude=("reports/pages/page_cache.py",),
         bad_lines=("frame = PageFrame.build(request)",), good_lines=("@kept_page('calls')",)),
    Rule("portal/ importing sync/ or reports/ by name: tenancy is the floor (signals, task "
         "names and reverse relations reach it instead)",
         r"""import_module\(\s*["'](?:sync|reports)\b""", include_only=("portal/",),
         bad_lines=('import_module("sync.tasks")',),
         good_lines=('import_module("portal.checks")',)),
    Rule("a provider named in the simulator core (docstrings and comments too): the core is "
         "the same for every vendor; a provider's simulator lives in its package",
         r"(?i)" + "|".join(_provider_names()), include_only=("sync/simulator/",),
         bad_lines=("# as Talkover pages its calls",), good_lines=("# as the plug-in pages",)),
)


def _files() -> Iterator[tuple[str, Path]]:
    for name in SCANNED:
        top = ROOT / name
        for path in sorted(top.rglob("*")) if top.is_dir() else [top]:
            rel = path.relative_to(ROOT).as_posix()
            if (path.is_file() and path.suffix in SUFFIXES
                    and not any(part in rel for part in NEVER)):
                yield rel, path


def _line_findings(rule: Rule, rel: str, text: str) -> Iterator[str]:
    pattern = re.compile(rule.pattern, re.S if rule.whole_file else 0)
    if rule.whole_file:
        for match in pattern.finditer(text):
            yield f"{rel}:{text.count(chr(10), 0, match.start()) + 1}: {rule.description}"
        return
    for number, line in enumerate(text.splitlines(), 1):
        if pattern.search(line):
            yield f"{rel}:{number}: {rule.description}"


def rule_defects() -> list[str]:
    """Each rule flags its bad lines and passes its good ones (Zulip's check of its rules)."""
    defects = []
    for rule in RULES:
        pattern = re.compile(rule.pattern, re.S if rule.whole_file else 0)
        if not rule.bad_lines:
            defects.append(f"rule without a line it flags: {rule.description}")
        defects += [f"rule misses {line!r}: {rule.description}"
                    for line in rule.bad_lines if not pattern.search(line)]
        defects += [f"rule flags {line!r}: {rule.description}"
                    for line in rule.good_lines if pattern.search(line)]
    return defects + source_rules.rule_defects() + vendor_words.defects(_vendors())


def findings() -> list[str]:
    found = []
    vendors = _vendors()
    for rel, path in _files():
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            continue
        for rule in RULES:
            if rule.applies_to(rel):
                found += _line_findings(rule, rel, text)
        if rel.endswith(".py"):
            found += source_rules.findings(rel, text, _provider_names())
        found += vendor_words.findings(rel, text, vendors)
    return found


def main() -> int:
    defects = rule_defects()
    for defect in defects:
        print(f"tests/lint: {defect}", file=sys.stderr)
    if defects:
        return 2
    found = findings()
    for line in found:
        print(line)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
