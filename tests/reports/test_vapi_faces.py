"""A Vapi environment on every face: its cost on the dashboard and in the reports API equals
the sum of the upstream's own per-call `cost` over the period (read straight from the
simulated upstream), call by call in the explorer's CSV and on the call page; the
Talkover-compatible API says clearly that it does not serve it (erasure:
`test_provider_faces.py`)."""
from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import requests
from django.test import Client
from django.urls import reverse

from sync.engine import sync_environment
from sync.models import Call
from sync.simulator import running_simulator
from tests.support.vapi import KEY, api_summary, vapi_config, vapi_env

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _unpaced(settings):
    settings.VAPI_REQUESTS_PER_MINUTE = 100000


def _upstream_costs(sim, server, start: datetime, end: datetime) -> dict[str, Decimal]:
    """id → `cost` as the upstream lists it, for calls created in [start, end), read hour by
    hour from `GET /call` (never from the mirror)."""
    headers = {"Authorization": f"Bearer {sim.tokens[KEY]}"}
    costs: dict[str, Decimal] = {}
    at = start
    while at < end:
        upper = min(at + timedelta(hours=1), end) - timedelta(milliseconds=1)
        items = requests.get(f"{server.base_url}/call", headers=headers, timeout=30, params={
            "limit": 1000, "createdAtGe": at.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "createdAtLe": upper.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"}).json()
        assert len(items) < 1000
        costs.update({i["id"]: Decimal(repr(i["cost"])) for i in items if "cost" in i})
        at += timedelta(hours=1)
    return costs


def test_the_portal_cost_is_the_sum_of_the_upstream_per_call_costs(org_a, alice):
    with running_simulator(vapi_config(days=5)) as (sim, server):
        env = vapi_env(org_a, sim, server)
        assert not sync_environment(env, now=sim.now).failed
        tz = ZoneInfo(org_a.timezone)
        first, last = sim.start_date + timedelta(days=1), sim.today - timedelta(days=1)
        start = datetime.combine(first, time(), tz).astimezone(UTC)
        end = datetime.combine(last + timedelta(days=1), time(), tz).astimezone(UTC)
        upstream = _upstream_costs(sim, server, start, end)
        assert len(upstream) > 100

        client = Client()
        client.force_login(alice)
        summary = api_summary(client, "calls", env, first, last)
        totals = summary["totals"]
        assert Decimal(totals["vendor_cost"]) == sum(upstream.values())
        assert totals["costed"] == len(upstream)

        # Call by call: the explorer's CSV of the same period.
        listing = client.get(f"/o/{org_a.slug}/calls/", {
            "env": env.pk, "start": first.isoformat(), "end": last.isoformat(),
            "format": "csv"})
        assert listing.status_code == 200
        rows = list(csv.DictReader(io.StringIO(
            b"".join(listing.streaming_content).decode().lstrip("\ufeff"))))
        mirrored = {r["external_id"]: Decimal(r["vendor_cost"]) for r in rows
                    if r["vendor_cost"]}
        assert mirrored == upstream

        # The dashboard shows the same figure: its cost card, the outcome report's, says whose.
        page = client.get(f"/o/{org_a.slug}/", {
            "env": env.pk, "start": first.isoformat(), "end": last.isoformat()})
        assert page.status_code == 200
        shown = f"{sum(upstream.values()):,.2f}"
        html = page.content.decode()
        # Every call of the period priced by the vendor, and the card says so.
        assert f"Cost known for {len(upstream):,} of {len(upstream):,} calls (vendor " in html
        assert shown in html


def test_the_call_page_shows_what_vapi_sent(org_a, alice):
    with running_simulator(vapi_config(days=1)) as (sim, server):
        env = vapi_env(org_a, sim, server)
        sync_environment(env, now=sim.now)
        call = Call.objects.filter(environment=env, vendor_cost__gt=0,
                                   judgement_score__isnull=False).first()
        client = Client()
        client.force_login(alice)
        page = client.get(f"/o/{org_a.slug}/calls/{call.pk}/").content.decode()
        analysis = call.record["analysis"]
        for text in ("Cost", "(vendor)", "Ended reason", call.hangup_cause, "Analysis",
                     analysis["summary"], call.get_judgement_display(),
                     f"the vendor said “{analysis['successEvaluation']}”", "Appointment booked",
                     "Follow up needed"):
            assert text in page
        assert "appointmentBooked" not in page.split("Raw upstream record")[0]


def test_the_compatible_api_answers_a_clear_404_for_a_vapi_environment(org_a, alice):
    with running_simulator(vapi_config(days=1)) as (sim, server):
        env = vapi_env(org_a, sim, server)
        client = Client()
        client.force_login(alice)
        answer = client.get(f"/api/v1/environments/{env.pk}/calls")
        assert answer.status_code == 404
        assert answer.json()["success"] is False
        assert "Talkover-compatible" in answer.json()["message"]


def test_the_webhook_settings_give_vapi_its_address_and_secret(org_a, alice):
    with running_simulator(vapi_config(days=1)) as (sim, server):
        env = vapi_env(org_a, sim, server)
        client = Client()
        client.force_login(alice)
        url = reverse("settings-environment-webhooks", args=[org_a.slug, env.pk])
        page = client.get(url).content.decode()
        assert f"/hooks/vapi/{env.ensure_webhook_key()}/" in page
        assert "Vapi can call this address" in page and "Register on every agent" not in page
        # Registering is not offered, and not done when asked for all the same.
        assert client.post(url, {"action": "register"}).status_code == 400
