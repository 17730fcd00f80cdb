"""One door per idea, as the running site shows it: every settings page is mounted through
the one `o/<slug>/settings/` include, and the report pages are kept by the one decorator
(`kept_page`). The rules read from the source (day math from `reports/days.py`, the webhooks'
coalescing keys, email links, the tenant door, page frames) are `make lint`'s
(tests/lint/custom_check.py)."""
from __future__ import annotations

from django.urls import get_resolver


def test_every_settings_page_is_mounted_by_the_one_include():
    resolver = get_resolver()
    mounts = [str(p.pattern) for p in resolver.url_patterns if "settings/" in str(p.pattern)]
    assert mounts == ["o/<slug:org_slug>/settings/"], mounts


def test_report_pages_are_kept_by_the_one_decorator():
    """The dashboard, the explorer, agents and callbacks are kept through `kept_page` (the
    dashboard hands over its shared body)."""
    for name in ("dashboard", "calls", "agents", "callbacks"):
        view = get_resolver().resolve(f"/o/org-a/{'' if name == 'dashboard' else name + '/'}").func
        assert getattr(view, "kept_as", None) == name, name
