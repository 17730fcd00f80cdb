"""The demo shows everything and says little: a line per step (no migration lines, no logs),
Talkover and Origins AI environments, retention in force, an anomaly rule; and commands run
beside a serving demo write links to the port it serves on (`var/served.json`)."""
from __future__ import annotations

import io
import json
import os
import re
from datetime import timedelta

from django.core.management import call_command
from django.utils import timezone

from portal import served
from portal.models import Environment, Provider
from reports.models import AlertRule
from reports.queries.kpis import kpis_summary
from sync import demo
from sync.models import Call, PrivacyRetention
from sync.signals import demo_prepared


def test_the_demo_prints_a_line_per_step_and_logs_the_rest(db, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    out = io.StringIO()
    call_command("demo", no_upstream=True, stdout=out)
    lines = out.getvalue().splitlines()
    assert lines and all(line.startswith("· ") for line in lines), lines
    assert "Database ready" in lines[0] and "Applying" not in out.getvalue()
    assert (tmp_path / "demo.log").exists()
    org_retention = PrivacyRetention.objects.across_organizations().get(
        organization__slug="acme")
    assert org_retention.transcripts_days == 60  # retention in force, not inert


def test_the_demo_has_both_providers(org_a):
    sim, server = demo.start_upstream(calls_per_day=10, days=2)
    try:
        envs = demo.point_demo_environments(org_a, sim, server, days=2)
    finally:
        server.stop()
    assert {Provider.TALKOVER, Provider.ORIGINS} <= {e.provider for e in envs}
    origins = next(e for e in envs if e.provider == Provider.ORIGINS)
    assert origins.base_url == server.origins_url and origins.provider_settings["agent_ids"]


def test_the_demo_tour_adds_one_anomaly_rule(env_a):
    org = env_a.organization
    for _ in range(2):  # idempotent
        said = demo_prepared.send(sender=None, organization=org, environments=[env_a])
    rules = list(AlertRule.objects.for_organization(org))
    assert len(rules) == 1 and rules[0].condition == "anomaly"
    assert list(rules[0].environments.all()) == [env_a]
    assert any("would have fired" in line for _r, lines in said for line in lines or [])


def test_send_summaries_links_to_the_port_the_demo_serves_on(db, settings, tmp_path,
                                                             monkeypatch):
    monkeypatch.delenv("PORTAL_BASE_URL", raising=False)
    settings.VAR_DIR = tmp_path
    settings.PORTAL_BASE_URL = "http://127.0.0.1:8000"
    served.announce("http://127.0.0.1:8123")  # this process plays the serving demo
    call_command("send_summaries", dry_run=True, stdout=io.StringIO())
    assert settings.PORTAL_BASE_URL == "http://127.0.0.1:8123"
    # A file left by a demo that is gone is ignored.
    (tmp_path / "served.json").write_text(json.dumps({"base_url": "http://127.0.0.1:9999",
                                                      "pid": 2 ** 22 + 12345}))
    settings.PORTAL_BASE_URL = "http://127.0.0.1:8000"
    call_command("send_summaries", dry_run=True, stdout=io.StringIO())
    assert settings.PORTAL_BASE_URL == "http://127.0.0.1:8000"
    served.announce("http://127.0.0.1:8123")
    served.withdraw()
    assert not (tmp_path / "served.json").exists() and os.getpid()


def test_the_demo_tells_the_kpis_story(org_a, settings):
    """Vapi calls judged (by three rubrics), Origins AI insights, transfer and voicemail rates
    that move from week to week, and one agent whose "successful" callers come back."""
    settings.VAPI_REQUESTS_PER_MINUTE = 100000
    sim, server = demo.start_upstream(calls_per_day=60, days=21)
    try:
        envs = demo.point_demo_environments(org_a, sim, server, days=21)
        for env in envs:
            assert not demo.backfill_one(env)[0].failed
    finally:
        server.stop()
    said = demo_prepared.send(sender=None, organization=org_a, environments=[])
    line = next(line for _r, lines in said for line in lines or [] if line.startswith("KPIs"))
    assert re.search(r"transfer rate by week \d+%–\d+%, voicemail \d+%–\d+%", line), line
    # The rates move from week to week. The line rounds them to whole percents, which two
    # weeks (21 days of data on a Sunday) may share: the weeks' own rates are compared.
    today = timezone.localdate(timezone=org_a.tzinfo)
    weeks = [row for row in kpis_summary(list(Environment.objects.for_organization(org_a)),
                                         today - timedelta(days=27), today, "week").series
             if row.calls]
    assert len(weeks) >= 2, weeks
    for key in ("transfer_rate", "voicemail_rate"):
        assert len({getattr(row, key) for row in weeks}) > 1, (key, weeks)
    came_back = re.search(r"successful calls came back (\d+)%", line)
    assert came_back and int(came_back[1]) >= 50, line
    assert re.search(r"success rate \d+%", line) and "await their vendor's analysis" in line
    judged = Call.objects.filter(environment__organization=org_a).exclude(judgement="")
    assert {Provider.VAPI, Provider.ORIGINS} <= {c.environment.provider for c in judged}
    assert judged.filter(judgement_score__isnull=False).exists()  # a scored rubric too
