"""CSV cells cannot run.

Agent, source and environment names come from upstream and from users. In every CSV
export a cell that a spreadsheet would run as a formula is written with a leading `'`,
while phone numbers and negative numbers stay as they are. Every export goes through one
writer (`reports.exports.csv_lines`), so each export is checked here against the same data.
"""
from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone

from portal.models import Provider
from reports.exports import safe_cell
from reports.summaries.figures import build_summary
from reports.summaries.render import summary_csv
from reports.summaries.schedule import Period
from sync.models import Agent, CallbackSourceDay
from sync.write.quality_rollups import refresh_quality
from tests.support.cast import make_env
from tests.support.factories import make_agents, make_callback_days, make_calls

HOSTILE = ['=HYPERLINK("http://x")', "+cmd|' /C calc'!A0", "@SUM(1)", "-2+3", "\tTAB",
           "\rCR"]


@pytest.mark.parametrize("value,written", [
    ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
    ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
    ("@SUM(1)", "'@SUM(1)"),
    ("-2+3", "'-2+3"),
    ("\tTAB", "'\tTAB"),
    ("\rCR", "'\rCR"),
    ("+", "'+"),
    ("-", "'-"),
    ("-x", "'-x"),
    ("+5511987654321", "+5511987654321"),
    ("-2", "-2"),
    ("-0.5", "-0.5"),
    ("+1e3", "+1e3"),
    ("Agent 1", "Agent 1"),
    ("a=b", "a=b"),
    ("", ""),
    (-3, -3),
    (None, None),
    (1.5, 1.5),
])
def test_safe_cell(value, written):
    assert safe_cell(value) == written


def _hostile_agents(env, prefix: str) -> list[Agent]:
    agents = make_agents(env, len(HOSTILE), prefix=prefix)
    for agent, name in zip(agents, HOSTILE, strict=True):
        agent.name = name
    Agent.objects.bulk_update(agents, ["name"])
    return agents


@pytest.fixture
def hostile_data(env_a):
    """Org A with agents, callback sources and an environment named like formulas, and an
    Origins AI environment (the Quality report's) with such agents too."""
    env_a.name = '=HYPERLINK("http://env")'
    env_a.save(update_fields=["name"])
    today = timezone.localdate(timezone=env_a.organization.tzinfo)
    days = [today - timedelta(days=n) for n in range(5)]
    calls = make_calls(env_a, 120, days[-1], today, agents=_hostile_agents(env_a, "ag"),
                       seed=3)
    make_callback_days(env_a, days, sources=len(HOSTILE))
    for i, name in enumerate(HOSTILE, start=1):
        CallbackSourceDay.objects.filter(environment=env_a, source_agent_id=f"src-{i}").update(
            name=name)
    origins = make_env(env_a.organization, "Origins", "orig_token_1234567890abcdef",
                       provider=Provider.ORIGINS)
    make_calls(origins, 60, days[-1], today, agents=_hostile_agents(origins, "og"), seed=4)
    refresh_quality(origins, days)
    return env_a, calls


def _cells(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row]


def _assert_safe(text: str, expect: list[str]) -> None:
    cells = _cells(text)
    running = [c for c in cells if c and safe_cell(c) != c]
    assert not running, running
    for name in expect:
        assert "'" + name in cells, (name, cells[:40])


AGENTS = HOSTILE
SOURCES = HOSTILE
ENV = ['=HYPERLINK("http://env")']
RANGE = "range=7d"
API_RANGE = "__API_RANGE__"

# (url, names that must appear escaped). Every CSV export of the pages and the API.
EXPORTS = [
    (f"/o/org-a/?{RANGE}&format=csv&table=series", []),
    (f"/o/org-a/?{RANGE}&format=csv&table=days", []),
    (f"/o/org-a/?{RANGE}&format=csv&table=heatmap", []),
    (f"/o/org-a/?{RANGE}&format=csv&table=agents", AGENTS),
    (f"/o/org-a/callbacks/?{RANGE}&format=csv&table=days", []),
    (f"/o/org-a/callbacks/?{RANGE}&format=csv&table=sources", SOURCES),
    (f"/o/org-a/agents/?{RANGE}&format=csv", AGENTS),
    ("/o/org-a/calls/?format=csv", AGENTS + ENV),
    (f"/o/org-a/quality/?{RANGE}&format=csv&table=agents", AGENTS),
    (f"/o/org-a/quality/?{RANGE}&format=csv&table=days", []),
    (f"/o/org-a/quality/?{RANGE}&format=csv&table=breakdown", []),
    (f"/api/v1/reports/calls/?{API_RANGE}&format=csv&table=series", []),
    (f"/api/v1/reports/calls/?{API_RANGE}&format=csv&table=agents", AGENTS),
    (f"/api/v1/reports/calls/?{API_RANGE}&format=csv&table=heatmap", []),
    (f"/api/v1/reports/callbacks/?{API_RANGE}&format=csv&table=days", []),
    (f"/api/v1/reports/callbacks/?{API_RANGE}&format=csv&table=sources", SOURCES),
    (f"/api/v1/reports/quality/?{API_RANGE}&format=csv&table=agents", AGENTS),
    (f"/api/v1/reports/quality/?{API_RANGE}&format=csv&table=days", []),
    (f"/api/v1/reports/quality/?{API_RANGE}&format=csv&table=breakdown", []),
]


@pytest.mark.parametrize("url,expect", EXPORTS)
def test_export_escapes_formula_cells(hostile_data, alice, client, api_client_for, url,
                                      expect):
    env, _ = hostile_data
    today = timezone.localdate(timezone=env.organization.tzinfo)
    if "quality" in url:
        env = env.organization.environments.get(provider=Provider.ORIGINS)
    if url.startswith("/api/"):
        url = url.replace(API_RANGE, f"environment={env.pk}&start_date="
                          f"{(today - timedelta(days=6)).isoformat()}&end_date={today}")
        response = api_client_for(alice).get(url)
    else:
        client.force_login(alice)
        response = client.get(url)
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"].startswith("text/csv")
    _assert_safe(b"".join(response.streaming_content).decode("utf-8-sig"), expect)


def test_calls_export_keeps_phone_numbers(hostile_data, alice, client):
    env, calls = hostile_data
    client.force_login(alice)
    response = client.get("/o/org-a/calls/?format=csv")
    cells = _cells(b"".join(response.streaming_content).decode("utf-8-sig"))
    assert calls[0].from_number.startswith("+") and calls[0].from_number in cells


def test_summary_attachment_escapes_formula_cells(hostile_data):
    env, _ = hostile_data
    today = timezone.localdate(timezone=env.organization.tzinfo)
    summary = build_summary(env.organization, [env],
                            Period(today - timedelta(days=6), today))
    _assert_safe(summary_csv(summary), ENV)
