"""Anomaly alerts that know the week, over the simulator: six weeks of traffic at 400 calls
a day with two three-hour dips to a tenth (`simulate_upstream --dip`) — a Tuesday's
business hours and a Sunday afternoon, where an hour usually has about 15 calls — mirrored
by the sync; a volume anomaly rule previewed over four weeks fires once on each, from its
first hour, naming its start and end, and nowhere else (nights and Sundays are normal); an
answer-rate anomaly rule stays quiet; the live evaluation fires once on the Sunday's dip
and explains itself in the email, the webhook and the rule page, which shows the hours it
judges only in runs and previews the rule with the band it judged against; cold starts and
rates judged by their counts; the doors refuse what is not a rule."""
from __future__ import annotations

import importlib
import json
import re
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.test import Client, override_settings

from reports.alerts.evaluate import evaluate_rules
from reports.alerts.models import AlertRule
from reports.alerts.seasonal import binomial_tail, is_rate_anomaly, rate_band
from sync.engine import sync_environment
from sync.signals import demo_prepared
from sync.simulator import Dip, Simulator
from tests.reports.test_alerts import Receiver
from tests.support.processes import ROOT
from tests.support.sync_support import end_of, point_env, served, small_config

# Six weeks ending Tuesday 2026-03-10; org A is in Sao Paulo (UTC-3, no DST in 2026): the dips
# are Tuesday 2026-03-03 11:00–14:00 local (the business-hours peak) and Sunday 2026-03-08
# 14:00–17:00 local.
END = date(2026, 3, 10)
DIP = Dip.parse("2026-03-03T14:00Z/3h/0.1")
SUNDAY_DIP = Dip.parse("2026-03-08T17:00Z/3h/0.1")
PREVIEW = {"start_date": "2026-02-11", "end_date": "2026-03-10"}  # the last 28 days


@pytest.fixture(scope="module")
def simulator():
    config = small_config(days=42, calls_per_day=400, end_date=END, dips=(DIP, SUNDAY_DIP),
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
              "anomaly_direction": "below"}
    values.update(fields)
    return values


@pytest.mark.django_db(transaction=True)  # the sync writes from threads of its own
def test_six_weeks_with_two_dips_fire_once_on_each_and_explain_themselves(
        mirrored, alice, api_client_for, settings):
    client = api_client_for(alice)
    answer = client.post("/api/v1/alert-rules/preview/", {**rule_fields(mirrored), **PREVIEW},
                         format="json")
    assert answer.status_code == 200, answer.json()
    firings = answer.json()["firings"]
    # Once each, from its first hour to its last, and nowhere else in four weeks of nights,
    # Sundays and business hours.
    assert [(f["start"], f["end"]) for f in firings] == [
        ("2026-03-03T11:00:00-03:00", "2026-03-03T14:00:00-03:00"),
        ("2026-03-08T14:00:00-03:00", "2026-03-08T17:00:00-03:00")], firings
    for firing in firings:
        assert firing["value"] < firing["low"] < firing["expected"] < firing["high"]
    tuesday, sunday = firings
    # The sentence says the hours its row says: the whole firing, judged as one window.
    assert tuesday["explanation"].startswith("Tuesday 03/03/2026 11:00–14:00 "
                                             "(America/Sao_Paulo): ")
    assert sunday["explanation"].startswith("Sunday 03/08/2026 14:00–17:00 "
                                            "(America/Sao_Paulo): ")
    assert f"usually {round(tuesday['expected'])} (" in tuesday["explanation"]
    assert "over the last 4 weeks)" in tuesday["explanation"]
    assert sunday["expected"] < 60  # about 15 calls an hour, the quiet afternoon
    # Rates keep their shape in a dip: judged on their counts, they stay quiet (and so do
    # the other rates, in both directions).
    for metric, direction in (("answer_rate", "below"), ("no_answer_rate", "above"),
                              ("failed_rate", "above")):
        quiet = client.post("/api/v1/alert-rules/preview/", {**rule_fields(
            mirrored, metric=metric, anomaly_direction=direction, min_calls=10,
            threshold=0 if direction == "below" else 100), **PREVIEW}, format="json")
        assert quiet.status_code == 200 and quiet.json() == {"firings": []}, (metric, quiet.json())
    # A cold start (under three weeks of history) says so and falls back to the threshold.
    cold = client.post("/api/v1/alert-rules/preview/", {
        **rule_fields(mirrored, threshold=1000), "start_date": "2026-02-04",
        "end_date": "2026-02-04"}, format="json").json()["firings"]
    assert len(cold) == 1 and "only 1 week of history (3 needed)" in cold[0]["explanation"]

    # Live, on the Sunday: fires once, from the dip's first hour, by email and webhook,
    # explained with its hours; resolved when the hours are usual again.
    settings.DEBUG = True  # the receiver is plain http on loopback: DEBUG only
    receiver = Receiver()
    created = client.post("/api/v1/alert-rules/", {
        **rule_fields(mirrored), "name": "Volume", "emails": ["ops@example.com"],
        "language": "pt-br", "webhook_url": receiver.url}, format="json")
    assert created.status_code == 201, created.json()
    rule = AlertRule.objects.for_organization(mirrored.organization).get()
    assert rule.min_calls == 5  # an expected count, unless told
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"), \
            receiver.running():
        for hour in range(4):  # each hour's end, as the beat ticks
            evaluate_rules(SUNDAY_DIP.start + timedelta(hours=hour, minutes=65))
        # Past the mirror's edge: no verdict over unmirrored hours, the state stays.
        evaluate_rules(datetime(2026, 3, 12, 15, 5, tzinfo=UTC))
    rule.refresh_from_db()
    assert rule.state == "ok" and rule.last_reading["reason"] == "not_mirrored"
    firing_event, resolved = rule.events.order_by("seq")
    assert (firing_event.state, resolved.state) == ("firing", "resolved")
    assert firing_event.window_start == SUNDAY_DIP.start  # from its first hour
    assert firing_event.value < firing_event.low < firing_event.expected < firing_event.high
    bodies = [m.body for m in mail.outbox]
    assert len(bodies) == 2
    when = re.search(r"Domingo, 08/03/2026, 14:00–(\d\d):00 \(America/Sao_Paulo\): ", bodies[0])
    assert when and int(when.group(1)) == firing_event.window_end.astimezone(
        mirrored.organization.tzinfo).hour
    assert "normalmente" in bodies[0]
    (body,) = [json.loads(b) for _h, b in receiver.requests[:1]]
    assert body["value"] == firing_event.value and body["low"] == firing_event.low
    assert body["expected"] == firing_event.expected and body["high"] == firing_event.high
    assert body["explanation"].startswith("Domingo, 08/03/2026, 14:00–")

    # The rule page charts the hour against its band, says which hours it judges only in
    # runs, and previews itself with the band each firing was judged against.
    browser = Client()
    browser.force_login(alice)
    with time_machine.travel(datetime(2026, 3, 10, 23, 0, tzinfo=UTC), tick=False):
        page = browser.get(f"/o/org-a/settings/alerts/{rule.pk}/").content.decode()
        assert 'id="band-chart"' in page and "vendor/chartjs/chart.umd.min.js" in page
        assert "Sunday 03/08/2026 14:00–" in page
        quiet = page[page.index("Hours it judges"):page.index("</section>",
                                                               page.index("Hours it judges"))]
        assert "judged only together with the hours before them" in quiet
        assert re.search(r"Sunday[^;]* 0\d:00–0\d:00", quiet), quiet  # its quiet night
        assert 'name="preview"' in page and 'id="preview"' not in page
        shown = browser.get(f"/o/org-a/settings/alerts/{rule.pk}/?preview=1").content.decode()
        _assert_previewed(shown)
        # The demo's line names the firings' hours and the zone they are in.
        said = demo_prepared.send(sender=None, organization=mirrored.organization,
                                  environments=[mirrored])
    lines = [line for _r, lines in said for line in lines or []]
    assert any("2026-03-03 11:00–14:00 (America/Sao_Paulo)" in line for line in lines), lines

    # The form previews a rule before it is saved: no threshold needed, the window follows
    # the condition (1 h) and the minimum left as offered is the count's.
    form = {"name": "Volume 2", "environments": [mirrored.pk], "metric": "calls",
            "window": "day", "condition": "anomaly", "threshold": "", "sensitivity": "medium",
            "anomaly_direction": "below", "min_calls": "20", "severity": "warning",
            "language": "en", "enabled": "on", "webhook_format": "json", "preview": "1"}
    with time_machine.travel(datetime(2026, 3, 10, 23, 0, tzinfo=UTC), tick=False):
        shown = browser.post("/o/org-a/settings/alerts/new/", form)
    html = shown.content.decode()
    assert shown.status_code == 200, re.findall(r"errorlist.*?</span>", html)
    # In view: right after the Preview button, inside the form.
    after_button = html[html.index('name="preview" value="1"'):]
    assert after_button.index('id="preview"') < after_button.index("</form>")
    _assert_previewed(after_button)
    browser.force_login(alice)  # a session from March has expired by now
    saved = browser.post("/o/org-a/settings/alerts/new/", {
        key: value for key, value in form.items() if key != "preview"})
    assert saved.status_code == 302, saved.content.decode()[:3000]
    assert "/settings/alerts/" in saved["Location"], saved["Location"]
    again = AlertRule.objects.for_organization(mirrored.organization).get(name="Volume 2")
    assert (again.window, again.min_calls) == ("1h", 5)


def _assert_previewed(html: str) -> None:
    """The preview of the rule over its last 30 days: both dips, each row naming the hours
    of its sentence and the band it was judged against; the chart's series and bands."""
    assert "Would have fired 2 times in the last 30 days:" in html
    rows = re.findall(r"<tr><td>([^<]*)</td><td class=\"num\">([^<]*)</td>"
                      r"<td class=\"num\">([^<]*)</td><td class=\"nowrap\">([^<]*)</td></tr>",
                      html)
    assert [r[0] for r in rows] == ["Tuesday 03/03/2026 11:00–14:00 (America/Sao_Paulo)",
                                    "Sunday 03/08/2026 14:00–17:00 (America/Sao_Paulo)"]
    for when, _value, _usual, band in rows:
        assert re.fullmatch(r"[\d,]+ – [\d,]+", band), band
        assert f"<li>{when}: " in html
    chart = json.loads(re.search(r'<script id="preview-chart" type="application/json">'
                                 r"(.*?)</script>", html).group(1))
    series = chart["series"]
    assert len(series) > 24 * 20 and all({"t", "value", "low", "high"} <= set(p) for p in series)
    fired = [p["t"] for p in series if p["firing"]]
    assert fired == ["2026-03-03T11:00", "2026-03-03T12:00", "2026-03-03T13:00",
                     "2026-03-08T14:00", "2026-03-08T15:00", "2026-03-08T16:00"]
    busy = next(p for p in series if p["t"] == "2026-03-02T11:00")
    assert busy["low"] < busy["value"] < busy["high"]  # a usual hour inside its own band
    assert "js/alert_preview.js" in html or "preview-chart" in html


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


def test_anomaly_rules_on_calls_left_at_the_stored_default_expect_five_calls(env_a):
    from django.apps import apps

    migration = importlib.import_module("reports.migrations.0005_count_anomaly_min_calls")
    org = env_a.organization
    make = lambda **fields: AlertRule.objects.create(  # noqa: E731
        organization=org, name=str(fields), window="1h", threshold=0, **fields)
    left = make(metric="calls", condition="anomaly", min_calls=20)
    told = make(metric="calls", condition="anomaly", min_calls=12)
    rate = make(metric="answer_rate", condition="anomaly", min_calls=20)
    threshold = make(metric="calls", condition="below", min_calls=20)
    migration.counts_expect_five(apps, None)
    for rule, minimum in ((left, 5), (told, 12), (rate, 20), (threshold, 20)):
        rule.refresh_from_db()
        assert rule.min_calls == minimum, rule.name
