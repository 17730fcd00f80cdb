"""A Retell AI environment on the faces: its cost in the reports API is the sum of the
upstream's own `call_cost.combined_cost` (cents) over the period; its analysis feeds the KPIs
(judged, judged successful, transferred, voicemail) exactly as the upstream lists it; the call
page shows what Retell sent (erasure: `test_provider_faces.py`). The upstream is read
straight from the simulator's `POST /v3/list-calls`, never from the mirror."""
from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.test import Client

from sync.engine import sync_environment
from sync.models import Call
from sync.simulator import running_simulator
from tests.support.retell import retell_config, retell_env, upstream_calls
from tests.support.vapi import api_summary

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _unpaced(settings):
    settings.RETELL_REQUESTS_PER_MINUTE = 100000


def test_cost_and_analysis_figures_are_the_upstreams(org_a, alice):
    with running_simulator(retell_config(days=4)) as (sim, server):
        env = retell_env(org_a, sim, server)
        assert not sync_environment(env, now=sim.now).failed
        tz = ZoneInfo(org_a.timezone)
        first, last = sim.start_date + timedelta(days=1), sim.today - timedelta(days=1)
        start = datetime.combine(first, time(), tz).astimezone(UTC).timestamp() * 1000
        end = datetime.combine(last + timedelta(days=1), time(), tz).astimezone(UTC) \
            .timestamp() * 1000
        listed = [c for c in upstream_calls(sim, server).values()
                  if start <= c["start_timestamp"] < end]
        costs = [Decimal(repr(c["call_cost"]["combined_cost"])) / 100
                 for c in listed if "call_cost" in c]
        judged = [c["call_analysis"]["call_successful"] for c in listed if "call_analysis" in c]
        assert len(costs) > 100 and len(judged) > 100

        client = Client()
        client.force_login(alice)
        totals = api_summary(client, "calls", env, first, last)["totals"]
        assert Decimal(totals["vendor_cost"]) == sum(costs)
        assert totals["costed"] == len(costs)
        kpis = api_summary(client, "kpis", env, first, last)["totals"]
        reasons = [c.get("disconnection_reason") for c in listed]
        assert kpis["evaluated"] == len(judged)
        assert kpis["succeeded"] == sum(judged)
        assert kpis["transferred"] == reasons.count("call_transfer")
        assert kpis["voicemail"] == reasons.count("voicemail_reached")


def test_the_call_page_shows_what_retell_sent(org_a, alice):
    with running_simulator(retell_config(days=1)) as (sim, server):
        env = retell_env(org_a, sim, server)
        sync_environment(env, now=sim.now)
        call = Call.objects.filter(environment=env, vendor_cost__gt=0,
                                   judgement="succeeded").first()
        client = Client()
        client.force_login(alice)
        page = client.get(f"/o/{org_a.slug}/calls/{call.pk}/").content.decode()
        analysis = call.record["call_analysis"]
        for text in ("Disconnection reason", call.hangup_cause, "Caller sentiment",
                     analysis["user_sentiment"], analysis["call_summary"],
                     call.get_judgement_display()):
            assert text in page, text


def test_the_webhook_settings_say_retell_signs_with_its_api_key(org_a, alice):
    with running_simulator(retell_config(days=1)) as (sim, server):
        env = retell_env(org_a, sim, server)
        client = Client()
        client.force_login(alice)
        page = client.get(f"/o/{org_a.slug}/settings/environments/{env.pk}/webhooks/").text
        assert f"/hooks/retell/{env.ensure_webhook_key()}/" in page
        assert "the Retell AI API key with the webhook badge" in page
        assert 'value="new_secret"' not in page
