"""Base URLs in any reasonable form, the production address policy, the connection test."""
from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from portal import upstream_check
from portal.models import Environment
from portal.upstream_url import check_allowed, normalise
from sync.engine import sync_environment
from sync.models.core import RunStatus
from tests.support.sync_support import point_env, served, small_config

TALKOVER_FORMS = ["https://app.talkover.ai", "https://app.talkover.ai/",
                  "https://app.talkover.ai/api/v1", "https://app.talkover.ai/api/v1/",
                  "HTTPS://App.Talkover.AI/api", "  https://app.talkover.ai/api/v1  "]


@pytest.mark.parametrize("raw", TALKOVER_FORMS)
def test_talkover_forms_store_one_normal_form(raw):
    assert normalise("talkover", raw) == "https://app.talkover.ai/api/v1"


@pytest.mark.parametrize("raw", ["http://127.0.0.1:8765", "http://127.0.0.1:8765/api",
                                 "http://127.0.0.1:8765/api/", "http://127.0.0.1:8765/"])
def test_origins_forms_store_the_host(raw):
    assert normalise("origins", raw) == "http://127.0.0.1:8765"


@pytest.mark.parametrize("raw", ["app.talkover.ai", "ftp://x.example", "https://u:p@x.example",
                                 "https://x.example/?a=1", "https://x.example:99999"])
def test_unusable_addresses_are_refused(raw):
    with pytest.raises(ValidationError):
        normalise("talkover", raw)


@pytest.mark.django_db
def test_every_door_stores_the_normal_form(org_a):
    env = Environment(organization=org_a, name="E", provider="talkover",
                      base_url="http://127.0.0.1:8765/")
    env.set_token("talq_x")
    env.save()
    env.refresh_from_db()
    assert env.base_url == "http://127.0.0.1:8765/api/v1"


def test_production_policy(settings):
    settings.DEBUG = False
    settings.UPSTREAM_ALLOWED_HOSTS = []
    with pytest.raises(ValidationError, match="https"):
        check_allowed("http://example.com/api/v1")
    for private in ("https://127.0.0.1/api/v1", "https://10.0.0.8/api/v1",
                    "https://[::1]/api/v1", "https://169.254.169.254/api/v1",
                    "https://localhost/api/v1"):
        with pytest.raises(ValidationError, match="public"):
            check_allowed(private)
    settings.UPSTREAM_ALLOWED_HOSTS = ["127.0.0.1"]
    check_allowed("http://127.0.0.1:8765/api/v1")  # listed: trusted as is
    settings.DEBUG = True
    settings.UPSTREAM_ALLOWED_HOSTS = []
    check_allowed("http://10.0.0.8/api/v1")  # development allows anything


@pytest.mark.django_db
def test_a_refused_address_fails_the_sync_with_its_reason(org_a, settings):
    with served(small_config(days=1, calls_per_day=5)) as (sim, server):
        env = point_env(org_a, sim, server)
        settings.UPSTREAM_ALLOWED_HOSTS = []
        outcome = sync_environment(env, streams=["agents"])
    run = outcome.runs[0]
    assert run.status == RunStatus.FAILED and "must use https" in run.error
    assert "Traceback" not in run.error


@pytest.mark.django_db
def test_a_host_without_the_api_prefix_fails_naming_the_url_and_form(org_a):
    with served(small_config(days=1, calls_per_day=5)) as (sim, server):
        env = point_env(org_a, sim, server)
        # Stored as given (bypassing normalisation): what an old row could hold.
        Environment.objects.filter(pk=env.pk).update(base_url=server.base_url + "/nothing")
        env.refresh_from_db()
        outcome = sync_environment(env, streams=["agents"])
    error = outcome.runs[0].error
    assert f"{server.base_url}/nothing/" in error and "HTTP 404" in error
    assert "not a Talkover API" in error and "app.talkover.ai" in error


def test_connection_test_answers_in_the_users_terms(upstream):
    server, tokens = upstream
    ok = upstream_check.run("talkover", server.talkover_url, tokens["acme-sales"])
    assert ok.ok and "agents" in ok.message
    bad = upstream_check.run("talkover", server.talkover_url, "talq_wrong")
    assert (bad.ok, bad.field) == (False, "token")
    wrong = upstream_check.run("talkover", server.base_url + "/x/api/v1", tokens["acme-sales"])
    assert (wrong.ok, wrong.field) == (False, "base_url") and "Talkover" in wrong.message
    origins = upstream_check.run("origins", server.origins_url, tokens["origins-demo"], [4012])
    assert origins.ok, origins.message
    missing = upstream_check.run("origins", server.origins_url, tokens["origins-demo"], [999])
    assert (missing.ok, missing.field) == (False, "base_url")
    assert upstream_check.run("origins", server.origins_url, "orig_x", [4012]).field == "token"


@pytest.mark.django_db
def test_settings_form_shows_a_failed_test_on_its_field_and_saves_nothing(client, alice,
                                                                           upstream):
    server, tokens = upstream
    client.force_login(alice)
    response = client.post("/o/org-a/settings/environments/add/", {
        "name": "Prod", "provider": "talkover", "base_url": server.base_url,
        "sync_interval_minutes": 15, "token": "talq_wrong_wrong_wrong"})
    assert response.status_code == 400
    assert "rejected this token" in response.content.decode()
    assert not Environment.objects.filter(name="Prod").exists()
