"""The live wallboard in headless chromium at desktop width: figures readable across a
room, no sideways scroll, and the page updates itself when the mirror changes."""
from __future__ import annotations

import random
from datetime import timedelta

import pytest
from django.utils import timezone

from reports.pages import live
from tests.support.browser import SHOTS
from tests.support.factories import build_call, save_calls

pytestmark = [
    pytest.mark.browser,
]


def test_the_wallboard_reads_across_a_room_and_updates_itself(
        browser, live_server, cast, env_a, monkeypatch):
    monkeypatch.setattr(live, "POLL_SECONDS", 5)
    now = timezone.now()
    save_calls(env_a, [build_call(env_a, now - timedelta(minutes=2), status="ringing")])
    errors: list[str] = []
    page = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill("bob")
    page.get_by_label("Password").fill("bob-pw-123")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()
    page.goto(f"{live_server.url}/o/org-a/live/")
    in_progress = page.locator('[data-field="in_progress"]')
    assert in_progress.text_content() == "1"
    size = page.evaluate("""() => parseFloat(getComputedStyle(
        document.querySelector('.tile.wide .figure')).fontSize)""")
    assert size >= 100, size  # about 14 cm on a 55-inch TV
    assert page.evaluate("() => document.documentElement.scrollWidth <= innerWidth")
    page.screenshot(path=str(SHOTS / "live-1440.png"), full_page=True)
    # A call starts upstream and is mirrored: the board shows it without a reload.
    save_calls(env_a, [build_call(env_a, timezone.now() - timedelta(minutes=1),
                                  status="initiated", rng=random.Random(2))])
    page.wait_for_function(
        "() => document.querySelector('[data-field=\"in_progress\"]').textContent === '2'",
        timeout=20_000)
    assert errors == []
