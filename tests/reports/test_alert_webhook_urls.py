"""Alert webhook URLs are plain https to a named host.

Refused when a rule is written (API and settings page): `ftp:`, `file:`, `http:` outside
DEBUG, a user name or password in the URL, an address literal or localhost. Checked again
before every send: a stored URL of the wrong form, a name that now resolves to a private
address (DNS at send), and a connection that reaches a private address although the name
resolved to a public one when checked (rebinding): refused before a byte is sent.
"""
from __future__ import annotations

import socket
import threading
from datetime import UTC, datetime

import pytest

from reports.alerts.deliver import deliver_pending
from reports.alerts.models import AlertEvent, AlertRule

pytestmark = pytest.mark.django_db

GOOD = "https://hooks.example.invalid/services/T0/B0/x"  # `.invalid`: never resolves
REFUSED = {
    "ftp": "ftp://hooks.example.invalid/x",
    "file": "file:///etc/passwd",
    "http": "http://hooks.example.invalid/x",
    "credentials": "https://user:secret@hooks.example.invalid/x",
    "user only": "https://user@hooks.example.invalid/x",
    "address literal": "https://10.0.0.1/x",
    "public address literal": "https://93.184.216.34/x",
    "localhost": "https://localhost/x",
    "no host": "https:///x",
}


def payload(env, url: str) -> dict:
    return {"name": "Volume", "environments": [env.pk], "metric": "calls", "window": "day",
            "condition": "above", "threshold": 5, "min_calls": 1, "emails": [],
            "webhook_url": url, "enabled": True}


@pytest.mark.parametrize("case", REFUSED)
def test_the_api_and_the_page_refuse_what_is_not_https_to_a_named_host(
        case, alice, env_a, api_client_for, client, settings):
    settings.UPSTREAM_ALLOWED_HOSTS = []  # the tests' loopback allowance set aside
    api = api_client_for(alice)
    answer = api.post("/api/v1/alert-rules/", payload(env_a, REFUSED[case]), format="json")
    assert answer.status_code == 400 and "webhook_url" in answer.json(), answer.content
    client.force_login(alice)
    form = {**payload(env_a, REFUSED[case]), "severity": "warning", "language": "en",
            "webhook_format": "json", "enabled": "on"}
    page = client.post(f"/o/{env_a.organization.slug}/settings/alerts/new/", form)
    assert page.status_code == 400 and "webhook" in page.text.lower()
    assert not AlertRule.objects.across_organizations().exists()


def test_https_to_a_named_host_is_kept_and_http_only_in_debug(alice, env_a, api_client_for,
                                                               settings):
    api = api_client_for(alice)
    assert api.post("/api/v1/alert-rules/", payload(env_a, GOOD),
                    format="json").status_code == 201
    settings.DEBUG = True
    assert api.post("/api/v1/alert-rules/", payload(env_a, REFUSED["http"]),
                    format="json").status_code == 201
    for case in ("ftp", "file", "credentials"):
        assert api.post("/api/v1/alert-rules/", payload(env_a, REFUSED[case]),
                        format="json").status_code == 400, case


class Listener:
    """A TCP port that counts connections and bytes received (it never answers)."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.connections, self.received = 0, 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            with conn:
                conn.settimeout(2)
                try:
                    while data := conn.recv(4096):
                        self.received += len(data)
                except OSError:
                    pass


def resolving(monkeypatch, *answers: str) -> list[str]:
    """Make hooks.example.invalid resolve to each of `answers` in turn (the last for ever)."""
    real, asked = socket.getaddrinfo, []

    def getaddrinfo(host, port, *args, **kwargs):
        if host != "hooks.example.invalid":
            return real(host, port, *args, **kwargs)
        address = answers[min(len(asked), len(answers) - 1)]
        asked.append(address)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return asked


def firing(org, url: str) -> AlertEvent:
    rule = AlertRule(organization=org, name="Volume", metric="calls", window="day",
                     condition="above", threshold=5, min_calls=1, emails=[],
                     webhook_url=url, webhook_format="json")
    rule.new_webhook_secret()
    rule.save()  # as a rule stored before these checks: the model does not refuse it
    return AlertEvent.objects.create(rule=rule, organization=org, seq=1, state="firing",
                                     metric="calls", value=9, threshold=5,
                                     created_at=datetime.now(UTC))


def webhook_state(event: AlertEvent) -> dict:
    deliver_pending()
    event.refresh_from_db()
    return event.recipients["webhook"]


@pytest.mark.parametrize("case", ["ftp", "file", "credentials", "http"])
def test_a_stored_url_of_the_wrong_form_is_refused_at_send(org_a, case):
    state = webhook_state(firing(org_a, REFUSED[case]))
    assert state["status"] == "failed" and "webhook URL" in state["error"], state
    assert "secret" not in state["error"]


def test_a_name_resolving_to_a_private_address_at_send_is_refused(org_a, monkeypatch):
    event = firing(org_a, GOOD)
    asked = resolving(monkeypatch, "10.1.2.3")
    state = webhook_state(event)
    assert state["status"] == "failed" and "not on a public address" in state["error"], state
    assert asked == ["10.1.2.3"], "resolved at send, and nothing connected"


def test_a_name_rebound_to_a_private_address_is_refused_before_a_byte(org_a, monkeypatch):
    listener = Listener()
    event = firing(org_a, GOOD.replace("invalid/", f"invalid:{listener.port}/"))
    # Public when checked, loopback when the connection is made.
    asked = resolving(monkeypatch, "93.184.216.34", "127.0.0.1")
    state = webhook_state(event)
    listener.sock.close()
    assert state["status"] == "failed" and "private address" in state["error"], state
    assert len(asked) == 2 and listener.received == 0
