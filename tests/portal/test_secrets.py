"""Environment tokens are encrypted at rest, rotatable, and never shown, logged or echoed."""
from __future__ import annotations

import logging

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from portal import crypto
from portal.models import Environment

TOKEN = "talq_aaaaaaaaaaaaaaaaaaaaaaaaaaaa1111"


def raw_column(env: Environment) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT token_ciphertext, token_hint FROM portal_environment WHERE id = %s", [env.pk]
        )
        return " ".join(cursor.fetchone())


def test_token_is_not_stored_in_clear(env_a):
    stored = raw_column(env_a)
    assert TOKEN not in stored
    assert TOKEN[5:-4] not in stored
    assert Environment.objects.get(pk=env_a.pk).get_token() == TOKEN


def test_hint_shows_prefix_and_last_four(env_a):
    assert env_a.token_hint == "talq_…1111"
    assert crypto.token_hint("short") == "…"


def test_token_never_in_repr_or_str(env_a):
    assert TOKEN not in repr(env_a)
    assert TOKEN not in str(env_a)
    assert "talq_…1111" in repr(env_a)


def test_rotate_keys_reencrypts_under_first_key(env_a, settings):
    old_cipher = env_a.token_ciphertext
    new_key = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [new_key, *settings.FIELD_ENCRYPTION_KEYS]
    call_command("rotate_keys", stdout=open("/dev/null", "w"))
    env_a.refresh_from_db()
    assert env_a.token_ciphertext != old_cipher
    # Only the new key is needed from now on.
    settings.FIELD_ENCRYPTION_KEYS = [new_key]
    assert env_a.get_token() == TOKEN


def test_rotate_keys_refuses_when_a_token_cannot_be_read(env_a, settings):
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    before = env_a.token_ciphertext
    with pytest.raises(CommandError, match="cannot be decrypted"):
        call_command("rotate_keys")
    env_a.refresh_from_db()
    assert env_a.token_ciphertext == before


def test_token_never_reaches_admin_pages(env_a, admin_client):
    for url in ["/admin/portal/environment/", f"/admin/portal/environment/{env_a.pk}/change/"]:
        body = admin_client.get(url).content.decode()
        assert TOKEN not in body
        assert env_a.token_ciphertext not in body
        assert "talq_…1111" in body


def test_token_never_reaches_api_output(env_a, alice, api_client_for):
    client = api_client_for(alice)
    for url in ["/api/v1/environments/", f"/api/v1/environments/{env_a.pk}/"]:
        body = client.get(url).content.decode()
        assert TOKEN not in body
        assert "ciphertext" not in body
        assert "talq_…1111" in body


def test_token_never_reaches_logs(org_a, caplog, capsys, upstream):
    caplog.set_level(logging.DEBUG)
    import io
    import sys

    server, tokens = upstream
    token = tokens["acme-sales"]
    # The connection test sends the token upstream: not even DEBUG logging may show it.
    sys.stdin = io.StringIO(token + "\n")
    try:
        call_command("addenv", "org-a", "Logged", "--provider", "talkover", "--token-stdin",
                     "--base-url", server.base_url, stdout=io.StringIO())
    finally:
        sys.stdin = sys.__stdin__
    env = Environment.objects.get(name="Logged")
    assert env.get_token() == token
    assert token not in caplog.text
    captured = capsys.readouterr()
    assert token not in captured.out + captured.err


def test_admin_token_field_is_write_only(env_a, admin_client, upstream):
    server, tokens = upstream
    url = f"/admin/portal/environment/{env_a.pk}/change/"
    body = admin_client.get(url).content.decode()
    assert 'type="password"' in body
    # Saving without a token keeps the old one.
    data = {
        "organization": env_a.organization_id, "name": "Renamed", "provider": "talkover",
        "base_url": "", "provider_settings": "{}", "status": "active", "status_reason": "",
        "sync_enabled": "on", "sync_interval_minutes": 15, "lookback_days": 2,
        "backfill_days": 90, "callback_match_days": 7, "requests_per_minute": 90, "token": "",
    }
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    env_a.refresh_from_db()
    assert env_a.name == "Renamed" and env_a.get_token() == TOKEN
    new = tokens["acme-sales"]  # a new token is tested against its upstream before saving
    response = admin_client.post(url, {**data, "token": new, "base_url": server.base_url})
    env_a.refresh_from_db()
    assert env_a.get_token() == new
    assert env_a.token_hint == f"talq_…{new[-4:]}"
