"""Anomaly alerts that know the week, over the simulator: six weeks of traffic with one
three-hour dip (`simulate_upstream --dip`), mirrored by the sync; a volume anomaly rule
previewed over four weeks fires on the dip and nowhere else (nights and Sundays are normal),
an answer-rate anomaly rule stays quiet; the live evaluation fires once on the dip and
explains itself in the email, the webhook and the rule page; cold starts and rates judged
by their counts; the doors refuse what is not a rule."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core import mail
from django.test import Client, override_settings

from reports.alerts.evaluate import evaluate_rules
from reports.alerts.models import AlertRule
from reports.alerts.seasonal import binomial_tail, count_band, is_rate_anomaly, rate_band
from sync.engine import sync_environment
from sync.simulator import Dip, Simulator
from tests.reports.test_alerts import Receiver
from tests.support.processes import ROOT
from tests.support.sync_support import end_of, point_env, served, small_config

# Six weeks ending Tuesday 2026-03-10; org A is in Sao Paulo (UTC-3, no DST in 2026): the dip
# is Tuesday 2026-03-03 11:00–14:00 local, the business-hours peak.
END = date(2026, 3, 10)
DIP = Dip.parse("2026-03-03T14:00Z/3h/0.1")
PREVIEW = {"start_date": "2026-02-11", "end_date": "2026-03-10"}  # the last 28 days


@pytest.fixture(scope="module")
def simulator():
    config = small_config(days=42, calls_per_day=300, end_date=END, dips=(DIP,),
                          bad_record_rate=0.0)
    with served(config) as (sim, server):
        yield sim, server


@pytest.fixture
def mirrored(org_a, simulator):
    sim, server = simulator
    env = point_env(org_a, sim, server)
    assert not sync_environment(env, now=end_of(END)).failed
    return env


def rule_fields(env, **fields) -> dict:
    values = {"environments": [env.pk], "metric": "calls", "window": "1h",
              "condition": "anomaly", "threshold": 0, "sensitivity": "medium",
              "anomaly_direction": "below", "min_calls": 10}
    values.update(fields)
    return values


@pytest.mark.django_db(transaction=True)  # the sync writes from threads of its own
def test_six_weeks_with_a_dip_fire_once_on_it_and_explain_themselves(
        mirrored, alice, api_client_for, settings):
    client = api_client_for(alice)
    answer = client.post("/api/v1/alert-rules/preview/", {**rule_fields(mirrored), **PREVIEW},
                         format="json")
    assert answer.status_code == 200, answer.json()
    firings = answer.json()["firings"]
    assert len(firings) == 1, firings
    (firing,) = firings
    assert firing["start"] == "2026-03-03T11:00:00-03:00"
    assert firing["end"] == "2026-03-03T14:00:00-03:00"  # the three hours, one firing
    assert firing["value"] < firing["low"] < firing["expected"] < firing["high"]
    assert firing["explanation"].startswith("Tuesday 03/03/2026 11:00–12:00 "
                                            "(America/Sao_Paulo): ")
    assert f"usually {firing['expected']:.0f} (" in firing["explanation"]
    assert "over the last 4 weeks)" in firing["explanation"]
    # Rates keep their shape in a dip: judged on their counts, they stay quiet (and so do
    # the other rates, in both directions).
    for metric, direction in (("answer_rate", "below"), ("no_answer_rate", "above"),
                              ("failed_rate", "above")):
        quiet = client.post("/api/v1/alert-rules/preview/", {**rule_fields(
            mirrored, metric=metric, anomaly_direction=direction,
            threshold=0 if direction == "below" else 100), **PREVIEW}, format="json")
        assert quiet.status_code == 200 and quiet.json() == {"firings": []}, (metric, quiet.json())
    # A cold start (under three weeks of history) says so and falls back to the threshold.
    cold = client.post("/api/v1/alert-rules/preview/", {
        **rule_fields(mirrored, threshold=1000), "start_date": "2026-02-04",
        "end_date": "2026-02-04"}, format="json").json()["firings"]
    assert len(cold) == 1 and "only 1 week of history (3 needed)" in cold[0]["explanation"]

    # Live: the hour after the dip's first hour fires once, by email and webhook, explained.
    settings.DEBUG = True  # the receiver is plain http on loopback: DEBUG only
    receiver = Receiver()
    rule = AlertRule(
        organization=mirrored.organization, name="Volume", metric="calls", window="1h",
        condition="anomaly", threshold=0, min_calls=10, emails=["ops@example.com"],
        language="pt-br", webhook_url=receiver.url)
    rule.new_webhook_secret()
    rule.save()
    rule.environments.set([mirrored])
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"), \
            receiver.running():
        evaluate_rules(DIP.start + timedelta(minutes=65))
        evaluate_rules(DIP.start + timedelta(minutes=70))
        evaluate_rules(DIP.end + timedelta(minutes=65))  # 14:00–15:00 local: usual again
        # Past the mirror's edge: no verdict over unmirrored hours, the state stays.
        evaluate_rules(datetime(2026, 3, 12, 15, 5, tzinfo=UTC))
    rule.refresh_from_db()
    assert rule.state == "ok" and rule.last_reading["reason"] == "not_mirrored"
    firing_event, resolved = rule.events.order_by("seq")
    assert (firing_event.state, resolved.state) == ("firing", "resolved")
    assert firing_event.value < firing_event.low < firing_event.expected < firing_event.high
    bodies = [m.body for m in mail.outbox]
    assert len(bodies) == 2
    assert "Terça-feira, 03/03/2026, 11:00–12:00 (America/Sao_Paulo): " in bodies[0]
    assert "normalmente" in bodies[0]
    (body,) = [json.loads(b) for _h, b in receiver.requests[:1]]
    assert body["value"] == firing_event.value and body["low"] == firing_event.low
    assert body["expected"] == firing_event.expected and body["high"] == firing_event.high
    assert body["explanation"].startswith("Terça-feira, 03/03/2026, 11:00–12:00 ")

    # The rule page charts the hour against its band and words the history; the form
    # previews a rule before it is saved.
    browser = Client()
    browser.force_login(alice)
    page = browser.get(f"/o/org-a/settings/alerts/{rule.pk}/").content.decode()
    assert 'id="band-chart"' in page and "vendor/chartjs/chart.umd.min.js" in page
    assert "Tuesday 03/03/2026 11:00–12:00 (America/Sao_Paulo): " in page
    # No threshold: the anomaly condition does not demand one.
    form = {"name": "Volume", "environments": [mirrored.pk], "metric": "calls", "window": "1h",
            "condition": "anomaly", "threshold": "", "sensitivity": "medium",
            "anomaly_direction": "below", "min_calls": "10", "severity": "warning",
            "language": "en", "enabled": "on", "webhook_format": "json", "preview": "1"}
    shown = browser.post("/o/org-a/settings/alerts/new/", form)
    html = shown.content.decode()
    assert shown.status_code == 200, re.findall(r"errorlist.*?</span>", html)
    assert "Would have fired 1 time in the last 30 days:" in html
    # In view: right after the Preview button, inside the form, with the series, its band
    # and the firing's hours and figures.
    after_button = html[html.index('name="preview" value="1"'):]
    assert after_button.index('id="preview"') < after_button.index("</form>")
    chart = json.loads(re.search(r'<script id="preview-chart" type="application/json">'
                                 r"(.*?)</script>", html).group(1))
    series = chart["series"]
    assert len(series) > 24 * 20 and all({"t", "value", "low", "high"} <= set(p) for p in series)
    fired = [p["t"] for p in series if p["firing"]]
    assert fired == ["2026-03-03T11:00", "2026-03-03T12:00", "2026-03-03T13:00"]
    dip = next(p for p in series if p["t"] == "2026-03-03T11:00")
    assert dip["value"] < dip["low"] < dip["high"]
    assert "js/alert_preview.js" in html and "03/03/2026 11:00" in after_button
    assert AlertRule.objects.for_organization(mirrored.organization).count() == 1


def test_a_dip_thins_its_hours_and_leaves_the_rest_alone():
    day = date(2026, 11, 18)
    plain = Simulator(small_config(days=3, calls_per_day=400, end_date=day))
    dipped = Simulator(small_config(days=3, calls_per_day=400, end_date=day,
                                    dips=(Dip.parse("2026-11-18T14:00Z/3h/0.1"),)))
    inside = lambda c: "14" <= c["created_at"][11:13] < "17"  # noqa: E731
    # Callbacks from the dip's start on may ring back other numbers: the missed calls they
    # answer (hours before) are partly gone with the outage.
    lines = {a["id"] for a in plain.truth.callback_agents("acme-sales")}
    later_callback = lambda c: c["agent"]["id"] in lines and \
        c["created_at"][11:13] >= "14"  # noqa: E731
    before = list(plain.truth.calls("acme-sales", day, day))
    after = list(dipped.truth.calls("acme-sales", day, day))
    kept_same = lambda calls: [c for c in calls if not inside(c)  # noqa: E731
                               and not later_callback(c)]
    assert kept_same(after) == kept_same(before)
    kept, was = sum(map(inside, after)), sum(map(inside, before))
    assert was > 50 and kept < was * 0.25
    assert dipped.truth.call_count("acme-sales", day, day) == len(after)


def test_the_simulator_command_takes_dips():
    out = subprocess.run(
        [sys.executable, "manage.py", "simulate_upstream", "--dip", "2026-11-18T14:00Z/3h/x"],
        cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode != 0 and "--dip: " in out.stderr and "START/HOURS/FACTOR" in out.stderr


def test_rates_are_judged_on_their_counts():
    weeks = [0.80, 0.82, 0.78, 0.81, 0.79, 0.80]  # 80 % of 100 calls each week
    band = rate_band(weeks, calls=5, k=4.0)
    assert not is_rate_anomaly(3, 5, 480, 600, band, below=True, alpha=1e-3)  # 3 of 5
    band = rate_band(weeks, calls=100, k=4.0)
    assert is_rate_anomaly(30, 100, 480, 600, band, below=True, alpha=1e-3)
    # No failure in 60 past calls, then 3 of 18: the past's own noise says "maybe".
    band = rate_band([0.0, 0.0, 0.0, 0.0], calls=18, k=4.0)
    assert not is_rate_anomaly(3, 18, 0, 60, band, below=False, alpha=1e-3)
    assert binomial_tail(3, 5, 0.8, lower=True) > 0.2
    assert binomial_tail(5000, 10000, 0.8, lower=True) < 1e-12  # the normal approximation
    quiet = count_band([2, 2, 2, 2, 2, 2], k=4.0)  # identical quiet weeks (MAD 0)
    assert quiet.low == 0.0 and quiet.high > 3


def test_the_preview_door_refuses_what_is_not_a_rule(cast, env_a, api_client_for):
    url = "/api/v1/alert-rules/preview/"
    good = {**rule_fields(env_a), **PREVIEW}
    alice = api_client_for(cast["alice"])
    assert alice.post(url, good, format="json").json() == {"firings": []}  # nothing mirrored
    for bad, field in (({"end_date": "2026-02-10"}, "end_date"),
                       ({"start_date": "2025-11-01"}, "end_date"),  # over 92 days
                       ({"start_date": "yesterday"}, "start_date"),
                       ({"condition": "below"}, "condition"),
                       ({"metric": "avg_talk_time"}, "metric"),
                       ({"metric": "callbacks_answered_rate"}, "metric"),
                       ({"window": "day"}, "window"),
                       ({"sensitivity": "extreme"}, "sensitivity"),
                       ({"anomaly_direction": "sideways"}, "anomaly_direction")):
        answer = alice.post(url, {**good, **bad}, format="json")
        assert answer.status_code == 400 and field in answer.json(), (bad, answer.json())
    assert api_client_for(cast["bob"]).post(url, good, format="json").status_code == 403
    stolen = api_client_for(cast["carol"]).post(url, good, format="json")
    assert stolen.status_code == 400 and "environments" in stolen.json()
