"""Alert metrics of the outcome report: cost, cost per resolved call and the repeat-contact
rate, by threshold and by % change, for the organisation and per team. The figures of known
outcomes are judged on the latest window whose calls have settled (the resolution window
before it); the form offers them in both languages."""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.test import Client

from portal.models import Team, TeamAgent
from reports.alerts.evaluate import evaluate_rules
from reports.alerts.models import AlertRule
from reports.alerts.wording import metric_figure
from sync.models import Agent
from sync.outcomes import settle_organisation
from tests.support.factories import build_call, mark_read, save_calls

pytestmark = pytest.mark.django_db(transaction=True)

DAY = date(2026, 11, 20)
JUDGED_AT = datetime(2026, 11, 21, 15, tzinfo=UTC)  # "last complete day" = DAY (Sao Paulo)
SETTLED = DAY - timedelta(days=7)  # that day's calls settled (a 7-day resolution window)
# Per team and day: answered calls, of them repeats, the vendor's cost of each call.
PLAN = {("red", SETTLED - timedelta(days=1)): (10, 2, "0.10"),
        ("red", SETTLED): (10, 2, "0.10"),
        ("blue", SETTLED - timedelta(days=1)): (10, 1, "0.10"),
        ("blue", SETTLED): (10, 5, "0.20")}
AGAIN = "0.50"  # each repeat call's cost, two days later


@pytest.fixture
def teams(env_a):
    org = env_a.organization
    tz = org.tzinfo
    calls = []
    for n, ((name, day), (answered, repeats, cost)) in enumerate(PLAN.items()):
        agent, _ = Agent.objects.get_or_create(environment=env_a, external_id=f"ag-{name}",
                                               defaults={"name": f"Agent {name}"})
        for i in range(answered):
            number = f"+55 11 9{n:03d}-{i:04d}"  # each caller of its own
            start = datetime.combine(day, time(10), tzinfo=tz) + timedelta(minutes=i)
            calls.append(build_call(env_a, start, agent=agent, direction="inbound",
                                    external_id=f"{name}-{day}-{i}", status="completed",
                                    from_number=number, vendor_cost=Decimal(cost),
                                    vendor_cost_currency="USD"))
            if i < repeats:
                calls.append(build_call(env_a, start + timedelta(days=2), agent=agent,
                                        direction="inbound", status="completed",
                                        external_id=f"{name}-{day}-{i}-again",
                                        from_number=number, vendor_cost=Decimal(AGAIN),
                                        vendor_cost_currency="USD"))
    save_calls(env_a, calls, read=False)
    mark_read(env_a, SETTLED - timedelta(days=2), DAY + timedelta(days=1))
    settle_organisation(org.pk)
    red = Team.objects.create(organization=org, name="Red")
    blue = Team.objects.create(organization=org, name="Blue")
    TeamAgent.objects.create(team=red, environment=env_a, agent_external_id="ag-red")
    TeamAgent.objects.create(team=blue, environment=env_a, agent_external_id="ag-blue")
    return {"red": red, "blue": blue}


def _rule(env, **fields) -> AlertRule:
    rule = AlertRule.objects.create(organization=env.organization, name=fields["metric"],
                                    window="day", min_calls=5, **fields)
    rule.environments.set([env])
    return rule


def test_repeat_contact_rate_above_a_threshold_fires_for_the_team_that_calls_back(
        env_a, teams):
    rule = _rule(env_a, metric="repeat_contact_rate", condition="above", threshold=30,
                 each_team=True)
    evaluate_rules(JUDGED_AT)
    children = {c.team.name: c for c in AlertRule.objects.across_organizations().filter(
        parent=rule)}
    assert children["Blue"].state == "firing" and children["Red"].state == "ok"
    assert children["Blue"].last_value == pytest.approx(50)  # 5 of 10 settled answered
    assert children["Red"].last_value == pytest.approx(20)
    whole = _rule(env_a, metric="repeat_contact_rate", condition="above", threshold=30)
    evaluate_rules(JUDGED_AT)
    whole.refresh_from_db()
    assert whole.last_value == pytest.approx(35) and whole.state == "firing"  # 7 of 20


def test_cost_per_resolved_call_rising_fires_by_percent_change_for_a_team(env_a, teams):
    blue = _rule(env_a, metric="cost_per_resolved", condition="change_above_pct",
                 threshold=50, compare_to="previous", team=teams["blue"])
    red = _rule(env_a, metric="cost_per_resolved", condition="change_above_pct",
                threshold=50, compare_to="previous", team=teams["red"])
    evaluate_rules(JUDGED_AT)
    blue.refresh_from_db()
    red.refresh_from_db()
    # Blue: 2.00 over 5 resolved (0.40), the day before 1.00 over 9 (0.1111): +260 %.
    assert blue.state == "firing" and blue.last_value == pytest.approx(0.4)
    assert red.state == "ok" and red.last_value == pytest.approx(0.125)  # 1.00 / 8, unchanged


def test_cost_over_a_threshold_reads_the_windows_own_calls(env_a, teams):
    # The last 7 complete days hold only the repeat calls (2 + 5 + 1 + 2, 0.50 each).
    rule = _rule(env_a, metric="cost", condition="above", threshold=4.5)
    rule.window = "7d"
    rule.save()
    evaluate_rules(JUDGED_AT)
    rule.refresh_from_db()
    assert rule.last_value == pytest.approx(5.0) and rule.state == "firing"
    assert metric_figure("cost", 5.0) == "US$\u00a05.00"
    assert metric_figure("cost_per_resolved", 0.4) == "US$\u00a00.40"
    assert metric_figure("cost_per_resolved", 0.0034) == "US$\u00a00.0034"


def test_the_alert_form_offers_the_outcome_metrics(env_a, alice):
    client = Client()
    client.force_login(alice)
    html = client.get("/o/org-a/settings/alerts/new/").content.decode()
    for value in ("cost", "cost_per_resolved", "repeat_contact_rate"):
        assert f'value="{value}"' in html
    assert "Cost per resolved call" in html
    pt = client.get("/o/org-a/settings/alerts/new/",
                    headers={"accept-language": "pt-br"}).content.decode()
    assert "Custo por chamada resolvida" in pt and "Taxa de recontato (%)" in pt
