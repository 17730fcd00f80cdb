"""Log in / out, password change and reset, landing redirect, language switch, settings nav."""
from __future__ import annotations

from django.core import mail

from portal.models import Membership, Organization, Role


def test_login_lands_on_dashboard_and_logout(client, alice, env_a):
    response = client.post("/accounts/login/", {"username": "alice", "password": "alice-pw-123"},
                           follow=True)
    assert response.redirect_chain[-1][0] == "/o/org-a/"
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/o/org-a/").status_code == 302


def test_bad_login_says_so(client, alice):
    response = client.post("/accounts/login/", {"username": "alice", "password": "nope"})
    assert "didn't match" in response.content.decode()


def test_home_redirects_to_last_used_org(client, alice):
    other = Organization.objects.create(slug="org-c", name="Org C")
    Membership.objects.create(user=alice, organization=other, role=Role.VIEWER)
    client.force_login(alice)
    assert client.get("/")["Location"] == "/o/org-a/"
    assert "Org C" in client.get("/o/org-c/").content.decode()  # switcher lists both
    assert client.get("/")["Location"] == "/o/org-c/"


def test_user_without_org_sees_empty_state(client, django_user_model):
    user = django_user_model.objects.create_user("lonely", password="x-pw-123456")
    client.force_login(user)
    assert "not a member of any organisation" in client.get("/").content.decode()


def test_password_change(client, alice):
    client.force_login(alice)
    response = client.post("/accounts/password_change/", {
        "old_password": "alice-pw-123", "new_password1": "a-new-long-pass-42",
        "new_password2": "a-new-long-pass-42"})
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.check_password("a-new-long-pass-42")


def test_password_reset_sends_email_through_backend(client, alice):
    client.post("/accounts/password_reset/", {"email": "alice@example.com"})
    assert len(mail.outbox) == 1
    assert "/accounts/reset/" in mail.outbox[0].body and "alice" in mail.outbox[0].body


def test_language_switch_to_portuguese(client, alice, env_a):
    client.force_login(alice)
    client.post("/i18n/setlang/", {"language": "pt-br", "next": "/o/org-a/"})
    html = client.get("/o/org-a/").content.decode()
    assert 'lang="pt-br"' in html and "Painel" in html


def test_browser_language_is_used(client, alice, env_a):
    client.force_login(alice)
    html = client.get("/o/org-a/calls/", HTTP_ACCEPT_LANGUAGE="pt-BR,pt;q=0.9").content.decode()
    assert "Chamadas" in html


def test_settings_nav_renders_without_subscriptions_url(client, alice, env_a):
    from django.urls import NoReverseMatch, reverse

    client.force_login(alice)
    html = client.get("/o/org-a/settings/").content.decode()
    try:
        url = reverse("subscription-list", args=["org-a"])
    except NoReverseMatch:
        url = None
    assert (url in html) if url else ("Report subscriptions" not in html)
