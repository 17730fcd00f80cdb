"""Every figure is a door: each link from a report figure opens the calls explorer on exactly
the calls the figure counts, and the view (period, environments, agent) follows the user.

The walk is literal: render a seeded page, collect every link of its content that goes to
the calls explorer (and every URL the charts open on click), open each one and compare the
explorer's total with the number the link was attached to.
"""
from __future__ import annotations

import json
import random
import re
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from urllib.parse import quote

import pytest
from django.utils import timezone

from reports.drill import at_param
from sync.models import Call
from tests.support.cast import make_env
from tests.support.factories import (
    build_call,
    make_agents,
    make_callback_days,
    make_calls,
    save_calls,
)


class _Links(HTMLParser):
    """Anchors inside <main>: (href, data-calls, text)."""

    def __init__(self) -> None:
        super().__init__()
        self.in_main = False
        self.links: list[dict] = []
        self._open: dict | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "main":
            self.in_main = True
        elif tag == "a" and self.in_main:
            self._open = {"href": attrs.get("href", ""), "calls": attrs.get("data-calls"),
                          "text": ""}

    def handle_endtag(self, tag):
        if tag == "main":
            self.in_main = False
        elif tag == "a" and self._open is not None:
            self.links.append(self._open)
            self._open = None

    def handle_data(self, data):
        if self._open is not None:
            self._open["text"] += data


def _links(html: str) -> list[dict]:
    parser = _Links()
    parser.feed(html)
    return parser.links


@pytest.fixture
def world(org_a, env_a):
    """Two environments with agents of the same names, calls with and without an agent,
    test calls, odd statuses, over the last 10 local days."""
    env_2 = make_env(org_a, "Second desk", "talq_cccccccccccccccccccccccccccc3333")
    today = timezone.localdate(timezone=org_a.tzinfo)
    first = today - timedelta(days=9)
    make_calls(env_a, 90, first, today, agents=make_agents(env_a, 2), seed=3)
    make_calls(env_2, 50, first, today, agents=make_agents(env_2, 2), seed=4)
    make_calls(env_2, 10, first, today, seed=5)  # no agent at all
    moment = timezone.now() - timedelta(hours=30)
    save_calls(env_a, [build_call(env_a, moment, status="canceled", rng=random.Random(7)),
                       build_call(env_a, moment, status="queued", direction="inbound",
                                  rng=random.Random(8))])
    make_callback_days(env_a, [today - timedelta(days=n) for n in range(7)])
    return {"org": org_a, "envs": [env_a, env_2], "today": today}


def _explorer_total(client, href: str) -> int:
    response = client.get(href)
    assert response.status_code == 200, (href, response.content[:400])
    # The pager's count (the page may be a kept one: no context then).
    return int(re.search(r'class="pager" data-calls="(\d+)"', response.content.decode())[1])


def _walk(client, url: str) -> int:
    """Open `url`, follow every explorer link and chart door; return how many were checked."""
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    checked: dict[str, int] = {}
    for link in _links(html):
        if "/o/org-a/calls/" not in link["href"]:
            continue
        assert link["calls"] is not None, f"explorer link without a count: {link}"
        expected = int(link["calls"])
        digits = link["text"].strip().replace(",", "")
        if re.fullmatch(r"\d+", digits):
            assert int(digits) == expected, link  # the figure shown is the count behind it
        if link["href"] not in checked:
            checked[link["href"]] = _explorer_total(client, link["href"])
        assert checked[link["href"]] == expected, (link, checked[link["href"]])
    data = response.context.get("chart_data")
    if data:
        for values, urls in zip(data["status"].values(), data["doors"]["status"], strict=True):
            for n, href in zip(values, urls, strict=True):
                assert (href is None) == (n == 0)
                if href:
                    if href not in checked:
                        checked[href] = _explorer_total(client, href)
                    assert checked[href] == n
    return len(checked)


def test_every_dashboard_figure_opens_exactly_its_calls(client, alice, world):
    client.force_login(alice)
    assert _walk(client, "/o/org-a/?range=7d") > 80


@pytest.mark.parametrize("query", ["range=7d&env={env0}", "range=7d&agent={agent}"])
def test_doors_keep_the_chosen_scope(client, alice, world, query):
    env0 = world["envs"][0]
    agent = Call.objects.filter(environment=env0).exclude(agent_external_id="").first()
    client.force_login(alice)
    url = "/o/org-a/?" + query.format(env0=env0.pk, agent=agent.agent_external_id)
    assert _walk(client, url) > 20


def test_every_agents_table_figure_opens_exactly_its_calls(client, alice, world):
    client.force_login(alice)
    assert _walk(client, "/o/org-a/agents/?range=30d") >= 5 * 4


def test_callback_figures_say_why_they_are_not_links(client, alice, world):
    """Talkover's callback counts here have no linked calls behind them (no callback agent
    mirrored): the cards say so instead of opening other calls."""
    client.force_login(alice)
    env0 = world["envs"][0]
    agent = Call.objects.filter(environment=env0).exclude(agent_external_id="").first()
    html = client.get(f"/o/org-a/callbacks/?agent={agent.agent_external_id}").content.decode()
    assert "The agent filter does not apply here" in html
    html = client.get("/o/org-a/").content.decode()
    assert html.count("the calls linked to it differ") >= 3  # one per callback KPI


def test_explorer_opens_on_the_default_period_and_all_time_on_request(client, alice, world):
    old = save_calls(world["envs"][0], [build_call(
        world["envs"][0], datetime(2025, 1, 5, 15, tzinfo=UTC), rng=random.Random(9))])[0]
    client.force_login(alice)
    response = client.get("/o/org-a/calls/")
    today = world["today"]
    assert response.context["filter"].form.cleaned_data["start"] == today - timedelta(29)
    assert old not in response.context["page"].object_list
    everything = client.get("/o/org-a/calls/?date_from=&date_to=&sort=started")
    assert everything.context["page"].object_list[0] == old
    carried = client.get("/o/org-a/calls/?range=7d")
    assert carried.context["filter"].form.cleaned_data["start"] == today - timedelta(6)


def test_navigation_keeps_period_environments_agent_and_direction(client, alice, world):
    env0 = world["envs"][0]
    client.force_login(alice)
    html = client.get(f"/o/org-a/?range=7d&env={env0.pk}&direction=inbound").content.decode()
    assert f'/o/org-a/calls/?range=7d&amp;env={env0.pk}&amp;direction=inbound"' in html
    assert f'/o/org-a/agents/?range=7d&amp;env={env0.pk}&amp;direction=inbound"' in html
    # Back from the explorer: explicit dates that are a rolling preset become it again.
    first = (world["today"] - timedelta(days=6)).isoformat()
    html = client.get(f"/o/org-a/calls/?date_from={first}&date_to={world['today']}"
                      f"&environment={env0.pk}&agent_id=-").content.decode()
    assert f'/o/org-a/?range=7d&amp;env={env0.pk}"' in html
    html = client.get("/o/org-a/calls/?date_from=2026-01-01&date_to=2026-01-31").content.decode()
    assert "/o/org-a/callbacks/?range=custom&amp;start=2026-01-01&amp;end=2026-01-31" in html


def test_call_detail_returns_to_the_filtered_list(client, alice, world):
    client.force_login(alice)
    response = client.get("/o/org-a/calls/?outcome=failed&sort=duration&page=1")
    call = response.context["page"].object_list[0]
    html = response.content.decode()
    # The link carries the call's start (`at`: one month's partition to read on PostgreSQL).
    at = quote(at_param(call))
    detail = f"/o/org-a/calls/{call.pk}/?at={at}&amp;outcome=failed&amp;sort=duration&amp;page=1"
    assert detail in html
    back = client.get(detail.replace("&amp;", "&")).content.decode()
    assert 'href="/o/org-a/calls/?outcome=failed&amp;sort=duration&amp;page=1"' in back


def test_agents_carry_their_environment_and_tables_sort(client, alice, world):
    client.force_login(alice)
    html = client.get("/o/org-a/calls/").content.decode()
    assert "Agent 1 (A main)" in html and "Agent 1 (Second desk)" in html
    response = client.get("/o/org-a/agents/?range=30d&sort=environment")
    envs = [env for _, env in response.context["rows"]]
    # The agents page has an environment column: names do not repeat it.
    agents_html = response.content.decode()
    assert envs == sorted(envs) and "Agent 1 (Second desk)" not in agents_html
    assert "<td>Second desk</td>" in agents_html
    names = [a.name for a, _ in client.get("/o/org-a/agents/?sort=-agent").context["rows"]]
    assert names == sorted(names, reverse=True)
    calls = client.get("/o/org-a/calls/?sort=environment").context["page"].object_list
    assert [c.environment.name for c in calls] == sorted(c.environment.name for c in calls)
    assert "<th" in html and ">Environment" in html


def test_unknown_drill_values_are_a_clear_400(client, alice, world):
    client.force_login(alice)
    for query in ("outcome=lost", "weekday=9", "hour=24"):
        assert client.get(f"/o/org-a/calls/?{query}").status_code == 400
    assert client.get("/o/org-a/calls/?agent_id=" + "x" * 65).status_code == 400


def test_chart_data_carries_a_door_per_point(client, alice, world):
    client.force_login(alice)
    data = json.loads(re.search(
        r'<script id="chart-data" type="application/json">(.*?)</script>',
        client.get("/o/org-a/?range=7d").content.decode(), re.S).group(1))
    assert len(data["doors"]["status"]) == len(data["status"]) == 5
    assert len(data["doors"]["rate"]) == len(data["labels"]) == 7


def test_every_summary_email_figure_opens_exactly_its_calls(client, alice, world):
    """The emailed summary's figures are links into the portal: each opens the explorer on
    the calls it counts (rates and talk time: the answered calls they are computed from)."""
    from django.conf import settings

    from reports.summaries.figures import build_summary
    from reports.summaries.render import build_message
    from reports.summaries.schedule import Period
    from tests.support.factories import make_subscription

    org, today = world["org"], world["today"]
    summary = build_summary(org, world["envs"], Period(today - timedelta(days=8),
                                                       today - timedelta(days=1)))
    subscription = make_subscription(org, addresses=["ops@example.com"])
    message = build_message(subscription, summary, "ops@example.com")
    html = next(body for body, kind in message.alternatives if kind == "text/html")
    parser = _Links()
    parser.in_main = True  # an email has no <main>: every anchor counts
    parser.feed(html)
    base = settings.PORTAL_BASE_URL.rstrip("/")
    doors = [link for link in parser.links if "/o/org-a/calls/" in link["href"]]
    client.force_login(alice)
    answered = summary.calls.totals.answered
    for link in doors:
        assert link["href"].startswith(base), link
        total = _explorer_total(client, link["href"][len(base):])
        count = re.fullmatch(r"([\d,]+)( calls)?", link["text"].strip())
        if count:
            assert total == int(count.group(1).replace(",", "")), link
        elif "resolution=" in link["href"]:  # cost per resolved call, repeat-contact rate
            outcome = summary.outcomes.totals
            assert total == (outcome.resolved if "resolution=resolved" in link["href"]
                             else outcome.repeat_contacts), link
        else:  # answer rate or talk time: the answered calls behind it
            assert "outcome=answered" in link["href"] and total >= 0, link
    kpi = {link["href"] for link in doors if "outcome=answered" in link["href"]
           and "agent=" not in link["href"] and link["href"].count("env=") > 1}
    assert [_explorer_total(client, href[len(base):]) for href in kpi] == [answered]
    # 3 call KPIs, 2 outcome figures, the busiest day, 2 environments × 3, top agents × 2
    # (callbacks: none)
    assert len(doors) == 3 + 2 + 1 + 6 + 2 * len(summary.top_agents)
    assert "(Second desk)" in html  # two environments: agents carry theirs
    assert "Not linked" not in html
