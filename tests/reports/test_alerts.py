"""Alerts over the simulator: a rule fires once and resolves once, over real SMTP and a real
webhook receiver; racing evaluators notify once; snoozes hold; uncovered days are not judged;
the API, the pages and the command are the doors."""
from __future__ import annotations

import json
import subprocess
import sys
import threading
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core import mail
from django.test import override_settings

from reports.alerts.evaluate import evaluate_rules
from reports.alerts.models import AlertEvent, AlertRule, NotifyStatus
from reports.alerts.webhooks import SIGNATURE_HEADER, verify
from sync.engine import sync_environment
from sync.simulator import AnswerDrop
from tests.support.processes import ROOT
from tests.support.summaries_support import Crash, CrashAfterSendBackend, race, smtp_sink
from tests.support.sync_support import END, end_of, point_env, served, small_config
from tests.support.synced_world import shared_world

pytestmark = pytest.mark.django_db(transaction=True)

# Org A is in Sao Paulo (UTC-3): the local day 2026-03-08 is 03:00 UTC to 03:00 UTC.
DROP_DAY = date(2026, 3, 8)
DROP = AnswerDrop(datetime(2026, 3, 8, 3, tzinfo=UTC), datetime(2026, 3, 9, 3, tzinfo=UTC),
                  share=0.9)
AFTER_DROP = datetime(2026, 3, 9, 12, tzinfo=UTC)  # judges the local day 03-08
NEXT_DAY = datetime(2026, 3, 10, 12, tzinfo=UTC)  # judges 03-09: back to normal
BEYOND = datetime(2026, 3, 12, 12, tzinfo=UTC)  # judges 03-11: never mirrored


class Receiver:
    """A webhook endpoint on a real socket, keeping every request (headers and body)."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict, bytes]] = []
        self.status = 200
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                owner.requests.append((dict(self.headers), body))
                self.send_response(owner.status)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    @contextmanager
    def running(self):
        thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self.server.shutdown()
            self.server.server_close()


@pytest.fixture(scope="module")
def simulator():
    with served(small_config(days=6, calls_per_day=150, answer_drop=DROP)) as (sim, server):
        yield sim, server


@pytest.fixture(scope="module")
def mirror_world(simulator, django_db_setup, django_db_blocker):
    """One real sync of the simulator per process; each test gets its rows afresh
    (tests/support/synced_world.py)."""
    sim, server = simulator

    def build(org):
        env = point_env(org, sim, server)
        outcome = sync_environment(env, now=end_of(END))
        assert not outcome.failed
        return env

    with shared_world(build, django_db_blocker) as world:
        yield world


@pytest.fixture
def mirrored(org_a, mirror_world):
    return mirror_world(org_a)


def make_rule(env, **fields) -> AlertRule:
    values = {"name": "Answer rate", "metric": "answer_rate", "window": "day",
              "condition": "below", "threshold": 40, "min_calls": 20,
              "emails": ["ops@example.com"], "organization": env.organization}
    values.update(fields)
    rule = AlertRule(**values)
    if rule.webhook_url:
        rule.secret = rule.new_webhook_secret()
    rule.save()
    rule.environments.set([env])
    return rule


def test_a_drop_fires_once_and_resolves_once_by_email_and_signed_webhook(mirrored, alice, settings):
    settings.DEBUG = True  # the receiver is plain http on loopback: DEBUG only
    receiver = Receiver()
    rule = make_rule(mirrored, webhook_url=receiver.url)
    rule.members.set([alice])
    with smtp_sink() as sink, receiver.running():
        evaluate_rules(AFTER_DROP)
        evaluate_rules(AFTER_DROP + timedelta(minutes=5))  # still firing: nothing new
        rule.refresh_from_db()
        assert rule.state == "firing" and rule.last_value < 40
        assert sorted(m["To"] for m in sink.messages) == ["alice@example.com",
                                                           "ops@example.com"]
        evaluate_rules(NEXT_DAY)
    rule.refresh_from_db()
    assert rule.state == "ok"
    events = list(rule.events.order_by("seq"))
    assert [(e.seq, e.state, e.notify_status) for e in events] == [
        (1, "firing", "sent"), (2, "resolved", "sent")]
    firing = events[0]
    assert firing.window_start == DROP.start and firing.window_end == DROP.end
    assert firing.calls >= 20 and firing.value < 40 < events[1].value
    assert len(sink.to("ops@example.com")) == 2
    subjects = [m["Subject"] for m in sink.to("ops@example.com")]
    assert "Alert firing: Answer rate (Org A)" in subjects[0]
    assert "Alert resolved" in subjects[1]
    message = sink.to("ops@example.com")[0]
    types = {p.get_content_type() for p in message.walk()}
    assert {"text/plain", "text/html"} <= types
    # The receiving server verifies the signature with the secret shown once.
    assert len(receiver.requests) == 2
    for headers, body in receiver.requests:
        assert verify(rule.secret, body, headers[SIGNATURE_HEADER])
        assert not verify("whsec_wrong", body, headers[SIGNATURE_HEADER])
    first = json.loads(receiver.requests[0][1])
    assert first["type"] == "alert.firing" and first["rule_id"] == rule.pk
    assert first["value"] == firing.value and first["window_start"] == DROP.start.isoformat()


def test_portuguese_email_and_slack_webhook(mirrored, settings):
    settings.DEBUG = True  # the receiver is plain http on loopback: DEBUG only
    receiver = Receiver()
    make_rule(mirrored, language="pt-br", webhook_url=receiver.url, webhook_format="slack")
    with receiver.running():
        evaluate_rules(AFTER_DROP)
    assert "Alerta disparado" in mail.outbox[0].subject
    headers, body = receiver.requests[0]
    assert SIGNATURE_HEADER not in headers
    assert "Alerta disparado" in json.loads(body)["text"]


def test_two_evaluators_racing_send_one_notification(mirrored):
    rules = [make_rule(mirrored, name=f"R{i}", emails=[f"r{i}@example.com"]) for i in range(4)]
    with smtp_sink() as sink:
        errors = race(lambda: evaluate_rules(AFTER_DROP))
    assert errors == []
    assert sorted(m["To"] for m in sink.messages) == [f"r{i}@example.com" for i in range(4)]
    assert AlertEvent.objects.across_organizations().count() == len(rules)


def test_a_snoozed_rule_records_the_change_but_sends_nothing(mirrored):
    rule = make_rule(mirrored, snoozed_until=AFTER_DROP + timedelta(hours=1))
    evaluate_rules(AFTER_DROP)
    assert mail.outbox == []
    event = rule.events.get()
    assert event.state == "firing" and event.notify_status == NotifyStatus.SNOOZED
    evaluate_rules(NEXT_DAY)  # the snooze is over: the resolution is announced
    assert [m.subject.split(":")[0] for m in mail.outbox] == ["[Warning] Alert resolved"]


def test_a_window_not_mirrored_is_not_judged_and_staleness_fires(mirrored):
    rule = make_rule(mirrored, threshold=101)  # would fire on any judged day
    stale = make_rule(mirrored, name="Stale", metric="minutes_since_sync", window="1h",
                      condition="above", threshold=60)
    evaluate_rules(BEYOND)
    rule.refresh_from_db()
    assert rule.state == "ok" and not rule.events.exists()
    assert rule.last_note == "not judged: day 2026-03-11 not mirrored"
    # minutes_since_sync reads the real clock of the last sync; a day after it, it fires.
    mirrored.last_synced_at = BEYOND - timedelta(hours=3)
    mirrored.save(update_fields=["last_synced_at"])
    evaluate_rules(BEYOND)
    stale.refresh_from_db()
    assert stale.state == "firing" and stale.last_value == 180


def test_min_calls_and_change_against_previous_day(mirrored):
    small = make_rule(mirrored, name="Small", min_calls=100000, threshold=101)
    change = make_rule(mirrored, name="Drop", condition="change_below_pct", threshold=30,
                       compare_to="previous")
    week = make_rule(mirrored, name="Week", condition="change_below_pct", threshold=30,
                     compare_to="week_ago")
    evaluate_rules(AFTER_DROP)
    small.refresh_from_db(), change.refresh_from_db(), week.refresh_from_db()
    assert small.state == "ok" and "fewer than 100000" in small.last_note
    assert change.state == "firing"
    assert change.events.get().compare_value > 40
    # A week before 03-08 is before the mirror begins: not judged.
    assert week.state == "ok" and week.last_note == "not judged: comparison day 2026-03-01 " \
        "not mirrored"


def test_a_crash_between_send_and_save_never_sends_twice(mirrored):
    rule = make_rule(mirrored, emails=["a@example.com", "b@example.com"])
    CrashAfterSendBackend.crashed = False
    with override_settings(EMAIL_BACKEND="tests.support.summaries_support.CrashAfterSendBackend"), \
            pytest.raises(Crash):
        evaluate_rules(AFTER_DROP)
    assert [m.to[0] for m in mail.outbox] == ["a@example.com"]
    event = rule.events.get()
    assert event.notify_status == NotifyStatus.SENDING
    # Later passes recover it: the unconfirmed address is never sent again, the other is.
    evaluate_rules(AFTER_DROP + timedelta(minutes=5))  # not stale yet: left alone
    assert len(mail.outbox) == 1
    AlertEvent.objects.across_organizations().filter(pk=event.pk).update(
        claimed_at=AFTER_DROP - timedelta(hours=1))
    evaluate_rules(AFTER_DROP)
    assert [m.to[0] for m in mail.outbox] == ["a@example.com", "b@example.com"]
    event.refresh_from_db()
    assert event.recipients["email:a@example.com"]["status"] == "unknown"
    assert event.notify_status == NotifyStatus.FAILED and rule.events.count() == 1


def test_a_failing_webhook_is_retried_then_given_up(mirrored, settings):
    settings.DEBUG = True  # the receiver is plain http on loopback: DEBUG only
    receiver = Receiver()
    receiver.status = 500
    rule = make_rule(mirrored, emails=[], webhook_url=receiver.url)
    with receiver.running():
        for minute in range(4):
            evaluate_rules(AFTER_DROP + timedelta(minutes=minute))
    event = rule.events.get()
    assert len(receiver.requests) == 3  # MAX_ATTEMPTS, then no more
    assert event.notify_status == NotifyStatus.FAILED and "HTTP 500" in event.error



def test_a_sync_evaluates_the_rules_over_its_environment(org_a, simulator, eager_tasks):
    sim, server = simulator
    env = point_env(org_a, sim, server)
    other = point_env(org_a, sim, server, name="Other")
    rule = make_rule(env, name="Stale", metric="token_rejected", window="1h",
                     condition="above", threshold=0)
    untouched = make_rule(other, name="Other")
    sync_environment(env, now=end_of(END))
    rule.refresh_from_db(), untouched.refresh_from_db()
    assert rule.last_evaluated_at is not None and rule.state == "ok"
    assert rule.last_note.startswith("ok: token_rejected: ") and " 0 " in rule.last_note
    assert untouched.last_evaluated_at is None


def test_the_command_prints_one_line_per_rule_and_dry_run_changes_nothing(
        mirrored, subprocess_env):
    rule = make_rule(mirrored)
    command = [sys.executable, "manage.py", "evaluate_alerts", "--now",
               AFTER_DROP.isoformat()]
    dry = subprocess.run([*command, "--dry-run"], cwd=ROOT, env=subprocess_env,
                         capture_output=True, text=True, timeout=60)
    assert dry.returncode == 0, dry.stderr
    assert f"{rule.pk} org-a 'Answer rate' [ok]: firing: answer_rate" in dry.stdout
    assert "1 rule(s) evaluated, 0 change(s) (dry run" in dry.stdout
    assert not rule.events.exists()
    real = subprocess.run(command, cwd=ROOT, env={**subprocess_env, "EMAIL_URL": "dummy://"},
                          capture_output=True, text=True, timeout=60)
    assert real.returncode == 0, real.stderr
    assert "-> firing" in real.stdout and rule.events.get().state == "firing"
    bad = subprocess.run([*command[:-1], "yesterday"], cwd=ROOT, env=subprocess_env,
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode != 0 and "ISO 8601" in bad.stderr


# --- the doors: API and pages, tried by the cast -------------------------------------------

def rule_payload(env, **fields) -> dict:
    payload = {"name": "Volume", "environments": [env.pk], "metric": "calls", "window": "day",
               "condition": "change_below_pct", "threshold": 50, "compare_to": "week_ago",
               "min_calls": 10, "severity": "critical", "emails": ["Ops@Example.com"],
               "webhook_url": "https://hooks.example.invalid/hook", "enabled": True}
    payload.update(fields)
    return payload


def test_api_rules_crud_secret_once_and_tenancy(cast, env_a, env_b, api_client_for):
    alice = api_client_for(cast["alice"])
    created = alice.post("/api/v1/alert-rules/", rule_payload(env_a), format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["webhook_secret"].startswith("whsec_") and body["emails"] == ["ops@example.com"]
    assert body["organization"] == "org-a" and body["state"] == "ok"
    url = f"/api/v1/alert-rules/{body['id']}/"
    shown = alice.get(url).json()
    assert "webhook_secret" not in shown and shown["compare_to"] == "week_ago"
    rule = AlertRule.objects.across_organizations().get(pk=body["id"])
    assert rule.webhook_secret() == body["webhook_secret"]
    patched = alice.patch(url, {"condition": "below", "threshold": 5}, format="json")
    assert patched.status_code == 200 and patched.json()["compare_to"] == ""
    assert "webhook_secret" not in patched.json()
    # bob (viewer) reads, cannot write; carol (other org) sees nothing and gets 404.
    bob = api_client_for(cast["bob"])
    assert bob.get(url).status_code == 200
    assert bob.patch(url, {"threshold": 1}, format="json").status_code == 403
    assert bob.post("/api/v1/alert-rules/", rule_payload(env_a), format="json"
                    ).status_code == 403
    carol = api_client_for(cast["carol"])
    assert carol.get(url).status_code == 404
    assert carol.delete(url).status_code == 404
    assert carol.get("/api/v1/alert-rules/").json()["results"] == []
    stolen = carol.post("/api/v1/alert-rules/", rule_payload(env_a), format="json")
    assert stolen.status_code == 400 and "environments" in stolen.json()
    assert alice.delete(url).status_code == 204
    assert not AlertRule.objects.across_organizations().exists()


@pytest.mark.parametrize("fields, field", [
    ({"condition": "change_above_pct", "compare_to": ""}, "compare_to"),
    ({"condition": "above", "compare_to": "previous"}, "compare_to"),
    ({"metric": "callbacks_unmatched_rate", "window": "1h"}, "window"),
    ({"metric": "callbacks_answered_rate", "agent_id": "a1"}, "agent_id"),
    ({"metric": "bogus"}, "metric"),
    ({"window": "2h"}, "window"),
    ({"threshold": "lots"}, "threshold"),
    ({"environments": []}, "environments"),
    ({"environments": [999999]}, "environments"),
    ({"emails": ["not-an-address"]}, "emails"),
    ({"webhook_url": "ftp://example.com/x"}, "webhook_url"),
])
def test_api_refuses_inconsistent_rules_with_400(alice, env_a, api_client_for, fields, field):
    response = api_client_for(alice).post("/api/v1/alert-rules/", rule_payload(env_a, **fields),
                                          format="json")
    assert response.status_code == 400 and field in response.json(), response.content


def test_api_events_newest_first_and_scoped(mirrored, cast, api_client_for, env_b):
    rule = make_rule(mirrored)
    evaluate_rules(AFTER_DROP)
    evaluate_rules(NEXT_DAY)
    other = make_rule(env_b, name="B rule", threshold=101)
    AlertEvent.objects.create(rule=other, organization=env_b.organization, seq=1,
                              state="firing", metric="answer_rate", value=1, threshold=101,
                              created_at=NEXT_DAY, notify_status="none")
    events = api_client_for(cast["bob"]).get("/api/v1/alert-events/").json()["results"]
    assert [(e["rule"], e["state"]) for e in events] == [(rule.pk, "resolved"),
                                                          (rule.pk, "firing")]
    assert events[1]["window_start"] == DROP.start.isoformat().replace("+00:00", "Z")
    carol = api_client_for(cast["carol"]).get(f"/api/v1/alert-events/?rule={rule.pk}")
    assert carol.json()["results"] == []
    assert api_client_for(cast["bob"]).get("/api/v1/alert-events/?rule=x").status_code == 400


def test_pages_owner_edits_viewer_reads_other_tenant_404(mirrored, cast, client):
    rule = make_rule(mirrored)
    evaluate_rules(AFTER_DROP)
    base = "/o/org-a/settings/alerts/"
    client.force_login(cast["alice"])
    page = client.get(base)
    assert page.status_code == 200 and "Answer rate" in page.text
    # The firing banner is on every page of the organisation.
    assert "Alert firing (Warning)" in client.get("/o/org-a/").text
    detail = client.get(f"{base}{rule.pk}/")
    assert "/o/org-a/calls/?start=2026-03-08&amp;end=2026-03-08" in detail.text
    form = client.post(base + "new/", {
        "name": "Stale mirror", "environments": [mirrored.pk], "metric": "minutes_since_sync",
        "window": "1h", "condition": "above", "threshold": "90", "min_calls": "0",
        "severity": "critical", "emails": "oncall@example.com", "language": "pt-br",
        "webhook_url": "https://hooks.example.invalid/hook", "webhook_format": "json",
        "enabled": "on"})
    assert form.status_code == 302, form.content
    created = AlertRule.objects.across_organizations().get(name="Stale mirror")
    shown = client.get(form["Location"]).text
    assert created.webhook_secret() in shown
    assert created.webhook_secret() not in client.get(form["Location"]).text  # once
    bad = client.post(base + "new/", {"name": "x", "environments": [mirrored.pk],
                                      "metric": "answer_rate", "window": "day",
                                      "condition": "change_above_pct", "threshold": "1",
                                      "min_calls": "1", "severity": "info",
                                      "language": "en", "webhook_format": "json"})
    assert bad.status_code == 400
    snooze = client.post(f"{base}{rule.pk}/action/", {"action": "snooze", "for": "4h"})
    assert snooze.status_code == 302
    rule.refresh_from_db()
    assert rule.snoozed_until is not None
    assert client.post(f"{base}{rule.pk}/action/", {"action": "boom"}).status_code == 400

    client.force_login(cast["bob"])
    assert client.get(f"{base}{rule.pk}/").status_code == 200
    assert client.get(base + "new/").status_code == 403
    assert client.post(f"{base}{rule.pk}/edit/", {"name": "x"}).status_code == 403
    assert client.post(f"{base}{rule.pk}/action/", {"action": "acknowledge"}).status_code == 403

    client.force_login(cast["carol"])
    assert client.get(f"{base}{rule.pk}/").status_code == 404
    assert client.get(f"/o/org-b/settings/alerts/{rule.pk}/").status_code == 404
    assert client.post(f"/o/org-b/settings/alerts/{rule.pk}/delete/").status_code == 404


def test_pages_in_portuguese(mirrored, alice, client):
    make_rule(mirrored)
    client.force_login(alice)
    page = client.get("/o/org-a/settings/alerts/", HTTP_ACCEPT_LANGUAGE="pt-br")
    assert "Nova regra de alerta" in page.text and "Taxa de atendimento" in page.text


def test_the_firing_email_acknowledges_and_snoozes_from_its_signed_link(mirrored, client):
    import re
    import time
    from unittest import mock

    from reports.alerts.actions import LINK_MAX_AGE

    rule = make_rule(mirrored)
    evaluate_rules(AFTER_DROP)
    (message,) = mail.outbox
    link = re.search(r"(http\S+/alerts/email-action/\S+/)", message.body).group(1)
    assert link in message.alternatives[0][0]
    path = link.split("://", 1)[1].split("/", 1)[1]
    page = client.get("/" + path)  # a mail scanner's GET changes nothing
    assert page.status_code == 200 and "Acknowledge" in page.content.decode()
    rule.refresh_from_db()
    assert rule.acknowledged_at is None and rule.snoozed_until is None
    assert client.post("/" + path, {"action": "acknowledge"}).status_code == 200
    assert client.post("/" + path, {"action": "snooze", "for": "4h"}).status_code == 200
    assert client.post("/" + path, {"action": "snooze", "for": "1y"}).status_code == 400
    rule.refresh_from_db()
    assert rule.acknowledged_at is not None and rule.acknowledged_by is None
    assert rule.snoozed_until > datetime.now(UTC) + timedelta(hours=3)
    # A forged link is a 404; a genuine one past its age is a 410 that says what to do.
    forged = path.replace("email-action/", "email-action/x")
    assert client.get("/" + forged).status_code == 404
    later = time.time() + LINK_MAX_AGE.total_seconds() + 60
    with mock.patch("django.core.signing.time.time", return_value=later):
        stale = client.get("/" + path)
    assert stale.status_code == 410 and "Settings" in stale.content.decode()
