"""Docs and assets offline: no page references another host; Swagger UI is our own files.

Walks every parameterless URL pattern plus each organisation page as an owner and as a
superuser (admin), and fails on any `src`/`href` that points off the site — only the
documented outbound links may (none today).
"""
from __future__ import annotations

import re

import pytest
from django.contrib.staticfiles import finders
from django.urls import URLPattern, URLResolver, get_resolver

# Outbound links a page may show on purpose (documented in the README): none yet.
DOCUMENTED_OUTBOUND: set[str] = set()
LOCAL_HOSTS = {"testserver", "localhost", "127.0.0.1"}
EXTERNAL = re.compile(r"""(?:src|href|action)\s*=\s*["']\s*(?:https?:)?//([^/"'\s]+)""", re.I)
ASSET = re.compile(r"""(?:src|href)\s*=\s*["']([^"'#?]+\.(?:js|css|svg|png|ico))""", re.I)


def plain_paths(patterns, prefix: str = "") -> list[str]:
    """Every URL the resolver knows that takes no parameter."""
    found: list[str] = []
    for entry in patterns:
        route = str(entry.pattern)
        if "<" in route or "(?P" in route or route.startswith("^"):
            continue
        if isinstance(entry, URLResolver):
            found += plain_paths(entry.url_patterns, prefix + route)
        elif isinstance(entry, URLPattern):
            found.append("/" + prefix + route)
    return found


def org_paths(slug: str) -> list[str]:
    return [f"/o/{slug}/{p}" for p in ("", "calls/", "callbacks/", "agents/", "sync/",
                                       "settings/", "settings/members/", "settings/tokens/",
                                       "settings/environments/add/", "settings/subscriptions/")]


def external_refs(html: str) -> set[str]:
    return {h.lower() for h in EXTERNAL.findall(html)} - LOCAL_HOSTS - DOCUMENTED_OUTBOUND


@pytest.mark.django_db
def test_no_page_references_another_host(client, admin_client, alice, env_a):
    client.force_login(alice)
    seen = 0
    for path in sorted(set(plain_paths(get_resolver().url_patterns)) | set(org_paths("org-a"))):
        for who in (client, admin_client):
            response = who.get(path, follow=True)
            if "text/html" not in response.get("Content-Type", ""):
                continue
            seen += 1
            html = response.content.decode()
            assert not external_refs(html), f"{path} references {external_refs(html)}"
    assert seen > 20, "the walk reached too few pages to mean anything"


@pytest.mark.django_db
def test_api_docs_use_our_own_swagger_ui(client, alice):
    client.force_login(alice)
    html = client.get("/api/docs/").content.decode()
    assert "swagger-ui" in html.lower() and not external_refs(html)
    assets = [a for a in ASSET.findall(html) if a.startswith("/static/")]
    assert assets, "Swagger UI's files should come from /static/"
    for asset in assets:
        assert finders.find(asset.removeprefix("/static/")), f"{asset} is not a static file"


@pytest.mark.django_db
def test_favicon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 302 and response["Location"].endswith(".svg")
    assert finders.find("img/favicon.svg")
