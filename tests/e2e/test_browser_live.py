"""The live wallboard in headless chromium: one TV screen at 1920×1080 and 1280×720 with no
scrolling (agents paged, "page 1 of 2", when their tiles do not fit), the figures' age and a
stale warning always in view, and the page updates itself when the mirror changes."""
from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from reports.pages import live
from sync.models import Agent
from tests.support.browser import SHOTS
from tests.support.factories import build_call, save_calls

pytestmark = [
    pytest.mark.browser,
]

TVS = ({"width": 1920, "height": 1080}, {"width": 1280, "height": 720})
AGENTS = 19
# Everything but the agents' box must be inside the screen; every agent's tile shown must be
# inside the agents' box.
OUT_OF_VIEW = """() => {
  const out = [];
  const low = innerHeight + 0.5, right = innerWidth + 0.5;
  const parts = 'header, .tile, footer, footer > span:not([hidden])';
  for (const el of document.querySelectorAll(parts)) {
    const r = el.getBoundingClientRect();
    if (r.bottom > low || r.right > right) out.push(el.className || el.tagName);
  }
  const box = document.querySelector('[data-agents]').getBoundingClientRect();
  for (const a of document.querySelectorAll('.agent:not([hidden])')) {
    if (a.getBoundingClientRect().bottom > box.bottom + 0.5) out.push('agent ' + a.innerText);
  }
  return out;
}"""
SHOWN_AGENTS = """() => [...document.querySelectorAll('.agent:not([hidden]) h3')]
  .map(h => h.textContent)"""


def _login(page, base: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username").fill("bob")
    page.get_by_label("Password").fill("bob-pw-123")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()


# Mid-afternoon wherever the test runs: today's calls minutes ago are today's.
@time_machine.travel(datetime(2026, 11, 25, 18, 0, tzinfo=UTC), tick=True)
def test_the_wallboard_fits_a_tv_pages_its_agents_and_says_how_old_it_is(
        browser, live_server, cast, env_a, monkeypatch):
    monkeypatch.setattr(live, "PAGE_SECONDS", 2)
    now = timezone.now()
    agents = [Agent.objects.create(environment=env_a, external_id=f"a{i}",
                                   name=f"Desk agent number {i}") for i in range(AGENTS)]
    rng = random.Random(3)
    save_calls(env_a, [build_call(env_a, now - timedelta(minutes=1 + i % 9), agent=a,
                                  agent_external_id=a.external_id, status="completed", rng=rng)
                       for i, a in enumerate(agents)])
    # Stuck open three hours: one of the desk's agents (no agent of its own to tile, at any
    # hour of the day the test runs).
    save_calls(env_a, [build_call(env_a, now - timedelta(hours=3), agent=agents[0],
                                  agent_external_id=agents[0].external_id, status="initiated",
                                  rng=rng)])
    env_a.sync_interval_minutes = 15
    env_a.last_synced_at = now - timedelta(minutes=40)  # past two intervals: amber
    env_a.save()
    errors: list[str] = []
    context = browser.new_context(viewport=TVS[0])
    page = context.new_page()
    page.on("pageerror", lambda e: errors.append(str(e)))
    _login(page, live_server.url)
    for tv in TVS:
        page.set_viewport_size(tv)
        page.goto(f"{live_server.url}/o/org-a/live/")
        where = f"{tv['width']}×{tv['height']}"
        assert page.evaluate("() => document.documentElement.scrollHeight") <= tv["height"], where
        assert page.evaluate("() => document.documentElement.scrollWidth") <= tv["width"], where
        assert page.evaluate(OUT_OF_VIEW) == [], where
        page.screenshot(path=str(SHOTS / f"live-{tv['width']}.png"))
        freshness = page.locator(".freshness")
        assert "amber" in freshness.get_attribute("class")
        assert "40 minutes ago" in freshness.inner_text()
        assert "Refreshed" not in page.inner_text("body")
        assert page.locator('[data-field="in_progress"]').text_content() == "0"
        assert "1 stuck open since" in page.locator('[data-field="stuck"]').text_content()
        # Not every tile fits: the pages turn by themselves and show every agent in turn.
        pager = page.locator("[data-pager]")
        assert pager.is_visible() and "page 1 of" in pager.text_content(), where
        pages = int(page.get_attribute("[data-agents]", "data-pages"))
        seen = set(page.evaluate(SHOWN_AGENTS))
        for number in range(2, pages + 1):
            page.wait_for_function(
                f"() => document.querySelector('[data-agents]').dataset.page === '{number}'",
                timeout=10_000)
            assert page.evaluate(OUT_OF_VIEW) == [], (where, number)
            seen |= set(page.evaluate(SHOWN_AGENTS))
        assert len(seen) == AGENTS, (where, pages, sorted(seen))
    size = page.evaluate("""() => parseFloat(getComputedStyle(
        document.querySelector('.tile.wide .figure')).fontSize)""")
    assert size >= 80, size  # 1280 px wide: about 13 cm on a 55-inch TV
    context.close()
    assert errors == []


def test_the_wallboard_updates_itself(browser, live_server, cast, env_a, monkeypatch):
    monkeypatch.setattr(live, "POLL_SECONDS", 5)
    now = timezone.now()
    save_calls(env_a, [build_call(env_a, now - timedelta(minutes=2), status="ringing")])
    errors: list[str] = []
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    page.on("pageerror", lambda e: errors.append(str(e)))
    _login(page, live_server.url)
    page.goto(f"{live_server.url}/o/org-a/live/")
    assert page.locator('[data-field="in_progress"]').text_content() == "1"
    # A call starts upstream and is mirrored: the board shows it without a reload.
    save_calls(env_a, [build_call(env_a, timezone.now() - timedelta(minutes=1),
                                  status="initiated", rng=random.Random(2))])
    page.wait_for_function(
        "() => document.querySelector('[data-field=\"in_progress\"]').textContent === '2'",
        timeout=20_000)
    context.close()
    assert errors == []
