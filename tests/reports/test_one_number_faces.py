"""One figure, one way of writing it, on every face people read, in both languages: the same
money, count, percentage and change of a rate on the dashboard, the Outcomes page, the
summary email (text and HTML) and the alert email — each as `portal.formatting` writes it
(money rounded with its symbol and grouping, counts grouped, one minus sign)."""
from __future__ import annotations

import html as html_lib
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine
from django.test import Client
from django.utils import timezone, translation

from portal.formatting import (
    format_int,
    format_money,
    format_percent,
    format_percent_of,
    format_points_change,
)
from reports.alerts.deliver import render_email
from reports.alerts.models import AlertEvent, AlertRule
from reports.alerts.wording import describe
from reports.summaries.figures import build_summary
from reports.summaries.render import build_message
from reports.summaries.schedule import Period
from sync.models import Call
from sync.outcomes import settle_organisation
from tests.support.factories import make_calls, make_subscription

pytestmark = pytest.mark.django_db(transaction=True)

WEEK = (date(2026, 11, 9), date(2026, 11, 15))
PREV = (date(2026, 11, 2), date(2026, 11, 8))
# Every call of the week settled (the resolution window is 7 days).
NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
# Each call's vendor cost: 1,050 calls cost 1,296.225, written "1,296.23" (rounded, not cut).
EACH = Decimal("1.2345")


@pytest.fixture
def week(env_a):
    with time_machine.travel(NOW, tick=False):
        make_calls(env_a, 1080, *PREV, seed=1, testing_share=0)
        make_calls(env_a, 1050, *WEEK, seed=2, testing_share=0)
        Call.objects.filter(environment=env_a).update(vendor_cost=EACH,
                                                      vendor_cost_currency="USD")
        settle_organisation(env_a.organization_id)
    return env_a


def _alert_email(env, metric: str, value: float, language: str) -> str:
    rule = AlertRule.objects.create(
        organization=env.organization, name=metric, metric=metric, condition="above",
        threshold=0, min_calls=1, emails=["ops@example.com"], language=language)
    event = AlertEvent.objects.create(
        rule=rule, organization=env.organization, seq=1, state="firing", metric=metric,
        value=value, threshold=0, calls=1050, created_at=timezone.now())
    message = render_email(event, "ops@example.com")
    html = next(body for body, mime in message.alternatives if mime == "text/html")
    return message.body + html_lib.unescape(html)


@pytest.mark.parametrize("language", ["en", "pt-br"])
def test_money_counts_rates_and_changes_read_alike_on_every_face(week, alice, language):
    client = Client(headers={"accept-language": language})
    client.force_login(alice)
    period = {"env": week.pk, "start": WEEK[0].isoformat(), "end": WEEK[1].isoformat()}
    with time_machine.travel(NOW, tick=False):
        api = client.get("/api/v1/reports/outcomes/", {
            "environment": week.pk, "start_date": WEEK[0].isoformat(),
            "end_date": WEEK[1].isoformat()}).json()["summary"]["totals"]
        dashboard = html_lib.unescape(client.get("/o/org-a/", period).content.decode())
        outcomes = html_lib.unescape(
            client.get("/o/org-a/outcomes/", period).content.decode())
        summary = build_summary(week.organization, [week], Period(*WEEK))
        message = build_message(make_subscription(week.organization, addresses=["o@x.org"],
                                                  language=language), summary, "o@x.org")
        email_html = html_lib.unescape(
            next(body for body, mime in message.alternatives if mime == "text/html"))
        alert_cost = _alert_email(week, "cost", float(api["cost"]), language)
        rate = summary.calls.totals.answer_rate
        alert_rate = _alert_email(week, "answer_rate", 100 * rate, language)

    assert Decimal(str(api["cost"])) == 1050 * EACH
    change = summary.deltas["answer_rate"].change
    assert change
    with translation.override(language):
        cost = format_money(Decimal(str(api["cost"])), "USD")
        calls = format_int(1050)
        answer_rate = format_percent(rate)
        repeat_rate = format_percent(api["repeat_contact_rate"])
        points = format_points_change(change)
        points_size = format_points_change(change, signed=False)
    assert cost == {"en": "US$\u00a01,296.23", "pt-br": "US$\u00a01.296,23"}[language]
    assert calls == {"en": "1,050", "pt-br": "1.050"}[language]

    for face, text in [("dashboard", dashboard), ("outcomes", outcomes),
                       ("summary text", message.body), ("summary html", email_html),
                       ("alert email", alert_cost)]:
        assert cost in text, face
    for face, text in [("dashboard", dashboard), ("outcomes", outcomes),
                       ("summary text", message.body), ("summary html", email_html)]:
        assert calls in text, face
    for face, text in [("dashboard", dashboard), ("summary text", message.body),
                       ("summary html", email_html), ("alert email", alert_rate)]:
        assert answer_rate in text, face
    for face, text in [("dashboard", dashboard), ("outcomes", outcomes),
                       ("summary text", message.body), ("summary html", email_html)]:
        assert repeat_rate in text, face
    # A change of a rate: signed on the dashboard's card, its size beside "up"/"down" in the
    # email, with the same unit; a negative one with the minus sign, never a hyphen.
    assert points in dashboard and points_size in message.body and points_size in email_html
    assert format_percent_of(100 * rate) == answer_rate
    assert points.startswith("\u2212" if change < 0 else "+")
    assert f"-{points_size}" not in dashboard


@pytest.mark.parametrize(("language", "calls", "minimum"), [
    ("en", "1,234 calls", "minimum of 2,000"), ("pt-br", "1.234", "2.000")])
def test_an_alerts_unjudged_reading_groups_its_counts(env_a, language, calls, minimum):
    rule = AlertRule(organization=env_a.organization, name="Volume", metric="calls",
                     condition="above", threshold=10, last_evaluated_at=NOW,
                     last_reading={"reason": "too_few", "calls": 1234, "minimum": 2000,
                                   "window": "2026-11-24"})
    with translation.override(language):
        words = describe(rule)
    assert calls in words and minimum in words, words
