"""Alerts a user can read: a rule is judged when saved (never "OK" before), its last
evaluation is worded in both languages, acknowledged and snoozed show wherever the rule shows
(banner, list, the email's page), a member hides a banner for themself until the rule changes
state, and the agent is picked from the mirrored agents."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone, translation

from reports.alerts.actions import make_token
from reports.alerts.models import AlertEvent, AlertRule, NotifyStatus
from reports.alerts.wording import describe
from tests.support.cast import make_env
from tests.support.factories import make_agents, make_calls

pytestmark = pytest.mark.django_db

BASE = "/o/org-a/settings/alerts/"


@pytest.fixture
def mirrored(env_a):
    """Three complete local days of realistic calls (answer rate about 70 %)."""
    today = timezone.now().astimezone(env_a.organization.tzinfo).date()
    agents = make_agents(env_a, 2)
    make_calls(env_a, 240, today - timedelta(days=3), today - timedelta(days=1), agents=agents)
    return env_a


def _client(user, language: str = "en") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    return client


def _rule_form(env, **fields) -> dict:
    data = {"name": "Answer rate low", "environments": [env.pk], "metric": "answer_rate",
            "window": "day", "condition": "below", "threshold": "95", "min_calls": "20",
            "severity": "warning", "language": "en", "webhook_format": "json",
            "enabled": "on", "agent_id": ""}
    data.update(fields)
    return data


def _text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def test_a_rule_is_judged_when_saved_and_worded_in_both_languages(mirrored, alice):
    unsaved = AlertRule.objects.create(organization=mirrored.organization, name="Fresh",
                                       metric="calls", condition="below", threshold=1)
    unsaved.environments.set([mirrored])
    client = _client(alice)
    listing = _text(client.get(BASE))
    assert re.search(r"Fresh .*Not evaluated yet", listing)
    assert not re.search(r"Fresh [^|]*? OK ", listing)

    saved = client.post(BASE + "new/", _rule_form(mirrored))
    assert saved.status_code == 302, saved.content
    rule = AlertRule.objects.across_organizations().get(name="Answer rate low")
    assert rule.state == "firing" and rule.last_evaluated_at is not None
    # The change is recorded now; its notification leaves with the next evaluation tick.
    event = AlertEvent.objects.across_organizations().get(rule=rule)
    assert event.notify_status == NotifyStatus.PENDING
    page = _text(client.get(saved["Location"]))
    assert "Firing" in page
    assert re.search(r"Answer rate \d\d\.\d% is below 95\.0% \(\d\d/\d\d/\d{4}\)\.", page), page
    assert "answer_rate" not in page and "below 75?" not in page
    portuguese = _text(_client(alice, "pt-BR").get(saved["Location"]))
    assert re.search(r"Taxa de atendimento \d\d,\d% está abaixo de 95,0%", portuguese)
    assert "Disparado" in portuguese


def test_not_judged_readings_are_worded(env_a, alice):
    rule = AlertRule.objects.create(organization=env_a.organization, name="Nothing yet",
                                    metric="answer_rate", condition="below", threshold=50)
    rule.environments.set([env_a])
    client = _client(alice)
    client.post(f"{BASE}{rule.pk}/edit/", _rule_form(env_a, name="Nothing yet"))
    rule.refresh_from_db()
    assert rule.last_note == "not judged: nothing mirrored yet"
    with translation.override("en"):
        assert describe(rule) == "Not judged: nothing is mirrored yet."
    page = _text(_client(alice, "pt-BR").get(f"{BASE}{rule.pk}/"))
    assert "Não avaliado: nada foi espelhado ainda." in page
    assert "Ainda não avaliado" not in page  # it was evaluated: it just could not judge


def test_a_change_reads_as_a_rise_or_fall_in_both_languages(env_a):
    rule = AlertRule(organization=env_a.organization, metric="answer_rate", threshold=10,
                     condition="change_below_pct", compare_to="previous",
                     last_evaluated_at=timezone.now(),
                     last_reading={"reason": "judged", "value": 60.0, "compare_value": 80.0,
                                   "window": "2026-11-22"})
    with translation.override("en"):
        words = " ".join(describe(rule).split())
    assert words == ("Answer rate fell 25.0%, from 80.0% to 60.0%; the alert is for a fall of "
                     "more than 10.0% (11/22/2026).")
    with translation.override("pt-br"):
        rule.last_reading["value"] = 88.25
        words = " ".join(describe(rule).split())
    assert words == ("Taxa de atendimento subiu 10,3%, de 80,0% para 88,3%; o alerta é para "
                     "uma queda de mais de 10,0% (22/11/2026).")  # half up, as on the dashboard


def test_forms_speak_the_members_language(alice):
    new_rule = _client(alice, "pt-BR").get(BASE + "new/").content.decode()
    assert re.search(r'<option value="pt-br" selected>', new_rule)
    summary = _client(alice, "pt-BR").get("/o/org-a/settings/subscriptions/new/")
    text = summary.content.decode()
    assert 'value="Resumo semanal"' in text
    assert re.search(r'<option value="pt-br" selected>', text)
    english = _client(alice).get("/o/org-a/settings/subscriptions/new/").content.decode()
    assert 'value="Weekly summary"' in english


def test_the_agent_is_picked_from_the_mirrored_agents(mirrored, alice, org_b):
    client = _client(alice)
    form = client.get(BASE + "new/").content.decode()
    agent_select = form[form.index('name="agent_id"'):].split("</select>")[0]
    assert f'<optgroup label="{mirrored.name}">' in agent_select
    assert re.search(rf'<option value="agent-{mirrored.pk}-1">Agent 1</option>', agent_select)
    other = make_env(org_b, "Elsewhere", "talq_other")
    (stranger,) = make_agents(other, 1, prefix="them")
    refused = client.post(BASE + "new/", _rule_form(mirrored, agent_id=stranger.external_id))
    assert refused.status_code == 400 and not AlertRule.objects.across_organizations().exists()
    second = make_env(mirrored.organization, "Support", "talq_second")
    (not_chosen,) = make_agents(second, 1, prefix="support")
    refused = client.post(BASE + "new/", _rule_form(mirrored, agent_id=not_chosen.external_id))
    assert "This agent is not in the chosen environments." in refused.content.decode()
    chosen = client.post(BASE + "new/", _rule_form(mirrored, agent_id=f"agent-{mirrored.pk}-1"))
    assert chosen.status_code == 302
    rule = AlertRule.objects.across_organizations().get()
    assert rule.agent_id == f"agent-{mirrored.pk}-1"
    assert "agent Agent 1" in _text(client.get(chosen["Location"]))


def test_acknowledged_and_snoozed_show_everywhere_and_banners_hide_per_member(
        mirrored, alice, bob):
    owner, viewer = _client(alice), _client(bob)
    owner.post(BASE + "new/", _rule_form(mirrored, threshold="95"))
    rule = AlertRule.objects.across_organizations().get()
    banner = owner.get("/o/org-a/").content.decode()
    assert 'class="banner alert warning"' in banner and "Alert firing (Warning)" in banner
    assert re.search(r"Answer rate \d\d(\.\d)?% is below 95\.0%", _text(owner.get("/o/org-a/")))

    # alice hides it (for herself, on every page); bob still sees it, and may hide it too.
    hidden = owner.post(f"{BASE}{rule.pk}/dismiss/", {"next": "/o/org-a/calls/"})
    assert hidden.status_code == 302 and hidden["Location"] == "/o/org-a/calls/"
    assert "Alert firing" not in owner.get("/o/org-a/").content.decode()
    assert "Alert firing" not in _client(alice).get("/o/org-a/agents/").content.decode()
    assert "Alert firing" in viewer.get("/o/org-a/").content.decode()
    away = viewer.post(f"{BASE}{rule.pk}/dismiss/", {"next": "//evil.example/"})
    assert away["Location"] == "/o/org-a/"

    # Acknowledged and snoozed: the rule's pages say so; the banner is gone for everyone.
    owner.post(f"{BASE}{rule.pk}/action/", {"action": "acknowledge"})
    owner.post(f"{BASE}{rule.pk}/action/", {"action": "snooze", "for": "4h"})
    email_page = Client().get(f"/alerts/email-action/{make_token(rule.pk, 'ops@example.com')}/")
    for page in (owner.get(BASE), owner.get(f"{BASE}{rule.pk}/"), email_page):
        text = _text(page)
        assert "acknowledged by alice" in text and "snoozed until" in text, text
    assert 'value="acknowledge"' not in email_page.content.decode()
    assert "Alert firing" not in _client(bob).get("/o/org-a/").content.decode()

    # The snooze ends, the rule resolves and fires again: a new firing shows its banner again.
    owner.post(f"{BASE}{rule.pk}/action/", {"action": "unsnooze"})
    owner.post(f"{BASE}{rule.pk}/edit/", _rule_form(mirrored, threshold="1"))
    owner.post(f"{BASE}{rule.pk}/edit/", _rule_form(mirrored, threshold="95"))
    rule.refresh_from_db()
    assert rule.state == "firing" and rule.state_seq == 3
    assert "Alert firing" in owner.get("/o/org-a/").content.decode()


def test_a_page_with_nothing_firing_asks_one_plain_probe(mirrored, alice):
    """The banner's list (with its per-member dismissal subquery) is read only when some rule
    is firing: every other page asks one plain question (reports/alerts/context.py)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = _client(alice)
    client.post(BASE + "new/", _rule_form(mirrored, threshold="1"))  # saved, not firing
    with CaptureQueriesContext(connection) as quiet:
        assert "Alert firing" not in client.get("/o/org-a/calls/").content.decode()
    rules = [q["sql"] for q in quiet.captured_queries if "reports_alertrule" in q["sql"]]
    assert len(rules) == 1 and "reports_bannerdismissal" not in rules[0], rules
    client.post(f"{BASE}{AlertRule.objects.across_organizations().get().pk}/edit/",
                _rule_form(mirrored, threshold="95"))
    with CaptureQueriesContext(connection) as firing:
        assert "Alert firing" in client.get("/o/org-a/calls/").content.decode()
    assert any("reports_bannerdismissal" in q["sql"] for q in firing.captured_queries)


def test_another_tenant_cannot_dismiss(mirrored, alice, carol):
    _client(alice).post(BASE + "new/", _rule_form(mirrored))
    rule = AlertRule.objects.across_organizations().get()
    assert _client(carol).post(f"{BASE}{rule.pk}/dismiss/").status_code == 404
    assert _client(carol).post(f"/o/org-b/settings/alerts/{rule.pk}/dismiss/").status_code \
        == 404
