"""Key-figure cards and the summary email in a real headless chromium, at the widths people
use (1920, 1440, 1280 and 390 px) in both languages: the cards' rows are full (no card left
alone beside an empty space), a value never breaks inside itself ("586 h 52 / m"), a cost
card's note stays within three lines, and the summary email fits a phone. Run with
`pytest -m browser`; skipped when chromium is not installed."""
from __future__ import annotations

import re
import shutil
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from reports.summaries.figures import build_summary
from reports.summaries.render import build_message
from reports.summaries.schedule import Period
from sync.models import AgentPrice, Call
from sync.outcomes import settle_organisation
from tests.support.browser import CHROMIUM, resize
from tests.support.cast import make_env
from tests.support.factories import make_agents, make_callback_days, make_calls, make_subscription

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not shutil.which(CHROMIUM), reason="chromium is not installed"),
]

# The desktop widths share one load of each page, its window resized from the first to the
# next (the cards are laid out by CSS: a window resized to a width lays them out as one
# opened at it); a phone is a context of its own (a mobile viewport).
SCREENS = ((1920, 1440, 1280), (390,))
LANGUAGES = ("en", "pt-br")

# Each row of cards: how many, and whether they span the row (no empty space at its end).
CARD_ROWS = """() => { const box = document.querySelector('.kpis').getBoundingClientRect();
  const rows = {};
  for (const k of document.querySelectorAll('.kpis > .kpi')) {
    const r = k.getBoundingClientRect(), top = Math.round(r.top);
    (rows[top] = rows[top] || []).push(r); }
  return Object.values(rows).map(cards => ({n: cards.length,
    full: Math.abs(Math.max(...cards.map(r => r.right)) - box.right) < 2
          && Math.abs(Math.min(...cards.map(r => r.left)) - box.left) < 2})); }"""
# A value over two lines, or wider than its card.
BROKEN_VALUES = """() => [...document.querySelectorAll('.kpis .value')].filter(v => {
  const range = document.createRange(); range.selectNodeContents(v);
  const tops = new Set([...range.getClientRects()].filter(r => r.width > 0)
                       .map(r => Math.round(r.top)));
  return tops.size > 1 || v.scrollWidth > v.clientWidth + 1;
}).map(v => v.innerText)"""
# How many lines each card's note takes.
NOTE_LINES = """() => [...document.querySelectorAll('.kpis .delta.flat')].map(n =>
  [n.innerText, Math.round(n.getBoundingClientRect().height
                           / parseFloat(getComputedStyle(n).lineHeight))])"""


@pytest.fixture(autouse=True)
def _mid_afternoon():
    """Mid-afternoon in São Paulo (org A's zone) whenever the test runs, its data built and its
    pages read on one day: begun before local midnight and read after it, the data ended the
    day before "today" and the cards said "no comparison: the previous period is not fully
    mirrored" (which took four lines on a phone in Portuguese until it was shortened). Every
    fixture that builds data runs after this one."""
    with time_machine.travel(datetime(2026, 11, 25, 18, 0, tzinfo=UTC), tick=True):
        yield


@pytest.fixture
def desks(live_server, org_a, env_a):
    """A Talkover desk with callbacks and a Vapi desk: calls of 40 days, some with the
    vendor's cost, the rest priced by a price read ten days ago (the long cost notes)."""
    today = timezone.localdate(timezone=org_a.tzinfo)
    vapi = make_env(org_a, "Vapi desk", "vapi-private-key-0000000000000000", provider="vapi",
                    base_url="https://api.vapi.ai")
    for env, seed in ((env_a, 1), (vapi, 2)):
        agents = make_agents(env, 3)
        make_calls(env, 900, today - timedelta(days=40), today, agents=agents, seed=seed)
        for agent in agents[:2]:
            AgentPrice.objects.create(environment=env, agent_external_id=agent.external_id,
                                      valid_from=today - timedelta(days=10),
                                      checked_on=today, currency="USD",
                                      per_minute=Decimal("0.0875"))
        Call.objects.filter(environment=env, agent_external_id=agents[2].external_id).update(
            vendor_cost=Decimal("0.4321"), vendor_cost_currency="USD")
    make_callback_days(env_a, [today - timedelta(days=n) for n in range(40)])
    settle_organisation(org_a.pk)
    return env_a, vapi


def _page(browser, base: str, user, width: int, language: str):
    client = Client()
    client.force_login(user)
    phone = width < 600
    context = browser.new_context(viewport={"width": width, "height": 900}, is_mobile=phone,
                                  has_touch=phone, device_scale_factor=1)
    context.add_cookies([
        {"name": settings.SESSION_COOKIE_NAME, "value": client.cookies[
            settings.SESSION_COOKIE_NAME].value, "url": base},
        {"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": base}])
    return context, context.new_page()


def _rows_problems(rows: list[dict], where: str, phone: bool) -> list[str]:
    """Every row full (a card alone on its row spans it), and on a wide screen no card alone
    on its row."""
    problems = [f"{where}: a row of cards leaves space empty: {rows}"
                for row in rows if not row["full"]]
    if not phone and any(row["n"] == 1 for row in rows) and len(rows) > 1:
        problems.append(f"{where}: a card alone on its row: {rows}")
    return problems


def test_cards_fill_their_rows_and_keep_their_values_whole(browser, live_server, alice,
                                                           desks):
    env_a, vapi = desks
    slug, base, problems = env_a.organization.slug, live_server.url, []
    pages = {"dashboard": reverse("dashboard", args=[slug]) + "?range=30d",
             "dashboard, Vapi": reverse("dashboard", args=[slug]) + f"?range=30d&env={vapi.pk}",
             "outcomes": reverse("outcomes", args=[slug]) + "?range=30d",
             "callbacks": reverse("callbacks", args=[slug]) + "?range=30d"}
    checked = 0
    for widths in SCREENS:
        for language in LANGUAGES:
            context, page = _page(browser, base, alice, widths[0], language)
            for name, path in pages.items():
                page.set_viewport_size({"width": widths[0], "height": 900})
                assert page.goto(base + path, wait_until="load").status == 200, name
                for width in widths:
                    resize(page, {"width": width, "height": 900})
                    checked += 1
                    where = f"{name} ({width} px, {language})"
                    problems += _rows_problems(page.evaluate(CARD_ROWS), where, width < 600)
                    if broken := page.evaluate(BROKEN_VALUES):
                        problems.append(f"{where}: values broken or cut: {broken}")
                    long = [n for n in page.evaluate(NOTE_LINES) if n[1] > 3]
                    if long:
                        problems.append(f"{where}: notes over three lines: {long}")
            context.close()
    assert checked == sum(map(len, SCREENS)) * len(LANGUAGES) * len(pages)
    assert problems == [], "\n".join(problems)


def test_the_summary_email_fits_a_phone_in_both_languages(browser, live_server, alice, desks):
    env_a, vapi = desks
    org = env_a.organization
    today = timezone.localdate(timezone=org.tzinfo)
    summary = build_summary(org, [env_a, vapi], Period(today - timedelta(days=39), today))
    problems = []
    for language in LANGUAGES:
        sub = make_subscription(org, addresses=["ops@example.com"], language=language)
        message = build_message(sub, summary, "ops@example.com")
        html = next(body for body, mime in message.alternatives if mime == "text/html")
        context, page = _page(browser, live_server.url, alice, 390, language)
        page.set_content(html)
        scroll = page.evaluate("document.documentElement.scrollWidth")
        if scroll > 390:
            problems.append(f"summary email ({language}): {scroll} px wide at 390 px")
        context.close()
    assert problems == []


DRAWN = """() => { const chart = Chart.getChart(document.getElementById('chart-outcomes'));
  return {labels: chart.data.labels,
          sets: chart.data.datasets.map(d => [d.label, d.data, String(d.backgroundColor)])}; }"""


def test_the_outcomes_chart_draws_pending_days_as_pending(browser, live_server, alice, desks):
    """The recent days (nothing resolved yet) are drawn: a pending bar of their own, named
    in the legend, over days written the reader's way."""
    env_a, _vapi = desks
    context, page = _page(browser, live_server.url, alice, 1440, "pt-br")
    path = reverse("outcomes", args=[env_a.organization.slug]) + "?range=30d"
    assert page.goto(live_server.url + path, wait_until="load").status == 200
    drawn = page.evaluate(DRAWN)
    context.close()
    assert all(re.match(r"^\d{2}/\d{2}/\d{4}$", label) for label in drawn["labels"])
    sets = {label: (data, colour) for label, data, colour in drawn["sets"]}
    with translation.override("pt-br"):
        pending, colour = sets[translation.gettext("Pending calls (outcome not known yet)")]
        resolved, resolved_colour = sets[translation.pgettext("calls", "Resolved")]
    assert resolved[-1] == 0 and pending[-1] > 0 and colour != resolved_colour
