"""One zone per page, named once: the alert rule page writes an hour
window in the organisation's time, not "… 12:55 a.m.: Not judged: 02:00–03:00 UTC"; its
history and coverage do not repeat the zone; the sync page names its zone once and says
"vendor's UTC day" where the vendor's day is meant."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.test import Client

from reports.alerts.models import AlertEvent, AlertRule

pytestmark = pytest.mark.django_db


def test_the_rule_page_names_its_zone_once_and_writes_hours_in_it(env_a, alice):
    rule = AlertRule.objects.create(
        organization=env_a.organization, name="Volume", metric="calls", window="1h",
        condition="above", threshold=10, last_evaluated_at=datetime(2026, 11, 26, 3, 55,
                                                                    tzinfo=UTC),
        last_reading={"reason": "too_few", "calls": 2, "minimum": 20,
                      "window": "2026-11-26 02:00–03:00 UTC"})
    rule.environments.set([env_a])
    AlertEvent.objects.create(rule=rule, organization=env_a.organization, seq=1,
                              state="firing", metric="calls", value=12, threshold=10,
                              coverage="mirrored until 2026-11-26 03:05 UTC",
                              created_at=datetime(2026, 11, 26, 3, 6, tzinfo=UTC))
    client = Client()
    client.force_login(alice)
    page = client.get(f"/o/org-a/settings/alerts/{rule.pk}/").content.decode()
    main = page[page.index("<main"):page.index("</main>")]
    assert "UTC" not in main
    assert main.count("America/Sao_Paulo") == 1
    # 02:00–03:00 UTC is 23:00–00:00 the day before in Sao Paulo (UTC-3).
    assert "2 calls in 11/25/2026 11:00 PM–12:00 AM, fewer than" in main
    assert "mirrored until 11/26/2026 12:05 AM<" in main  # the event's coverage, same zone


def test_the_sync_page_says_vendor_days_are_utc_and_names_its_zone_once(env_a, alice):
    client = Client()
    client.force_login(alice)
    page = client.get("/o/org-a/sync/").content.decode()
    main = page[page.index("<main"):page.index("</main>")]
    assert main.count("America/Sao_Paulo") == 1
    assert "(UTC)" not in main
