"""The summary email says what a resolved call costs: cost (with its source), cost per resolved
call and the repeat-contact rate, in both languages, HTML and text — the figures the outcome
API answers for the same period, each opening its calls."""
from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import translation

from reports.summaries.figures import build_summary
from reports.summaries.render import build_message
from reports.summaries.schedule import Period
from reports.templatetags.summary_format import cost
from sync.models import AgentPrice
from sync.outcomes import settle_organisation
from tests.support.factories import build_call, make_agents, make_subscription, save_calls

pytestmark = pytest.mark.django_db(transaction=True)

FIRST, LAST = date(2026, 11, 2), date(2026, 11, 8)


@pytest.fixture
def world(env_a):
    """A week of calls of a few numbers: some with the vendor's own cost, the rest priced by
    an agent's snapshot (mixed), settled by the sync's rule."""
    org = env_a.organization
    agents = make_agents(env_a, 2)
    for agent in agents:  # every call priced: a cost per resolved call is shown
        AgentPrice.objects.create(environment=env_a, agent_external_id=agent.external_id,
                                  valid_from=FIRST - timedelta(days=30), checked_on=LAST,
                                  currency="USD", per_minute=Decimal("0.0875"))
    rng = random.Random(4)
    calls = []
    for _ in range(120):
        day = FIRST + timedelta(days=rng.randrange(14))
        at = datetime.combine(day, time(rng.randrange(8, 20), rng.randrange(60)),
                              tzinfo=org.tzinfo)
        agent = rng.choice(agents)
        vendor = agent is agents[1] and rng.random() < 0.7
        calls.append(build_call(
            env_a, at, agent=agent, direction="inbound", rng=rng,
            status=rng.choice(["completed", "completed", "no-answer"]),
            from_number=f"+55 11 90000-00{rng.randrange(30):02d}",
            **({"vendor_cost": Decimal(rng.randrange(1, 900)) / 1000,
                "vendor_cost_currency": "USD"} if vendor else {})))
    save_calls(env_a, calls)
    settle_organisation(org.pk)
    return org


@pytest.mark.parametrize("language", ["en", "pt-br"])
def test_the_summary_shows_the_outcome_figures_of_the_api(world, env_a, alice, language):
    summary = build_summary(world, [env_a], Period(FIRST, LAST))
    t = summary.outcomes.totals
    client = Client()
    client.force_login(alice)
    api = client.get("/api/v1/reports/outcomes/", {
        "environment": env_a.pk, "start_date": FIRST.isoformat(),
        "end_date": LAST.isoformat()}).json()["summary"]["totals"]
    assert t.cost_source == api["cost_source"] == "mixed"
    assert (t.cost, t.cost_per_resolved, t.repeat_contact_rate) == (
        Decimal(str(api["cost"])), Decimal(str(api["cost_per_resolved"])),
        api["repeat_contact_rate"])
    assert t.repeat_contacts and t.resolved

    sub = make_subscription(world, addresses=["ops@example.com"], language=language)
    message = build_message(sub, summary, "ops@example.com")
    html = next(body for body, mime in message.alternatives if mime == "text/html")
    with translation.override(language):
        shown_cost, per_resolved = cost(t), cost(t, "cost_per_resolved")
    labels = {"en": ("Cost per resolved call", "Repeat-contact rate",
                     f"cost known for {t.calls} of {t.calls} calls", "settled "),
              "pt-br": ("Custo por chamada resolvida", "Taxa de recontato",
                        f"custo conhecido de {t.calls} de {t.calls} chamadas",
                        "encerradas em ")}[language]
    for body in (html, message.body):
        assert shown_cost in body and per_resolved in body
        assert all(label in body for label in labels)
        assert "resolution=repeat" in body and "resolution=resolved" in body


def test_priced_calls_that_cost_nothing_sum_to_a_zero_cost(env_a):
    """Calls priced by a snapshot but with no billed or talk seconds (none answered) cost
    0 — a figure, from the estimate — per agent as in total (every amount of the statement
    was zero)."""
    org = env_a.organization
    (agent,) = make_agents(env_a, 1)
    AgentPrice.objects.create(environment=env_a, agent_external_id=agent.external_id,
                              valid_from=FIRST - timedelta(days=30), checked_on=LAST,
                              currency="USD", per_minute=Decimal("0.0875"))
    rng = random.Random(5)
    save_calls(env_a, [build_call(
        env_a, datetime.combine(FIRST + timedelta(days=d), time(10), tzinfo=org.tzinfo),
        agent=agent, direction="outbound", status="no-answer", duration=0, rng=rng)
        for d in range(3)])
    summary = build_summary(org, [env_a], Period(FIRST, LAST))
    for row in (summary.outcomes.totals, *summary.outcomes.agents):
        assert row.cost == 0 and row.cost_source == "estimate" and row.estimated == 3
