"""Every figure of the Outcomes page opens its calls: the explorer's `resolution` filter (the
one call filter, `reports.call_filter`) lists exactly the calls each count of the outcome
report counts — totals, per agent, per vendor, per period — and the drill's count equals the
figure shown; the dashboard's cost and resolution cards show the report's own figures."""
from __future__ import annotations

import random
from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone

from reports import registry
from reports.call_filter import CallCriteria, filter_calls
from reports.queries.outcomes import outcomes_summary
from sync.models import Call
from sync.outcomes import settle_organisation
from tests.reports.test_drill_links import _explorer_total, _walk
from tests.support.cast import make_env
from tests.support.factories import build_call, make_agents, mark_read, save_calls

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def world(org_a, env_a):
    """Calls of a few numbers over the last 20 local days in two environments (some web
    calls, tests, unanswered), settled by the sync's rule: resolved, repeat and pending."""
    env_2 = make_env(org_a, "Second desk", "talq_cccccccccccccccccccccccccccc3333")
    tz = org_a.tzinfo
    today = timezone.localdate(timezone=tz)
    first = today - timedelta(days=19)
    rng = random.Random(59)
    numbers = [f"+55 11 98765-43{i:02d}" for i in range(25)]
    for env in (env_a, env_2):
        agents = make_agents(env, 2)
        calls = []
        for _ in range(160):
            day = first + timedelta(days=rng.randrange(20))
            at = datetime.combine(day, time(rng.randrange(0, 20)), tzinfo=tz)
            if at > timezone.now():
                at -= timedelta(days=1)
            number = rng.choice(numbers)
            direction = rng.choice(["inbound", "outbound", "outbound", "web"])
            calls.append(build_call(
                env, at, agent=rng.choice(agents), direction=direction,
                status=rng.choice(["completed", "completed", "answered", "no-answer"]),
                is_testing=rng.random() < 0.05, rng=rng,
                **({"to_number": number} if direction == "outbound" else
                   {"from_number": number} if direction == "inbound" else
                   {"from_number": "", "to_number": ""})))
        save_calls(env, calls)
        # Read through now, whichever days its calls fell on: whether an environment had a
        # call today depends on the hour the test runs at, its coverage must not.
        mark_read(env, first, today)
    settle_organisation(org_a.pk)
    return {"org": org_a, "envs": [env_a, env_2], "first": first, "today": today}


def test_each_resolution_group_lists_the_calls_the_report_counts(world):
    org, envs = world["org"], world["envs"]
    now = timezone.now()
    summary = outcomes_summary(envs, world["first"], world["today"], "day", now=now)
    t = summary.totals
    assert t.resolved and t.repeat_contacts and t.pending  # the world has each group

    def count(resolution: str) -> int:
        return filter_calls(CallCriteria(
            environment_ids=[e.pk for e in envs], timezone=org.tzinfo, start=world["first"],
            end=world["today"], resolution=resolution,
            window_days=org.resolution_window_days, now=now)).count()

    groups = ("answered", "no_number", "settled", "resolved", "repeat", "pending")
    assert {g: count(g) for g in groups} == {
        "answered": t.answered - t.no_number, "no_number": t.no_number, "settled": t.settled,
        "resolved": t.resolved, "repeat": t.repeat_contacts, "pending": t.pending}
    # Answered as every report counts it: web calls too (they have no number to match).
    assert t.no_number and t.answered == filter_calls(CallCriteria(
        environment_ids=[e.pk for e in envs], timezone=org.tzinfo, start=world["first"],
        end=world["today"], outcome="answered")).count()
    assert Call.objects.filter(direction="web").exists()  # web calls: counted, never settled


def test_every_outcomes_figure_opens_exactly_its_calls(client, alice, world):
    client.force_login(alice)
    start, end = world["first"].isoformat(), world["today"].isoformat()
    # Totals, 2 × 2 agents, 1 vendor, 20 days: five counts each, most of them doors.
    assert _walk(client, f"/o/org-a/outcomes/?start={start}&end={end}") > 80
    agent = Call.objects.filter(environment=world["envs"][0]).first().agent_external_id
    assert _walk(client, f"/o/org-a/outcomes/?start={start}&end={end}&agent={agent}"
                         "&interval=week") > 10


def test_every_bar_and_point_of_the_outcomes_chart_opens_its_calls(client, alice, world):
    """The chart's resolved and repeat bars (and the cost line, through the resolved calls it
    divides by) open the explorer on exactly the calls they count."""
    client.force_login(alice)
    start, end = world["first"].isoformat(), world["today"].isoformat()
    chart = client.get(f"/o/org-a/outcomes/?start={start}&end={end}").context["chart"]
    opened = 0
    for figure, key in (("resolved", "resolved"), ("repeats", "repeat_contacts")):
        for n, href in zip(chart[figure], chart["doors"][key], strict=True):
            assert href is not None or n is None
            if href and n:
                assert _explorer_total(client, href) == n, (figure, href)
                opened += 1
    assert opened >= 10


def test_the_explorer_offers_the_resolution_filter_in_both_languages(client, alice, world):
    client.force_login(alice)
    html = client.get("/o/org-a/calls/?resolution=repeat").content.decode()
    assert 'name="resolution"' in html and "Repeat contact" in html
    pt = client.get("/o/org-a/calls/", headers={"accept-language": "pt-br"}).content.decode()
    assert "Contato repetido" in pt
    assert client.get("/o/org-a/calls/?resolution=nonsense").status_code == 400
    assert _explorer_total(client, "/o/org-a/calls/?range=7d&resolution=pending") > 0


def test_the_dashboard_cards_are_the_outcome_report_and_open_their_calls(client, alice, world):
    client.force_login(alice)
    start, end = world["first"].isoformat(), world["today"].isoformat()
    response = client.get(f"/o/org-a/?start={start}&end={end}")
    # As of the hour, as every face reads the outcome report (reports.registry).
    t = outcomes_summary(world["envs"], world["first"], world["today"], "day",
                         now=registry.report("outcomes").as_of()).totals
    cards = {str(k.label): k for k in response.context["kpis"]}
    assert cards["Repeat-contact rate"].value == t.repeat_contact_rate
    assert cards["Cost per resolved call"].value == t.cost_per_resolved
    assert cards["Cost"].note == f"no cost known for its {t.calls:,} calls"  # no prices
    assert cards["Cost"].value is None
    repeat = cards["Repeat-contact rate"].door
    assert repeat.calls == t.repeat_contacts
    assert _explorer_total(client, repeat.url) == repeat.calls
    resolved = cards["Cost per resolved call"].door
    assert resolved.calls == t.resolved and _explorer_total(client, resolved.url) == t.resolved
    html = response.content.decode()
    assert "Repeat-contact rate" in html and "No cost known" in html
    pt = client.get(f"/o/org-a/?start={start}&end={end}",
                    headers={"accept-language": "pt-br"}).content.decode()
    assert "Taxa de recontato" in pt and "Custo desconhecido" in pt
