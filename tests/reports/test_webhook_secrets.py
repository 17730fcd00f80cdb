"""Alert webhook URLs and secrets stay with their owners.

A Slack webhook's path is its credential: the API (owner, analyst, viewer), the rule pages
and the admin show only a hint (`hooks.slack.com/…CRET`), never the URL; owners and admins
replace it (an empty field keeps it), remove it (and its secret) and renew the secret, which
is answered once.
"""
from __future__ import annotations

import pytest
from django.test import Client

from portal.models import Role
from reports.alerts.models import AlertRule
from tests.support.cast import make_member

SECRET_PART = "B0000/XyZsEcReTtOkEn"
SLACK = f"https://hooks.slack.com/services/T0000/{SECRET_PART}"
HINT = "hooks.slack.com/…OkEn"
# What a write may set (https to a named host; `.invalid` never resolves, so no DNS).
NEW_PART = "hooks/N3wS3cr3tP4th"
NEW_URL = f"https://hooks.example.invalid/{NEW_PART}"


@pytest.fixture
def rule(env_a) -> AlertRule:
    rule = AlertRule(organization=env_a.organization, name="Volume", metric="calls",
                     window="day", condition="above", threshold=5, min_calls=1,
                     webhook_url=SLACK, webhook_format="slack")
    rule.new_webhook_secret()
    rule.save()
    rule.environments.set([env_a])
    return rule


@pytest.fixture
def analyst(django_user_model, org_a):
    return make_member(django_user_model, "ana", org_a, Role.ANALYST)


def _hidden(body: bytes, *parts: str) -> None:
    text = body.decode()
    for part in (SECRET_PART, SLACK, *parts):
        assert part not in text, part


def test_the_api_shows_everyone_the_hint_only(rule, alice, bob, analyst, api_client_for):
    for user in (alice, analyst, bob):
        api = api_client_for(user)
        detail = api.get(f"/api/v1/alert-rules/{rule.pk}/")
        assert detail.status_code == 200 and detail.json()["webhook_hint"] == HINT
        assert "webhook_url" not in detail.json()
        _hidden(detail.content, rule.webhook_secret())
        listing = api.get("/api/v1/alert-rules/")
        assert listing.json()["results"][0]["webhook_hint"] == HINT
        _hidden(listing.content, rule.webhook_secret())


def test_owners_keep_replace_renew_and_remove_through_the_api(rule, alice, bob,
                                                              api_client_for):
    url = f"/api/v1/alert-rules/{rule.pk}/"
    secret = rule.webhook_secret()
    api = api_client_for(alice)
    kept = api.patch(url, {"threshold": 7}, format="json")
    assert kept.status_code == 200 and "webhook_secret" not in kept.json()
    rule.refresh_from_db()
    assert rule.webhook_url == SLACK and rule.webhook_secret() == secret
    replaced = api.patch(url, {"webhook_url": NEW_URL}, format="json")
    assert replaced.status_code == 200, replaced.json()
    _hidden(replaced.content, NEW_PART)
    assert replaced.json()["webhook_hint"] == "hooks.example.invalid/…P4th"
    renewed = api.patch(url, {"new_webhook_secret": True}, format="json").json()
    rule.refresh_from_db()
    assert rule.webhook_url == NEW_URL and renewed["webhook_secret"] == rule.webhook_secret()
    assert renewed["webhook_secret"] != secret
    assert "webhook_secret" not in api.get(url).json()  # answered once
    assert api_client_for(bob).patch(url, {"webhook_url": ""}, format="json"
                                     ).status_code == 403
    removed = api.patch(url, {"webhook_url": ""}, format="json")
    assert removed.status_code == 200 and removed.json()["webhook_hint"] == ""
    rule.refresh_from_db()
    assert rule.webhook_url == "" and rule.webhook_secret_ciphertext == ""


def _form(rule: AlertRule, **changes) -> dict:
    data = {"name": rule.name, "environments": [e.pk for e in rule.environments.all()],
            "metric": rule.metric, "window": rule.window, "condition": rule.condition,
            "threshold": rule.threshold, "min_calls": rule.min_calls,
            "severity": rule.severity, "language": rule.language,
            "webhook_format": rule.webhook_format, "webhook_url": "", "enabled": "on"}
    return {**data, **changes}


def test_pages_show_the_hint_and_an_empty_field_keeps_the_url(rule, alice, bob):
    client = Client()
    base = f"/o/org-a/settings/alerts/{rule.pk}/"
    for user in (bob, alice):
        client.force_login(user)
        for page in ("/o/org-a/settings/alerts/", base):
            response = client.get(page)
            assert response.status_code == 200
            _hidden(response.content)
    assert HINT in client.get(base).content.decode()
    edit = client.get(base + "edit/")
    assert edit.status_code == 200 and HINT in edit.content.decode()
    _hidden(edit.content)
    saved = client.post(base + "edit/", _form(rule, threshold="9"))
    assert saved.status_code == 302, saved.content
    rule.refresh_from_db()
    assert rule.threshold == 9 and rule.webhook_url == SLACK
    refused = client.post(base + "edit/", _form(rule, webhook_url="ftp://x.example/y"))
    assert refused.status_code == 400
    _hidden(refused.content)
    removed = client.post(base + "edit/", _form(rule, remove_webhook="on"))
    assert removed.status_code == 302
    rule.refresh_from_db()
    assert rule.webhook_url == "" and rule.webhook_secret_ciphertext == ""


def test_the_admin_shows_the_hint_only(rule, django_user_model):
    root = django_user_model.objects.create_superuser("root", "root@example.com", "root-pw-1")
    client = Client()
    client.force_login(root)
    for url in (f"/admin/reports/alertrule/{rule.pk}/change/", "/admin/reports/alertrule/",
                f"/admin/reports/alertrule/{rule.pk}/history/"):
        response = client.get(url)
        assert response.status_code == 200, url
        _hidden(response.content, rule.webhook_secret())
    assert HINT in client.get(f"/admin/reports/alertrule/{rule.pk}/change/").content.decode()
