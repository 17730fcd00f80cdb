"""Choosing a preset fills From and To with its days (they stayed blank), and From and To
sit together as one item of the filters."""
from __future__ import annotations

import re
from datetime import date

from django.test import Client


def _dates(html: str) -> tuple[date, date]:
    start = re.search(r'name="start" value="(\d{4}-\d\d-\d\d)"', html)
    end = re.search(r'name="end" value="(\d{4}-\d\d-\d\d)"', html)
    assert start and end, "From and To are blank"
    return date.fromisoformat(start[1]), date.fromisoformat(end[1])


def test_a_preset_shows_its_days_in_from_and_to(env_a, alice):
    client = Client()
    client.force_login(alice)
    html = client.get("/o/org-a/", {"range": "7d"}).content.decode()
    start, end = _dates(html)
    assert (end - start).days in (6, 7) and 'class="dates"' in html
    # A preset still wins over the days it shows (they are not read).
    html = client.get("/o/org-a/", {"range": "7d", "start": "2026-01-01",
                                    "end": "2026-01-02"}).content.decode()
    assert _dates(html)[0] != date(2026, 1, 1)
