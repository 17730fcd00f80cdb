"""The portal in a real headless chromium against a live server (Playwright).

Run with `pytest -m browser`; skipped when Debian's chromium is not installed
(`apt-get install -y chromium`). Screenshots of every page land in var/screenshots/.
"""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from sync.models import Call, SyncRun
from sync.models.core import RunStatus
from sync.stream_names import Stream
from tests.support.browser import SHOTS
from tests.support.factories import make_agents, make_callback_days, make_calls

pytestmark = [
    pytest.mark.browser,
]

CANVAS_DRAWN = """(id) => {
  const c = document.getElementById(id);
  if (!c || !c.width) return false;
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  for (let i = 3; i < d.length; i += 4) { if (d[i] !== 0) return true; }
  return false;
}"""



@pytest.fixture
def portal_data(live_server, cast, env_a):
    today = timezone.localdate(timezone=env_a.organization.tzinfo)
    agents = make_agents(env_a, 4)
    make_calls(env_a, 1500, today - timedelta(days=45), today, agents=agents, seed=7)
    make_callback_days(env_a, [today - timedelta(days=n) for n in range(45)])
    env_a.last_synced_at = timezone.now() - timedelta(minutes=4)
    env_a.save()
    SyncRun.objects.create(environment=env_a, stream=Stream.CALLS, status=RunStatus.SUCCEEDED,
                           finished_at=timezone.now(), pages=3, created=1500)
    return env_a


def _page(browser, errors: list[str], **context):
    page = browser.new_context(accept_downloads=True, **context).new_page()
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return page


def _login(page, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(f"{username}-pw-123")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()


UNLABELLED = """() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
  .filter(el => !el.labels?.length && !el.getAttribute('aria-label')).map(el => el.name)"""


def _shot(page, name: str) -> None:
    """Save a full-page screenshot, after checking every form control has a label."""
    assert page.evaluate(UNLABELLED) == [], f"unlabelled controls on {page.url}"
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_alice_uses_the_portal(browser, live_server, portal_data):
    base, errors = live_server.url, []
    page = _page(browser, errors, viewport={"width": 1366, "height": 900})
    page.goto(f"{base}/accounts/login/")
    _shot(page, "01-login")
    _login(page, base, "alice")
    assert page.url.endswith("/o/org-a/")
    assert page.get_by_text("synced 4 min ago").is_visible()
    page.keyboard.press("Tab")  # keyboard users first reach the skip link
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"

    page.select_option("#id_range", "90d")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_load_state()
    assert "range=90d" in page.url
    for chart in ("chart-status", "chart-rate", "chart-callbacks"):
        assert page.evaluate(CANVAS_DRAWN, chart), f"{chart} is blank"
    _shot(page, "02-dashboard")

    page.get_by_role("link", name="Calls", exact=True).click()
    page.select_option("#id_status", ["failed"])
    page.get_by_role("button", name="Filter").click()
    page.wait_for_load_state()
    statuses = page.locator("tbody .badge").all_inner_texts()
    assert statuses and set(statuses) == {"Failed"}
    _shot(page, "03-calls")

    with page.expect_download() as download:
        page.get_by_role("link", name="Export CSV").click()
    lines = Path(download.value.path()).read_text().strip().splitlines()
    failed = Call.objects.filter(environment=portal_data, status="failed", is_testing=False)
    assert len(lines) == failed.count() + 1

    page.locator("tbody a").first.click()
    page.wait_for_load_state()
    assert "/calls/" in page.url and page.get_by_text("Raw upstream record").is_visible()
    _shot(page, "04-call-detail")

    for name, shot in [("Callbacks", "05-callbacks"), ("Agents", "06-agents"),
                       ("Sync", "07-sync"), ("Settings", "08-settings")]:
        page.get_by_role("link", name=name, exact=True).click()
        page.wait_for_load_state()
        _shot(page, shot)
    page.goto(f"{base}/o/org-a/settings/members/")
    _shot(page, "09-members")

    page.goto(f"{base}/o/org-a/")
    with page.expect_navigation():
        page.select_option("#lang-select", "pt-br")
    assert page.get_by_role("heading", name="Painel").is_visible()
    assert page.evaluate(CANVAS_DRAWN, "chart-status")
    _shot(page, "10-dashboard-pt-br")
    assert errors == []


def test_phone_width(browser, live_server, portal_data):
    errors: list[str] = []
    page = _page(browser, errors, viewport={"width": 390, "height": 844}, is_mobile=True)
    _login(page, live_server.url, "alice")
    assert page.evaluate(CANVAS_DRAWN, "chart-status")
    # Nothing may push the page sideways at phone width (wide tables scroll in their box).
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    _shot(page, "11-dashboard-phone")
    page.goto(f"{live_server.url}/o/org-a/calls/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    _shot(page, "12-calls-phone")
    assert errors == []


def test_viewer_and_outsider_are_kept_out(browser, live_server, portal_data):
    errors: list[str] = []
    bob = _page(browser, errors)
    _login(bob, live_server.url, "bob")
    # Settings opens what a viewer may see (their API tokens); an admin's page stays 403.
    response = bob.goto(f"{live_server.url}/o/org-a/settings/")
    assert response.status == 200 and bob.url.endswith("/o/org-a/settings/tokens/")
    assert bob.goto(f"{live_server.url}/o/org-a/settings/environments/add/").status == 403
    _shot(bob, "13-viewer-settings-403")

    carol = _page(browser, errors)
    _login(carol, live_server.url, "carol")
    env_url = f"{live_server.url}/o/org-a/settings/environments/{portal_data.pk}/token/"
    assert carol.goto(env_url).status == 404
    call = Call.objects.filter(environment=portal_data).first()
    assert carol.goto(f"{live_server.url}/o/org-a/calls/{call.pk}/").status == 404
    _shot(carol, "14-outsider-404")
