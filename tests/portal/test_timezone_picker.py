"""Time zones a person can pick from: the common ones first, then every zone grouped by
region and named by its place and offset ("Buenos Aires, Argentina (UTC−03:00)"), never a
wall of bare IANA names; the admin's organisation time zone is that list, not free text."""
from __future__ import annotations

import re
from datetime import UTC, datetime

import time_machine
from django.urls import reverse
from django.utils import translation

from portal.timezones import timezone_choices

IANA = re.compile(r"^[A-Z][A-Za-z_-]+/[A-Za-z_/-]+$")


@time_machine.travel(datetime(2026, 7, 1, 12, 0, tzinfo=UTC), tick=False)
def test_every_zone_is_grouped_by_region_and_named_by_its_place():
    with translation.override("en"):
        groups = dict(timezone_choices())
    names = list(groups)
    assert names[0] == "Common" and {"Americas", "Europe", "Asia", "Pacific Ocean"} <= set(names)
    common = dict(groups["Common"])
    assert common["America/Sao_Paulo"] == "Sao Paulo (UTC−03:00)"
    assert common["Europe/London"] == "London (UTC+01:00)"  # summer time on 1 July
    americas = dict(groups["Americas"])
    assert americas["America/Argentina/Buenos_Aires"] == "Buenos Aires, Argentina (UTC−03:00)"
    labels = [label for _group, zones in groups.items() for _value, label in zones]
    assert not [label for label in labels if IANA.match(label)]
    assert len(labels) > 300
    with translation.override("pt-br"):
        assert "Oceano Pacífico" in dict(timezone_choices())


def test_the_admins_organisation_time_zone_is_a_choice(world):
    org = world.env_a.organization
    url = reverse("admin:portal_organization_change", args=[org.pk])
    html = world.client("alice").get(url).content.decode()
    field = html[html.index('name="timezone"') - 200:]
    assert field[:field.index("</select>")].count("<option") > 300
    assert '<option value="America/Sao_Paulo" selected>Sao Paulo' in html
    answer = world.client("alice").post(url, {
        "name": org.name, "timezone": "Mars/Olympus", "call_retention_months": 0,
        "resolution_window_days": org.resolution_window_days,
        "memberships-TOTAL_FORMS": 0, "memberships-INITIAL_FORMS": 0})
    assert answer.status_code == 200 and "Select a valid choice" in answer.content.decode()
