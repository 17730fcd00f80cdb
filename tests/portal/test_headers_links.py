"""Headers and links: a Content-Security-Policy with no inline script, no-store on API and
report responses, and unsubscribe links that expire with a way to get a fresh one."""
from __future__ import annotations

import re
import time

import pytest
from django.core import signing
from django.test import Client
from django.urls import reverse

from reports.summaries import unsubscribe
from tests.support.factories import make_agents, make_calls, make_subscription

PAGES = ["/o/org-a/", "/o/org-a/calls/", "/o/org-a/callbacks/", "/o/org-a/agents/",
         "/o/org-a/sync/", "/o/org-a/settings/", "/o/org-a/settings/members/",
         "/o/org-a/settings/tokens/", "/o/org-a/settings/subscriptions/"]


@pytest.fixture
def page_client(alice, env_a):
    from datetime import date, timedelta

    make_calls(env_a, 30, date.today() - timedelta(days=5), date.today(),
               agents=make_agents(env_a, 2))
    client = Client()
    client.force_login(alice)
    return client


def test_csp_allows_only_own_static_and_no_inline_script(page_client):
    for path in [*PAGES, "/accounts/login/", "/admin/"]:
        response = page_client.get(path)
        policy = response["Content-Security-Policy"]
        directives = dict(d.strip().split(" ", 1) for d in policy.split(";") if d.strip())
        assert directives["default-src"] == "'self'", path
        assert directives["script-src"] == "'self'", path
        assert directives["frame-ancestors"] == "'none'", path


@pytest.mark.parametrize("path", PAGES)
def test_pages_carry_no_inline_script(page_client, path):
    body = page_client.get(path).content.decode()
    for tag in re.findall(r"<script\b[^>]*>", body):
        assert "src=" in tag or 'type="application/json"' in tag, (path, tag)
    assert not re.search(r"\son[a-z]+\s*=", body), path
    assert "javascript:" not in body


def test_api_and_report_responses_are_not_stored(page_client, alice, api_client_for):
    for path in [*PAGES, "/o/org-a/calls/?format=csv"]:
        assert page_client.get(path)["Cache-Control"] == "private, no-store", path
    api = api_client_for(alice)
    for path in ["/api/v1/environments/", "/api/v1/environments/999999/"]:
        assert api.get(path)["Cache-Control"] == "private, no-store", path


def _token_made_days_ago(monkeypatch, days: int, sub_id: int, email: str) -> str:
    real = time.time
    monkeypatch.setattr(signing.time, "time", lambda: real() - days * 86400)
    token = unsubscribe.make_token(sub_id, email)
    monkeypatch.setattr(signing.time, "time", real)
    return token


def test_unsubscribe_links_expire_and_say_how_to_get_a_fresh_one(env_a, alice, monkeypatch):
    sub = make_subscription(env_a.organization, name="Weekly ops",
                            addresses=["ops@example.com"])
    fresh = _token_made_days_ago(monkeypatch, 89, sub.pk, "ops@example.com")
    assert Client().get(reverse("subscription-unsubscribe", args=[fresh])).status_code == 200
    stale = _token_made_days_ago(monkeypatch, 91, sub.pk, "ops@example.com")
    for method in ("get", "post"):
        response = getattr(Client(), method)(reverse("subscription-unsubscribe", args=[stale]))
        assert response.status_code == 410
        body = response.content.decode()
        assert "This unsubscribe link has expired" in body
        assert "most recent summary email" in body and "Settings" in body
        assert "ops@example.com" not in body and "Weekly ops" not in body
    sub.refresh_from_db()
    assert sub.addresses == ["ops@example.com"]
