"""Admin times are in the organisation's timezone with the zone named: each changelist row in
its own organisation's zone (a superuser sees several), and an object's page in its zone."""
from __future__ import annotations

import re
from datetime import UTC, datetime

from django.urls import reverse

from portal.admin.times import format_local
from sync.models import SyncRun

MOMENT = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def test_format_local_names_the_zone():
    assert format_local(MOMENT, "America/Sao_Paulo").endswith("9:00 AM (America/Sao_Paulo)")
    assert format_local(None, "UTC") == "-"


def test_changelist_rows_use_their_organisations_zone(world):
    for env in (world.env_a, world.env_b):
        SyncRun.objects.filter(environment=env).update(started_at=MOMENT, finished_at=MOMENT)
    root = world.client("root").get(reverse("admin:sync_syncrun_changelist")).content.decode()
    # org A is America/Sao_Paulo (UTC-3), org B Europe/London (UTC+0).
    assert "9:00 AM (America/Sao_Paulo)" in root and "12:00 PM (Europe/London)" in root
    alice = world.client("alice").get(reverse("admin:sync_syncrun_changelist")).content.decode()
    assert "(America/Sao_Paulo)" in alice and "Europe/London" not in alice
    # Still sortable by the time column.
    sorted_page = world.client("root").get(reverse("admin:sync_syncrun_changelist"), {"o": "1"})
    assert sorted_page.status_code == 200


def test_audit_and_environment_lists_show_local_times(world):
    world.env_a.last_synced_at = MOMENT
    world.env_a.save(update_fields=["last_synced_at"])
    for name in ("admin:portal_auditlog_changelist", "admin:portal_environment_changelist",
                 "admin:reports_alertevent_changelist"):
        html = world.client("alice").get(reverse(name)).content.decode()
        assert re.search(r"\(America/Sao_Paulo\)", html), name


def test_change_page_names_its_zone(world):
    run = SyncRun.objects.filter(environment=world.env_a).first()
    SyncRun.objects.filter(pk=run.pk).update(started_at=MOMENT)
    url = reverse("admin:sync_syncrun_change", args=[run.pk])
    html = world.client("alice").get(url).content.decode()
    assert "times in America/Sao_Paulo" in html
    assert "9:00 AM" in html  # 12:00 UTC shown as the organisation's local time


def test_a_runs_duration_reads_as_on_the_sync_page(world):
    """The admin writes a run's duration as the portal's sync page does ("3 m 25 s"), not
    "205.4s"."""
    run = SyncRun.objects.filter(environment=world.env_a).first()
    SyncRun.objects.filter(pk=run.pk).update(
        started_at=MOMENT, finished_at=MOMENT.replace(minute=3, second=25, microsecond=400000))
    url = reverse("admin:sync_syncrun_change", args=[run.pk])
    html = world.client("alice").get(url).content.decode()
    assert "3 m 25 s" in html and "205.4s" not in html


def test_environment_actions_sit_below_the_form(world):
    url = reverse("admin:portal_environment_change", args=[world.env_a.pk])
    html = world.client("alice").get(url).content.decode()
    assert "css/admin_environment.css" in html and 'id="environment-actions"' in html
