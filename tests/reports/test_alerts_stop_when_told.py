"""Alerts that stop when told: acknowledging or snoozing a firing rule cancels its pending
notifications (nothing is sent after) and clears the banner; a "minutes since the last sync"
rule neither stores nor shows the window, agent, comparison or minimum it ignores; the rule
form is laid out like the other settings forms."""
from __future__ import annotations

import pytest
from django.core import mail
from django.utils import timezone

from reports.alerts.deliver import deliver_pending
from reports.models import AlertEvent, AlertRule
from tests.support.alert_forms import health_rule_form

BASE = "/o/org-a/settings/alerts/"


def _firing(env, name: str) -> AlertRule:
    rule = AlertRule.objects.create(
        organization=env.organization, name=name, metric="minutes_since_sync",
        condition="above", threshold=5, emails=["ops@example.com"], state="firing",
        state_seq=1)
    rule.environments.set([env])
    AlertEvent.objects.for_organization(env.organization).create(
        rule=rule, organization=env.organization, seq=1, state="firing", value=90,
        threshold=5, notify_status="pending", coverage="health of the mirror",
        created_at=timezone.now())
    return rule


@pytest.mark.parametrize("action,status", [("acknowledge", "acked"), ("snooze", "snoozed")])
def test_acknowledge_or_snooze_cancels_pending_and_clears_the_banner(
        env_a, alice, client, action, status):
    rule = _firing(env_a, "Mirror stale")
    client.force_login(alice)
    assert "Alert firing" in client.get("/o/org-a/").content.decode()
    client.post(f"{BASE}{rule.pk}/action/", {"action": action, "for": "4h"})
    event = AlertEvent.objects.for_organization(env_a.organization).get(rule=rule)
    assert event.notify_status == status
    deliver_pending(timezone.now())
    assert mail.outbox == []
    assert "Alert firing" not in client.get("/o/org-a/").content.decode()
    assert "Not sent" in client.get(f"{BASE}{rule.pk}/").content.decode()


def test_minutes_since_sync_keeps_only_what_it_reads(env_a, alice, client):
    client.force_login(alice)
    agent_form = health_rule_form(env_a, window="7d", min_calls="500")
    assert client.post(BASE + "new/", agent_form).status_code == 302
    rule = AlertRule.objects.for_organization(env_a.organization).get()
    assert (rule.window, rule.min_calls, rule.agent_id, rule.compare_to) == ("day", 20, "", "")
    detail = client.get(f"{BASE}{rule.pk}/").content.decode()
    facts = detail.split("<dl>")[1].split("</dl>")[0]
    assert "Minimum calls" not in facts and "Window" not in facts and " · Day · " not in facts
    edit = client.get(f"{BASE}{rule.pk}/edit/").content.decode()
    assert 'name="window"' not in edit and 'name="min_calls"' not in edit
    assert 'class="form card"' in edit and "Cancel" in edit
    # A change condition means nothing for it: refused, with the reason.
    refused = client.post(BASE + "new/", {**agent_form, "condition": "change_above_pct",
                                          "compare_to": "previous"})
    assert refused.status_code == 400 and "choose above or below" in refused.content.decode()
