"""Links that work: every link in an email points at the address the portal is served on.

`PORTAL_BASE_URL` sets it in production; `make demo PORT=…` / `manage.py demo --serve
HOST:PORT` point it at the served port (unless PORTAL_BASE_URL is set), so the demo's alert,
summary and invitation emails open on the running demo, and each link's path answers.
"""
from __future__ import annotations

import re
import shutil
import subprocess
from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.test import Client

from portal.auth.invitations import send_invitation
from reports.alerts.deliver import render_email
from reports.models import AlertEvent, AlertRule, ReportSubscription
from reports.summaries.actions import send_test
from sync.management.commands.demo import served_base_url, use_served_links
from tests.support.processes import ROOT

LINK = re.compile(r"https?://[^\s\"'<>]+")


@pytest.mark.parametrize(("serve", "expected"), [
    ("127.0.0.1:8123", "http://127.0.0.1:8123"),
    ("0.0.0.0:9000", "http://127.0.0.1:9000"),
    ("8124", "http://127.0.0.1:8124"),
    ("localhost:8125", "http://localhost:8125"),
    ("[::1]:8126", "http://[::1]:8126"),
])
def test_the_served_address_is_what_a_browser_opens(serve, expected):
    assert served_base_url(serve) == expected


def test_make_demo_passes_its_port_to_the_served_address():
    if not shutil.which("make"):
        pytest.skip("make is not installed")
    dry = subprocess.run(["make", "-n", "demo", "PORT=8123"], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout
    assert "manage.py demo --serve 127.0.0.1:8123" in dry


def test_an_explicit_portal_base_url_wins(settings, monkeypatch):
    monkeypatch.setenv("PORTAL_BASE_URL", "https://sb.example.com")
    settings.PORTAL_BASE_URL = "https://sb.example.com"
    assert use_served_links("127.0.0.1:8123") == "https://sb.example.com"


def _emails_of_every_kind(org, alice, env) -> list:
    sub = ReportSubscription.objects.create(organization=org, name="Weekly", addresses=[
        "boss@example.com"])
    sub.environments.set([env])
    send_test(sub, alice, ["boss@example.com"])
    rule = AlertRule.objects.create(organization=org, name="Low", metric="calls",
                                    condition="below", threshold=1)
    rule.environments.set([env])
    event = AlertEvent.objects.create(
        rule=rule, organization=org, seq=1, state="firing", metric="calls", value=0,
        threshold=1, calls=0, window_start=datetime(2026, 11, 20, 3, tzinfo=UTC),
        window_end=datetime(2026, 11, 21, 3, tzinfo=UTC),
        created_at=datetime(2026, 11, 21, 9, tzinfo=UTC))
    mail.outbox.append(render_email(event, "oncall@example.com"))
    send_invitation(org, "new@example.com", "analyst", alice)
    Client().post("/accounts/password_reset/", {"email": alice.email})
    return mail.outbox


@pytest.mark.django_db
def test_demo_email_links_open_on_the_served_port(settings, monkeypatch, org_a, alice, env_a):
    monkeypatch.delenv("PORTAL_BASE_URL", raising=False)
    settings.PORTAL_BASE_URL = "http://127.0.0.1:8000"
    settings.ALLOWED_HOSTS = ["*"]
    assert use_served_links("127.0.0.1:8123") == "http://127.0.0.1:8123"
    messages = _emails_of_every_kind(org_a, alice, env_a)
    assert len(messages) == 4
    member = Client()
    member.force_login(alice)
    # An invitation is opened by its invitee, who is not signed in as alice (a signed-in
    # member with another address is refused: tests/portal/test_invitations.py).
    invitee = Client()
    checked = set()
    for message in messages:
        bodies = [message.body] + [body for body, _ in getattr(message, "alternatives", [])]
        links = {link.rstrip(".,)") for body in bodies for link in LINK.findall(body)}
        links = {link.replace("&amp;", "&") for link in links
                 if "://127.0.0.1" in link or "://testserver" in link}
        assert links, message.subject
        for link in links:
            parts = urlsplit(link)
            # Password reset links use the requesting host, as Django builds them.
            assert parts.netloc in ("127.0.0.1:8123", "testserver"), (message.subject, link)
            path = parts.path + (f"?{parts.query}" if parts.query else "")
            opener = invitee if parts.path.startswith("/invitations/") else member
            status = opener.get(path, HTTP_HOST=parts.netloc).status_code
            assert status == 200, (link, status)  # each link opens its page, no detour
            checked.add(parts.path.split("/")[1])
    assert {"o", "alerts", "summaries", "invitations", "accounts"} <= checked
