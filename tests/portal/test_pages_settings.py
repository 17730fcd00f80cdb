"""Settings pages: environments (token write-only), members (invite by email), API tokens."""
from __future__ import annotations

import pytest

from portal.models import ApiToken, AuditLog, Environment, Membership, Role
from sync.models import Call
from tests.support.factories import make_calls

TOKEN = "talq_secretsecretsecretsecret9f3c"


def _as(client, user):
    client.force_login(user)
    return client


@pytest.mark.parametrize("page", ["", "members/", "environments/add/"])
@pytest.mark.parametrize("who,status", [("alice", 200), ("bob", 403), ("carol", 404)])
def test_admin_settings_access(client, cast, env_a, page, who, status):
    if page == "" and who == "bob":  # Settings' first page sends a viewer to their tokens
        status = 302  # (tests/portal/test_viewer_settings.py)
    assert _as(client, cast[who]).get(f"/o/org-a/settings/{page}").status_code == status


@pytest.mark.parametrize("action", ["token", "delete"])
@pytest.mark.parametrize("who,status", [("alice", 200), ("bob", 403), ("carol", 404)])
def test_environment_pages_access(client, cast, env_a, action, who, status):
    url = f"/o/org-a/settings/environments/{env_a.pk}/{action}/"
    assert _as(client, cast[who]).get(url).status_code == status


def test_add_environment_never_shows_the_token(client, alice, org_a, upstream):
    server, tokens = upstream
    token = tokens["acme-sales"]
    response = _as(client, alice).post("/o/org-a/settings/environments/add/", {
        "name": "Prod", "provider": "talkover", "base_url": server.base_url,
        "sync_interval_minutes": 15, "token": token}, follow=True)
    html = response.content.decode()
    env = Environment.objects.get(organization=org_a, name="Prod")
    assert env.get_token() == token and env.token_hint in html
    assert token not in html
    entry = AuditLog.objects.get(action="environment.created")
    assert token not in str(entry.details)


def test_add_environment_bad_input_is_400_with_reasons(client, alice, org_a):
    response = _as(client, alice).post("/o/org-a/settings/environments/add/", {
        "name": "Origins", "provider": "origins", "base_url": "", "sync_interval_minutes": 15,
        "token": TOKEN, "agent_ids": "12, abc"})
    html = response.content.decode()
    assert response.status_code == 400
    assert "is not an agent id" in html and TOKEN not in html
    assert not Environment.objects.filter(name="Origins").exists()


def test_replace_token_clears_auth_failed(client, alice, env_a):
    env_a.status = "auth_failed"
    env_a.save()
    _as(client, alice).post(f"/o/org-a/settings/environments/{env_a.pk}/token/",
                            {"token": "talq_newnewnewnewnewnew1234"})
    env_a.refresh_from_db()
    assert env_a.get_token() == "talq_newnewnewnewnewnew1234" and env_a.status == "active"
    assert AuditLog.objects.filter(action="environment.token_replaced").exists()


def test_pause_and_resume(client, alice, bob, env_a):
    url = f"/o/org-a/settings/environments/{env_a.pk}/toggle/"
    assert _as(client, bob).post(url).status_code == 403
    _as(client, alice).post(url)
    env_a.refresh_from_db()
    assert not env_a.sync_enabled and env_a.status == "paused"
    client.post(url)
    env_a.refresh_from_db()
    assert env_a.sync_enabled and env_a.status == "active"


def test_env_of_other_org_under_own_slug_is_404(client, carol, env_a):
    url = f"/o/org-b/settings/environments/{env_a.pk}/toggle/"
    assert _as(client, carol).post(url).status_code == 404


def test_delete_keeping_data_disconnects(client, alice, env_a):
    make_calls(env_a, 5, *[__import__("datetime").date(2026, 1, 1)] * 2)
    url = f"/o/org-a/settings/environments/{env_a.pk}/delete/"
    wrong = _as(client, alice).post(url, {"mirrored_data": "keep", "confirm_name": "nope"})
    assert wrong.status_code == 400 and "does not match" in wrong.content.decode()
    client.post(url, {"mirrored_data": "keep", "confirm_name": "A main"})
    env_a.refresh_from_db()
    assert not env_a.has_token and not env_a.sync_enabled
    assert Call.objects.filter(environment=env_a).count() == 5


def test_delete_erasing_data(client, alice, env_a):
    _as(client, alice).post(f"/o/org-a/settings/environments/{env_a.pk}/delete/",
                            {"mirrored_data": "erase", "confirm_name": "A main"})
    assert not Environment.objects.filter(pk=env_a.pk).exists()
    assert AuditLog.objects.filter(action="environment.deleted").exists()


def test_invite_existing_member_is_rejected(client, alice, bob):
    response = _as(client, alice).post("/o/org-a/settings/members/",
                                       {"email": "bob@example.com", "role": "viewer"})
    assert response.status_code == 400 and "already a member" in response.content.decode()


def test_change_role_and_keep_last_owner(client, alice, bob, org_a):
    _as(client, alice)
    bob_m = Membership.objects.get(user=bob)
    client.post(f"/o/org-a/settings/members/{bob_m.pk}/role/", {f"m{bob_m.pk}-role": "admin"})
    bob_m.refresh_from_db()
    assert bob_m.role == Role.ADMIN
    alice_m = Membership.objects.get(user=alice)
    client.post(f"/o/org-a/settings/members/{alice_m.pk}/role/",
                {f"m{alice_m.pk}-role": "viewer"})
    alice_m.refresh_from_db()
    assert alice_m.role == Role.OWNER


def test_admin_cannot_remove_owner(client, alice, bob):
    Membership.objects.filter(user=bob).update(role=Role.ADMIN)
    alice_m = Membership.objects.get(user=alice)
    response = _as(client, bob).post(f"/o/org-a/settings/members/{alice_m.pk}/remove/")
    assert response.status_code == 403


@pytest.mark.parametrize("who,status", [("alice", 200), ("bob", 200), ("carol", 404)])
def test_token_page_access(client, cast, org_a, who, status):
    assert _as(client, cast[who]).get("/o/org-a/settings/tokens/").status_code == status


def test_api_token_shown_once_then_revoked(client, bob):
    html = _as(client, bob).post("/o/org-a/settings/tokens/", {"name": "BI"}).content.decode()
    token = ApiToken.objects.get(user=bob)
    start = html.index('id="new-token">') + len('id="new-token">')
    raw = html[start:html.index("<", start)]
    assert raw.startswith("sbp_") and token.prefix == raw[:10]
    assert raw not in client.get("/o/org-a/settings/tokens/").content.decode()
    client.post(f"/o/org-a/settings/tokens/{token.pk}/revoke/")
    token.refresh_from_db()
    assert not token.is_active


def test_cannot_revoke_someone_elses_token(client, alice, bob):
    token, _ = ApiToken.issue(alice, "mine")
    assert _as(client, bob).post(f"/o/org-a/settings/tokens/{token.pk}/revoke/").status_code == 404
