"""Tenancy is the floor: nothing under portal/ imports sync/ or reports/ (at module level or
inside a function), so settings, organisations, roles, tokens and access can be read and
changed without the reading or writing sides. They reach portal through signals
(`portal.signals`), task names (`portal.tasks_client`) and reverse relations instead.
"""
from __future__ import annotations

import ast
import importlib
from pathlib import Path

PORTAL = Path(__file__).resolve().parent.parent.parent / "portal"
FORBIDDEN = ("sync", "reports")
# Nothing is exempt: the per-page sync health lives in sync/health.py (a context processor)
# and the demo command in sync/management/commands/demo.py.
MOVING: set[str] = set()


def imported_modules(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(
                node.func, "id", "")) == "import_module" and node.args and isinstance(
                node.args[0], ast.Constant):
            found.append((node.lineno, str(node.args[0].value)))
    return found


def violations() -> list[str]:
    bad = []
    for path in sorted(PORTAL.rglob("*.py")):
        relative = path.relative_to(PORTAL).as_posix()
        if relative.startswith("migrations/"):
            continue
        for line, module in imported_modules(path):
            top = module.split(".")[0]
            if relative in MOVING and top == "sync":
                continue
            if top in FORBIDDEN:
                bad.append(f"portal/{relative}:{line} imports {module}")
    return bad


def test_portal_imports_nothing_from_sync_or_reports():
    assert violations() == []


def test_the_check_sees_imports_in_functions_too(tmp_path, monkeypatch):
    sneaky = tmp_path / "portal"
    sneaky.mkdir()
    (sneaky / "x.py").write_text("def f():\n    from sync.models import Call\n"
                                 "import reports.api.views\n")
    monkeypatch.setattr(importlib.import_module(__name__), "PORTAL", sneaky)
    assert sorted(violations()) == ["portal/x.py:2 imports sync.models",
                                    "portal/x.py:3 imports reports.api.views"]


def test_timezone_change_reaches_sync_through_a_signal(org_a):
    from portal.models import Organization
    from portal.signals import organization_timezone_changed
    from sync.receivers import rebuild_reporting_days

    answers = organization_timezone_changed.send(sender=Organization, organization=org_a)
    assert (rebuild_reporting_days, 0) in answers  # (the rebuild itself: test_admin_scoping)
