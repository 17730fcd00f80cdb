"""The admin's call page at phone width (390 px) in headless chromium: no sideways scroll,
even with a long URL in the raw record."""
from __future__ import annotations

import pytest

from sync.models import Call
from tests.support.browser import SHOTS

pytestmark = [
    pytest.mark.browser,
]


def test_the_admin_call_page_fits_a_phone(browser, live_server, world):
    call = world.pairs[Call][0]
    raw = dict(call.raw, call_recording_url="https://recordings.example.com/" + "x" * 300)
    Call.objects.filter(pk=call.pk).update(raw=raw)
    page = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "alice")
    page.fill("#id_password", "alice-pw-123")
    page.click("input[type=submit]")
    page.wait_for_load_state()
    page.goto(f"{live_server.url}/admin/sync/call/{call.pk}/change/")
    page.screenshot(path=str(SHOTS / "admin-call-390.png"), full_page=True)
    width = page.evaluate("() => [document.documentElement.scrollWidth, innerWidth]")
    assert width[0] <= width[1], width
