"""The tenancy CLI: createorg, addmember, addenv, issuetoken; clear errors, audit entries."""
from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from portal.models import AuditLog, Environment, Membership, Organization

ROOT = Path(__file__).resolve().parent.parent.parent


def run(*args: str, stdin: str = "") -> str:
    out = io.StringIO()
    old = sys.stdin
    sys.stdin = io.StringIO(stdin)
    try:
        call_command(*args, stdout=out)
    finally:
        sys.stdin = old
    return out.getvalue()


def test_createorg(db):
    out = run("createorg", "acme", "--name", "Acme Voice", "--timezone", "America/Sao_Paulo")
    assert "Created organisation acme" in out
    org = Organization.objects.get(slug="acme")
    assert org.timezone == "America/Sao_Paulo"
    assert AuditLog.objects.filter(action="organization.created", organization=org).exists()


@pytest.mark.parametrize("args,message", [
    (["Bad Slug", "--name", "x"], "not a valid slug"),
    (["acme", "--name", "x", "--timezone", "Mars/Olympus"], "not an IANA timezone"),
])
def test_createorg_errors(db, args, message):
    with pytest.raises(CommandError, match=message):
        run("createorg", *args)


def test_createorg_duplicate(org_a):
    with pytest.raises(CommandError, match="already exists"):
        run("createorg", "org-a", "--name", "Again")


def test_addmember_creates_user_with_password_from_stdin(org_a, django_user_model):
    out = run("addmember", "org-a", "dave", "--role", "analyst", "--email", "d@x.com",
              "--password-stdin", stdin="s3cret-pass-dave\n")
    assert "Added dave in org-a as analyst" in out
    user = django_user_model.objects.get(username="dave")
    assert user.check_password("s3cret-pass-dave")
    assert Membership.objects.get(user=user).role == "analyst"
    out = run("addmember", "org-a", "dave", "--role", "admin")
    assert "Updated" in out and Membership.objects.get(user=user).role == "admin"
    assert AuditLog.objects.filter(action="member.role_changed").count() == 1


def test_addmember_errors(org_a):
    with pytest.raises(CommandError, match="No organisation"):
        run("addmember", "nope", "dave", "--role", "viewer")
    with pytest.raises(CommandError):
        run("addmember", "org-a", "dave", "--role", "emperor")
    with pytest.raises(CommandError, match="standard input was empty"):
        run("addmember", "org-a", "dave", "--role", "viewer", "--password-stdin", stdin="")


def test_addenv_reads_token_from_stdin_and_prints_id(org_a):
    out = run("addenv", "org-a", "Sales", "--provider", "talkover", "--token-stdin",
              "--no-check", stdin="talq_secret_value_123456\n")
    env = Environment.objects.get(name="Sales")
    assert out.strip() == (f"Added environment {env.pk} 'Sales' to org-a "
                           "(Talkover, https://app.talkover.ai/api/v1).")
    assert env.get_token() == "talq_secret_value_123456"
    assert env.effective_base_url == "https://app.talkover.ai/api/v1"
    entry = AuditLog.objects.get(action="environment.created")
    assert "talq_secret" not in str(entry.details)


def test_addenv_origins_needs_base_url_and_parses_agent_ids(org_a):
    with pytest.raises(CommandError, match="base URL"):
        run("addenv", "org-a", "O", "--provider", "origins", "--token-stdin", stdin="tok_123456\n")
    with pytest.raises(CommandError, match="whole numbers"):
        run("addenv", "org-a", "O", "--provider", "origins", "--base-url", "https://o.example",
            "--agent-ids", "1,x", "--token-stdin", stdin="tok_123456\n")
    out = run("addenv", "org-a", "O", "--provider", "origins", "--base-url", "https://o.example",
              "--agent-ids", "12, 34", "--token-stdin", "--no-check", stdin="orig_tok_123456\n")
    assert Environment.objects.get(name="O").agent_ids == [12, 34]
    assert out.strip().endswith("(Origins AI, https://o.example, agents 12, 34).")


def test_addenv_errors(org_a, env_a):
    with pytest.raises(CommandError, match="No token on standard input"):
        run("addenv", "org-a", "Empty", "--provider", "talkover", "--token-stdin", stdin="\n")
    with pytest.raises(CommandError, match="already has an environment"):
        run("addenv", "org-a", "A main", "--provider", "talkover", "--token-stdin",
            stdin="talq_x_123456789\n")
    with pytest.raises(CommandError, match="No organisation"):
        run("addenv", "zzz", "X", "--provider", "talkover", "--token-stdin", stdin="t_123456789\n")


def test_issuetoken_unknown_user(db):
    with pytest.raises(CommandError, match="No user"):
        run("issuetoken", "ghost")


@pytest.mark.parametrize("command", ["createorg", "addmember", "addenv", "issuetoken",
                                     "rotate_keys"])
def test_every_command_has_help(command):
    result = subprocess.run([sys.executable, "manage.py", command, "--help"], cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "usage:" in result.stdout


def test_command_failure_exits_non_zero(subprocess_env):
    result = subprocess.run([sys.executable, "manage.py", "issuetoken", "ghost"], cwd=ROOT,
                            capture_output=True, text=True, timeout=60, env=subprocess_env)
    assert result.returncode != 0
    assert "No user 'ghost'" in result.stderr
