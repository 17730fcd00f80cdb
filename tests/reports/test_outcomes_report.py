"""The outcome report checked against the upstream: a Talkover workspace synced day by day
(as the beat would), its prices read once a day, a price change on the way; over the period
the report's cost equals the documented estimate computed call by call from the upstream's
own calls listing and the pricing it served each day, and its resolution equals a recount by
the rule from the same listing; CSV and JSON agree; a Vapi environment's cost is its own."""
from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
import requests
from django.test import Client
from django.utils import timezone, translation
from django.utils.formats import date_format

from portal.formatting import format_money
from reports.queries.outcomes import call_costs
from reports.summaries.figures import build_summary
from reports.summaries.render import build_message
from reports.summaries.schedule import Period
from reports.templatetags.drill_tags import local_day_of_utc
from reports.templatetags.summary_format import cost
from sync.engine import sync_environment
from sync.models import AgentPrice, Call
from sync.providers.talkover.simulator.api import PRICE_PERIOD_DAYS
from sync.simulator import running_simulator
from tests.support.factories import make_subscription
from tests.support.sync_support import ENV, point_env, small_config
from tests.support.vapi import api_summary, upstream_calls, vapi_config, vapi_env

pytestmark = pytest.mark.django_db(transaction=True)

SIX = Decimal("0.000001")
END = date(2026, 3, 13)  # the plan's price changes on 2026-03-12 (epoch day 20524 = 1466 × 14)


def _get(server, sim, path: str, params: dict | None = None) -> dict:
    answer = requests.get(f"{server.talkover_url}/{path}", params=params, timeout=30,
                          headers={"Authorization": f"Bearer {sim.tokens[ENV]}"})
    answer.raise_for_status()
    return answer.json()


def _upstream_calls(sim, server, first: date, last: date) -> list[dict]:
    calls, page = [], 1
    while True:
        body = _get(server, sim, "calls", {"date_from": first.isoformat(),
                                           "date_to": last.isoformat(), "per_page": 100,
                                           "page": page})
        calls.extend(body["data"])
        if page >= body["pagination"]["last_page"]:
            return calls
        page += 1


def _digits(number: str) -> str:
    return "".join(ch for ch in number if ch.isdigit())


def _expected(calls: list[dict], prices: dict[tuple[str, date], Decimal], local_days: set,
              tz, window: timedelta) -> dict:
    """The report's totals recounted from the upstream listing by the rule."""
    contacts = [c for c in calls if not c["is_testing"]]
    at = {c["id"]: datetime.fromisoformat(c["created_at"].replace("Z", "+00:00"))
          for c in contacts}

    def number(c: dict) -> str:
        return _digits(c["to"] if c["direction"] == "outbound" else c["from"])

    chosen = [c for c in contacts if at[c["id"]].astimezone(tz).date() in local_days]
    answered = [c for c in chosen if c["status"] in ("answered", "completed")]
    repeats = [c for c in answered if any(
        number(o) == number(c) and at[c["id"]] < at[o["id"]] < at[c["id"]] + window
        for o in contacts)]
    cost = sum((prices[(c["agent"]["id"], at[c["id"]].astimezone(UTC).date())]
                * c["duration"] / 60 for c in chosen), Decimal(0))
    return {"calls": len(chosen), "answered": len(answered), "settled": len(answered),
            "repeat_contacts": len(repeats), "resolved": len(answered) - len(repeats),
            "pending": 0, "cost": cost.quantize(Decimal("0.000001"))}


def test_cost_and_resolution_equal_a_recount_from_the_upstream(org_a, alice):
    config = small_config(days=4, calls_per_day=60, end_date=END)
    with running_simulator(config) as (sim, server):
        env = point_env(org_a, sim, server)
        agents = [a["id"] for a in _get(server, sim, "agents", {"per_page": 100})["data"]]
        prices: dict[tuple[str, date], Decimal] = {}
        day = END - timedelta(days=3)
        while day <= END:  # the beat's daily syncs, each at the end of its UTC day
            sim.set_now(datetime.combine(day, time(23, 59, 59), UTC))
            assert not sync_environment(env, now=sim.now).failed
            for agent in agents:
                served = _get(server, sim, f"agents/{agent}/pricing")["data"]
                prices[(agent, day)] = Decimal(str(served["estimated_cost_per_minute"]))
            day += timedelta(days=1)
        # One row per agent up to the change, one after it: kept with their dates.
        kept = AgentPrice.objects.filter(environment=env)
        assert {p.valid_from for p in kept} == {END - timedelta(days=3), date(2026, 3, 12)}
        assert (date(2026, 3, 12) - date(1970, 1, 1)).days % PRICE_PERIOD_DAYS == 0
        assert {(p.valid_from, p.checked_on) for p in kept} == {
            (END - timedelta(days=3), date(2026, 3, 11)), (date(2026, 3, 12), END)}

        client = Client()
        client.force_login(alice)
        first, last = END - timedelta(days=2), END - timedelta(days=1)  # whole local days
        params = {"environment": env.pk, "start_date": first.isoformat(),
                  "end_date": last.isoformat(), "interval": "day"}
        answer = client.get("/api/v1/reports/outcomes/", params)
        assert answer.status_code == 200, answer.content
        summary = answer.json()["summary"]
        totals = summary["totals"]
        assert all(row["calls"] is not None for row in summary["series"])
        upstream = _upstream_calls(sim, server, first - timedelta(days=1), END)
        expected = _expected(upstream, prices, {first, last}, org_a.tzinfo,
                             timedelta(days=org_a.resolution_window_days))
        got = {k: totals[k] for k in expected}
        got["cost"] = Decimal(str(got["cost"]))
        assert got == expected
        assert totals["cost_source"] == "estimate" and totals["currency"] == "USD"
        assert totals["repeat_contacts"] > 0 and totals["resolved"] > 0
        assert Decimal(str(totals["cost_per_resolved"])) == (
            expected["cost"] / expected["resolved"]).quantize(Decimal("0.000001"))

        # Call by call: each mirrored call's cost (the report's price rule, the call page's
        # figure) is the documented estimate of the upstream's call, labelled by the price's day.
        tz = org_a.tzinfo
        chosen = {c["id"]: c for c in upstream if not c["is_testing"] and datetime.fromisoformat(
            c["created_at"].replace("Z", "+00:00")).astimezone(tz).date() in (first, last)}
        mirrored = list(Call.objects.filter(environment=env, external_id__in=list(chosen)))
        assert len(mirrored) == len(chosen) == totals["calls"]
        costs = call_costs(mirrored)
        for call in mirrored:
            c, day = chosen[call.external_id], call.started_at.astimezone(UTC).date()
            assert costs[call.pk].cost.quantize(SIX) == (
                prices[(c["agent"]["id"], day)] * c["duration"] / 60).quantize(SIX), c
            assert costs[call.pk].source == "estimate"
            assert costs[call.pk].price_of == max(
                p.valid_from for p in kept if p.valid_from <= day)
        assert sum(c.cost for c in costs.values()).quantize(SIX) == expected["cost"]

        # The CSV's series says the same, period by period.
        listing = client.get("/api/v1/reports/outcomes/", {**params, "format": "csv"})
        assert listing.status_code == 200
        rows = list(csv.DictReader(io.StringIO(
            b"".join(listing.streaming_content).decode().lstrip("\ufeff"))))
        assert [r["start"] for r in rows] == [first.isoformat(), last.isoformat()]
        assert sum(int(r["resolved"]) for r in rows) == totals["resolved"]
        assert sum(Decimal(r["cost"]) for r in rows) == Decimal(str(totals["cost"]))
        assert all(r["cost_source"] == "estimate" for r in rows)

        # The Outcomes page shows the same figures; the agents page the price change.
        page = client.get(f"/o/{org_a.slug}/outcomes/", {
            "env": env.pk, "start": first.isoformat(), "end": last.isoformat()})
        assert page.status_code == 200
        text = page.content.decode()
        assert f"{totals['resolved']:,}" in text and "Cost per resolved call" in text
        assert "/calls/?" in text and "outcomes-data" in text
        agents_page = client.get(f"/o/{org_a.slug}/agents/", {
            "env": env.pk, "start": first.isoformat(), "end": last.isoformat()})
        assert "Prices" in agents_page.content.decode()
        assert "was US$\u00a00." in agents_page.content.decode()
        call = mirrored[0]
        shown = client.get(f"/o/{org_a.slug}/calls/{call.pk}/").content.decode()
        with translation.override("en"), timezone.override(org_a.tzinfo):
            # The price's UTC day, written as the local day it began on.
            price_day = date_format(local_day_of_utc(costs[call.pk].price_of),
                                    "SHORT_DATE_FORMAT")
            amount = format_money(costs[call.pk].cost, "USD", per_call=True)
        said = (f"estimate at the price read on {price_day}, the earliest"
                if costs[call.pk].early else f"estimate, price since {price_day}")
        assert f"{amount} <small>({said})</small>" in shown
        pt = client.get(f"/o/{org_a.slug}/outcomes/", {
            "env": env.pk, "start": first.isoformat(), "end": last.isoformat()},
            headers={"accept-language": "pt-br"})
        assert "Custo por chamada resolvida" in pt.content.decode()

        # The summary email of the same days says the same: every face, one figure.
        summary = build_summary(org_a, [env], Period(first, last))
        e = summary.outcomes.totals
        assert (e.cost, e.resolved, e.repeat_contacts) == (
            expected["cost"], expected["resolved"], expected["repeat_contacts"])
        message = build_message(make_subscription(org_a, addresses=["ops@example.com"]),
                                summary, "ops@example.com")
        with translation.override("en"):  # the subscription's language
            assert cost(e) in message.body and cost(e, "cost_per_resolved") in message.body
            assert cost(e) in text  # the page's cost card: the email's text


def test_the_outcome_report_is_tenant_scoped_and_strict(org_a, org_b, alice, carol):
    with running_simulator(small_config(days=1, calls_per_day=5)) as (sim, server):
        env = point_env(org_a, sim, server)
        client = Client()
        client.force_login(carol)
        assert client.get("/api/v1/reports/outcomes/",
                          {"environment": env.pk}).status_code == 404
        client.force_login(alice)
        bad = client.get("/api/v1/reports/outcomes/", {"environment": env.pk, "colour": "x"})
        assert bad.status_code == 400 and "colour" in bad.json()
        # Nothing mirrored yet: every day is a gap (null), never a zero.
        answer = client.get("/api/v1/reports/outcomes/", {"environment": env.pk})
        assert answer.status_code == 200
        assert all(row["calls"] is None and row["cost"] is None
                   for row in answer.json()["summary"]["series"])


def test_a_vapi_environment_costs_what_the_upstream_says_call_by_call(org_a, alice):
    with running_simulator(vapi_config(days=3)) as (sim, server):
        env = vapi_env(org_a, sim, server)
        assert not sync_environment(env, now=sim.now).failed
        first = last = sim.start_date + timedelta(days=1)
        tz = org_a.tzinfo
        start = datetime.combine(first, time(), tz).astimezone(UTC)
        upstream = upstream_calls(sim, server, start.date(), (start + timedelta(days=1)).date())
        costs = [Decimal(repr(c["cost"])) for c in upstream.values() if "cost" in c
                 and start <= datetime.fromisoformat(c["createdAt"].replace("Z", "+00:00"))
                 < start + timedelta(days=1)]
        assert len(costs) > 50
        client = Client()
        client.force_login(alice)
        summary = api_summary(client, "outcomes", env, first, last)
        totals = summary["totals"]
        assert Decimal(str(totals["cost"])) == sum(costs).quantize(Decimal("0.000001"))
        # Call by call: each mirrored call's cost is the upstream's own for it.
        mirrored = list(Call.objects.filter(environment=env, started_at__gte=start,
                                            started_at__lt=start + timedelta(days=1)))
        by_call = call_costs(mirrored)
        for call in mirrored:
            sent = upstream[call.external_id].get("cost")
            assert by_call[call.pk].cost == (None if sent is None else Decimal(repr(sent))
                                             ), call.external_id
            assert by_call[call.pk].source == (None if sent is None else "vendor")
        assert totals["cost_source"] == "vendor" and totals["vendor_costed"] == len(costs)
        vendors = summary["vendors"]
        assert [v["vendor"] for v in vendors] == ["vapi"]
