"""One door per idea: reports read day math from `reports/days.py` only, every
settings page is mounted through one include, the webhooks' coalescing protocol lives in
one module (`sync/webhooks/coalesce.py`), links in emails are made absolute by
`portal/emails.py`, pages get the tenant from `org_page`, not the slug, and report pages are
kept by one decorator (`kept_page`)."""
from __future__ import annotations

import ast
from pathlib import Path

from django.urls import get_resolver

ROOT = Path(__file__).resolve().parent.parent.parent


def _sources(app: str) -> list[Path]:
    return [p for p in (ROOT / app).rglob("*.py") if "migrations" not in p.parts]


def test_reports_take_day_math_from_reports_days_only():
    found = []
    for path in _sources("reports"):
        if path == ROOT / "reports" / "days.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module in {"sync.write.rollups",
                                                                     "sync.write.ledger"}:
                days = {a.name for a in node.names} - {"bucket_bounds"}  # durations, not days
                if node.module == "sync.write.ledger" or days:
                    found.append(f"{path.relative_to(ROOT)}: {node.module} {sorted(days)}")
    # The ledger's rows (not day math) are read by the sync page: named, the one exception.
    assert found == ["reports/pages/sync_status.py: sync.write.ledger []"] or not found, found


def test_every_settings_page_is_mounted_by_the_one_include():
    resolver = get_resolver()
    mounts = [str(p.pattern) for p in resolver.url_patterns if "settings/" in str(p.pattern)]
    assert mounts == ["o/<slug:org_slug>/settings/"], mounts
    for path in [*_sources("reports"), *_sources("portal")]:
        if path.name.endswith("urls.py") and path != ROOT / "portal" / "urls.py":
            assert "/settings/" not in path.read_text().split('"""', 2)[-1], path


def test_the_webhook_protocol_is_one_module():
    door = ROOT / "sync" / "webhooks" / "coalesce.py"
    for path in [*_sources("sync"), *_sources("reports"), *_sources("portal")]:
        if path != door:
            text = path.read_text()
            assert "sync:hook:queued" not in text and "sync:hook:event" not in text, path


def test_links_in_emails_are_made_absolute_in_one_place():
    door = ROOT / "portal" / "emails.py"
    for path in [*_sources("sync"), *_sources("reports"), *_sources("portal")]:
        if path != door:
            assert "PORTAL_BASE_URL.rstrip" not in path.read_text(), path


def test_pages_get_the_tenant_not_the_slug():
    """`org_page` resolves the slug once; a view that took it again could look it up again."""
    found = []
    for path in [*_sources("portal"), *_sources("reports")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef) and any(
                    "org_page" in ast.unparse(d) for d in node.decorator_list):
                args = [a.arg for a in node.args.args + node.args.kwonlyargs]
                # `with_scope` (reports/pages/params.py) takes the tenant and hands its
                # organisation on with the request's scope.
                scoped = any("with_scope" in ast.unparse(d) for d in node.decorator_list)
                if "org_slug" in args or ("tenant" not in args and not scoped):
                    found.append(f"{path.relative_to(ROOT)}: {node.name}")
    assert found == []


def test_report_pages_are_kept_by_the_one_decorator():
    """The dashboard, the explorer, agents and callbacks are kept through `kept_page` (the
    dashboard hands over its shared body); no page builds a frame itself."""
    for path in _sources("reports"):
        if path.name != "page_cache.py":
            assert "PageFrame." not in path.read_text(), path
    for name in ("dashboard", "calls", "agents", "callbacks"):
        view = get_resolver().resolve(f"/o/org-a/{'' if name == 'dashboard' else name + '/'}").func
        assert getattr(view, "kept_as", None) == name, name
