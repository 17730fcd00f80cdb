"""Portuguese everywhere: alert coverage ("espelhado até …", in the organisation's zone),
"Dias de histórico a recuperar", audit-log actions as sentences, callbacks that agree
("52 recebidos, 43 atendidos"), and a typed snooze read in the organisation's zone."""
from __future__ import annotations

from datetime import UTC, date, datetime

from django.core import mail
from django.utils import translation

from portal import audit
from reports.alerts.wording import coverage_words
from reports.models import AlertRule
from reports.summaries.dispatch import dispatch
from tests.support.alert_forms import health_rule_form
from tests.support.factories import make_callback_days, make_calls, make_subscription


def test_alert_coverage_reads_in_the_language_and_the_zone():
    text = "mirrored until 2026-11-23 13:05 UTC"
    with translation.override("pt-br"):
        assert coverage_words(text, "America/Sao_Paulo") == \
            "espelhado até 23/11/2026 10:05 (America/Sao_Paulo)"
        assert translation.gettext("Back-fill days") == "Dias de histórico a recuperar"
    with translation.override("en"):
        assert coverage_words(text, "America/Sao_Paulo") == \
            "mirrored until 11/23/2026 10:05 AM (America/Sao_Paulo)"


def test_the_audit_log_reads_as_sentences(world):
    audit.record("environment.token_replaced", actor=world.users["alice"],
                 organization=world.env_a.organization, target=world.env_a)
    client = world.client("alice")
    client.cookies["django_language"] = "pt-br"
    page = client.get("/admin/portal/auditlog/").content.decode()
    assert "Token do ambiente substituído" in page
    assert ">environment.token_replaced<" not in page


def test_callbacks_agree_in_the_portuguese_summary(env_a, alice):
    week = (date(2026, 11, 16), date(2026, 11, 22))
    make_calls(env_a, 50, *week, seed=2)
    make_callback_days(env_a, [date(2026, 11, d) for d in range(16, 23)], seed=3)
    make_subscription(env_a.organization, members=[alice], language="pt-br",
                      next_run_at=datetime(2026, 11, 23, 11, 0, tzinfo=UTC))
    dispatch(datetime(2026, 11, 23, 11, 0, tzinfo=UTC))
    text = mail.outbox[-1].body
    assert " recebidos, " in text and " atendidos, " in text, text
    assert "recebidos, 0 atendidas" not in text


def test_a_typed_snooze_is_the_organisations_wall_time(env_a, alice, client):
    client.force_login(alice)
    form = health_rule_form(env_a, snoozed_until="2026-12-01T10:00")
    page = client.get("/o/org-a/settings/alerts/new/").content.decode()
    assert "In the organisation&#x27;s time (America/Sao_Paulo)." in page
    assert client.post("/o/org-a/settings/alerts/new/", form).status_code == 302
    rule = AlertRule.objects.for_organization(env_a.organization).get()
    assert rule.snoozed_until == datetime(2026, 12, 1, 13, 0, tzinfo=UTC)  # 10:00 in São Paulo
